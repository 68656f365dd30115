import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
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
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        StandardError.write("\(command): " + lines.joined(separator: "; "))
        throw ExitCode(1)
    }
}

/// Writes lines to standard error.
public enum StandardError {
    /// Writes `line` and a newline to standard error.
    public static func write(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        bytes.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            var offset = 0
            while offset < raw.count {
                let written = Glibc.write(2, base + offset, raw.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }

    /// True when standard error is a terminal (for progress bars).
    public static var isTerminal: Bool { isatty(2) != 0 }
}
