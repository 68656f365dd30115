import ArgumentParser
import Synchronization
import SystemShim

/// Runs a command's body so that any error ends the program with one line on
/// standard error (`command: what is wrong`) and exit status 1, never a trap
/// or a stack of messages. The line is kept one line by escaping control
/// characters (a path with a newline shows `\n`).
///
/// A failed write to standard output is such an error; a closed pipe on
/// standard output (`| head -1`) ends the program quietly, as SIGPIPE ends the
/// usual Unix tools. When standard error itself could not be written (a full
/// disk, a closed descriptor), the exit status is 1 even if the body
/// succeeded.
/// - Throws: `ExitCode(1)` after reporting an error, or the `ExitCode` the
///   body threw.
public func reportingErrors(_ command: String, _ body: () throws -> Void) throws {
    do {
        try body()
    } catch let exit as ExitCode {
        throw exit
    } catch OutputError.closedPipe {
        endAsForClosedPipe()
    } catch {
        StandardError.write("\(command): " + String(describing: error).escapingControlCharacters)
        throw ExitCode(1)
    }
    if StandardError.hasFailed { throw ExitCode(1) }
}

/// The warning line for a model whose `tensors` hold NaN or infinite
/// weights: it still converts and runs, but its outputs are not numbers.
public func nonFiniteWarning(command: String, file: String, tensors: [String]) -> String {
    ("\(command): warning: \(file): NaN or infinite weights in \(tensors.joined(separator: ", ")); "
        + "used as they are, but the model's outputs will not be numbers").escapingControlCharacters
}

extension String {
    /// The text with every control character escaped (`\n`, `\t`, `\r`,
    /// `\u{1B}`, ...; a backslash stays as it is): for a path shown inside a
    /// one-line message or a FILE<TAB>TEXT line, where a raw newline or tab
    /// would break the line apart.
    public var escapingControlCharacters: String {
        var out = ""
        for scalar in unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.properties.generalCategory == .control {
                    out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}

/// Why a command's output could not be written.
public enum OutputError: Error, Equatable, CustomStringConvertible {
    /// The reader of the pipe on standard output has gone (`| head -1`):
    /// not reported, the program ends quietly.
    case closedPipe
    /// Writing standard output failed (a full disk, `/dev/full`, a closed
    /// descriptor); `reason` is the system's (`strerror`).
    case writeFailed(stream: String, reason: String)

    public var description: String {
        switch self {
        case .closedPipe: "standard output: the reading end of the pipe is closed"
        case let .writeFailed(stream, reason): "cannot write to \(stream): \(reason); the output is incomplete"
        }
    }
}

/// Ends the program as SIGPIPE ends the usual Unix tools: quietly, killed by
/// that signal (exit status 141 in a shell), whatever this process had set
/// for it.
func endAsForClosedPipe() -> Never {
    signal(SIGPIPE, SIG_DFL)
    var signals = sigset_t()
    sigemptyset(&signals)
    sigaddset(&signals, SIGPIPE)
    sigprocmask(SIG_UNBLOCK, &signals, nil)
    raise(SIGPIPE)
    exit(128 + SIGPIPE)
}

/// Writes lines to standard error.
public enum StandardError {
    /// Set once a write to standard error has failed.
    private static let failed = Atomic<Bool>(false)

    /// Writes `text` and `terminator` to standard error, unbuffered. A
    /// failure cannot be reported anywhere, so it is remembered:
    /// `reportingErrors` then ends the program with status 1.
    public static func write(_ text: String, terminator: String = "\n") {
        if writeAll(2, text + terminator) != nil { failed.store(true, ordering: .relaxed) }
    }

    /// True once a write to standard error has failed in this process.
    public static var hasFailed: Bool { failed.load(ordering: .relaxed) }

    /// True when standard error is a terminal (for progress bars).
    public static var isTerminal: Bool { isatty(2) != 0 }
}

/// Writes to standard output without stdio's buffer (for a command's whole
/// output at once; do not mix with `print` in one run).
public enum StandardOutput {
    /// Writes `text` and `terminator` to standard output, unbuffered.
    /// - Throws: `OutputError.closedPipe` when the pipe's reader has gone,
    ///   `OutputError.writeFailed` for any other failure (some of the text
    ///   may have been written).
    public static func write(_ text: String, terminator: String = "\n") throws(OutputError) {
        guard let code = writeAll(1, text + terminator) else { return }
        if code == EPIPE { throw .closedPipe }
        throw .writeFailed(stream: "standard output", reason: String(cString: strerror(code)))
    }
}

/// Writes every byte of `text` to `descriptor`, resuming short and
/// interrupted writes.
/// - Returns: `nil` when all was written, else the `errno` of the write that failed.
private func writeAll(_ descriptor: Int32, _ text: String) -> Int32? {
    let bytes = Array(text.utf8)
    return bytes.withUnsafeBytes { raw -> Int32? in
        guard let base = raw.baseAddress else { return nil }
        var offset = 0
        while offset < raw.count {
            let written = write(descriptor, base + offset, raw.count - offset)
            if written < 0 && errno == EINTR { continue }
            if written < 0 { return errno }
            // write(2) returns 0 only for a request of 0 bytes; never loop on it.
            if written == 0 { return EIO }
            offset += written
        }
        return nil
    }
}
