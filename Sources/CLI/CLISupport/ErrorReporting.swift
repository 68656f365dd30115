import ArgumentParser
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a command's body so that any error ends the program with one line on
/// standard error (`command: what is wrong`) and exit status 1, never a trap
/// or a stack of messages.
public func reportingErrors(_ command: String, _ body: () throws -> Void) throws {
    do {
        try body()
    } catch let exit as ExitCode {
        throw exit
    } catch {
        // One line, whatever the error: a multi-line description is joined with "; ".
        let lines = String(describing: error).split(whereSeparator: \.isNewline)
            .map(trimmingWhitespace).filter { !$0.isEmpty }
        StandardError.write("\(command): " + lines.joined(separator: "; "))
        throw ExitCode(1)
    }
}

/// `line` without the spaces and tabs at either end.
private func trimmingWhitespace(_ line: Substring) -> Substring {
    guard let first = line.firstIndex(where: { !$0.isWhitespace }),
          let last = line.lastIndex(where: { !$0.isWhitespace }) else { return "" }
    return line[first...last]
}

/// Writes lines to standard error.
public enum StandardError {
    /// Writes `text` and `terminator` to standard error, unbuffered.
    public static func write(_ text: String, terminator: String = "\n") {
        writeAll(2, text + terminator)
    }

    /// True when standard error is a terminal (for progress bars).
    public static var isTerminal: Bool { isatty(2) != 0 }
}

/// Writes to standard output without stdio's buffer (for a command's whole
/// output at once; do not mix with `print` in one run).
public enum StandardOutput {
    /// Writes `text` and `terminator` to standard output, unbuffered.
    public static func write(_ text: String, terminator: String = "\n") {
        writeAll(1, text + terminator)
    }
}

/// Writes every byte of `text` to `descriptor`, resuming short writes; stops
/// silently when the descriptor refuses (a closed pipe, a full disk).
private func writeAll(_ descriptor: Int32, _ text: String) {
    let bytes = Array(text.utf8)
    bytes.withUnsafeBytes { raw in
        guard let base = raw.baseAddress else { return }
        var offset = 0
        while offset < raw.count {
            let written = write(descriptor, base + offset, raw.count - offset)
            if written <= 0 { return }
            offset += written
        }
    }
}
