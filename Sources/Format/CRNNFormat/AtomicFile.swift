#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Replaces a file atomically: write a temporary file in the destination's
/// folder, `fsync` it, `rename` it over the destination, `fsync` the folder.
enum AtomicFile {
    /// Why one step failed, with `errno` text.
    struct Failure: Error {
        let reason: String
    }

    /// Writes `bytes` to `path`. `beforeRename` runs after the temporary file
    /// is complete and synced (tests use it to inject a failure). On any error
    /// the temporary file is removed and `path` is untouched.
    static func write(_ bytes: [UInt8], to path: String, beforeRename: () throws -> Void = {}) throws(Failure) {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp").path
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Failure(reason: "cannot create a temporary file in \(folder): \(errnoText())") }
        var closed = false
        do throws(Failure) {
            try writeAll(bytes, to: fd)
            guard fsync(fd) == 0 else { throw Failure(reason: "fsync failed: \(errnoText())") }
            closed = true
            guard close(fd) == 0 else { throw Failure(reason: "close failed: \(errnoText())") }
            do { try beforeRename() } catch { throw Failure(reason: "\(error)") }
            guard rename(temporary, path) == 0 else {
                throw Failure(reason: "cannot rename the temporary file over the destination: \(errnoText())")
            }
        } catch {
            if !closed { close(fd) }
            unlink(temporary)
            throw error
        }
        syncFolder(folder)
    }

    /// Writes every byte, retrying short writes and interrupts.
    private static func writeAll(_ bytes: [UInt8], to fd: Int32) throws(Failure) {
        let failure: Failure? = bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                guard let base = raw.baseAddress else { break }
                let written = Glibc.write(fd, base + done, raw.count - done)
                if written < 0 {
                    if errno == EINTR { continue }
                    return Failure(reason: "write failed: \(errnoText())")
                }
                done += written
            }
            return nil
        }
        if let failure { throw failure }
    }

    /// Makes the rename durable; a folder that cannot be synced is not an error
    /// (the file itself is already complete).
    private static func syncFolder(_ folder: String) {
        let fd = open(folder.isEmpty ? "." : folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }
}
