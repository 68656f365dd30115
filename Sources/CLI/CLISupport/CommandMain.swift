import ArgumentParser
import SystemShim

extension ParsableCommand {
    /// Parses the program's arguments and runs the command, as `main()`
    /// does, but writes help, usage and error text with `StandardOutput` and
    /// `StandardError`: `--help` into a full disk or a closed descriptor is a
    /// one-line error and exit status 1 (ArgumentParser's `print` would drop
    /// it and exit 0), into a closed pipe a quiet end, as for results.
    public static func mainCheckingOutput() -> Never {
        do {
            var command = try parseAsRoot()
            try command.run()
            terminate(StandardError.hasFailed ? 1 : 0)
        } catch {
            let code = exitCode(for: error)
            let text = fullMessage(for: error)
            if !text.isEmpty {
                if code == .success {
                    do {
                        try StandardOutput.write(text)
                    } catch OutputError.closedPipe {
                        endAsForClosedPipe()
                    } catch {
                        StandardError.write("\(configuration.commandName ?? "command"): \(error)")
                        terminate(1)
                    }
                } else {
                    StandardError.write(text)
                }
            }
            terminate(StandardError.hasFailed && code == .success ? 1 : code.rawValue)
        }
    }
}

/// Ends the process with `status` (C's `exit`, which ArgumentParser's
/// `exit(withError:)` hides inside a command's extension).
private func terminate(_ status: Int32) -> Never {
    exit(status)
}
