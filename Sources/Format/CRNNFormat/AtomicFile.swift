import SystemShim
import Dispatch

/// Replaces a file atomically: write a temporary file in the destination's
/// folder, `fsync` it, `rename` it over the destination, `fsync` the folder.
///
/// The destination must be a new name, a regular file (whose permission
/// bits the new file keeps) or a symbolic link, which is itself replaced by
/// the new file (what it points to is left alone). Anything else there (a
/// folder, FIFO, socket or device) is refused before anything is created, as
/// is a name ending in `/`. SIGINT, SIGTERM and SIGHUP during the write
/// remove the temporary file (see `InterruptCleanup`).
enum AtomicFile {
    /// Why one step failed, with `errno` text.
    struct Failure: Error {
        let reason: String
        /// The error the caller's `check` threw, when that is what failed.
        var checkError: (any Error)?
        /// Set when the destination itself was refused, before anything was written.
        var refusal: Refusal?
    }

    /// Why a destination is refused.
    enum Refusal: Equatable {
        /// Something other than a regular file or a symbolic link is there:
        /// `kind` says what ("a directory", "a FIFO", ...).
        case notARegularFile(kind: String)
        /// The name ends with `/`, so it names a folder.
        case folderName
    }

    /// Writes `bytes` to `path`, as `write(to:check:contents:)` does.
    static func write(_ bytes: [UInt8], to path: String, check: (String) throws -> Void = { _ in }) throws(Failure) {
        try write(to: path, check: check) { output throws(Failure) in
            try withBytes(bytes) { raw throws(Failure) in try output.append(raw) }
        }
    }

    /// Creates a temporary file beside `path`, lets `contents` write it
    /// through an `Output`, then syncs and renames it over `path`.
    /// `check(temporaryPath)` runs on the complete temporary file while
    /// another thread syncs it (reading it back costs no extra time then);
    /// the rename waits for both. On any error, a throwing `check` included,
    /// the temporary file is removed and `path` is untouched.
    /// - Throws: `Failure`, with `refusal` set when `path` is not a
    ///   destination this replaces (see the type's documentation).
    static func write(
        to path: String, check: (String) throws -> Void = { _ in }, contents: (Output) throws(Failure) -> Void
    ) throws(Failure) {
        let destination = try Destination(path)
        let temporary = destination.temporaryPath()
        try InterruptCleanup.protecting(temporary) { () throws(Failure) in
            try write(destination, through: temporary, check: check, contents: contents)
        }
        syncFolder(destination.folder)
    }

    private static func write(
        _ destination: Destination, through temporary: String, check: (String) throws -> Void,
        contents: (Output) throws(Failure) -> Void
    ) throws(Failure) {
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Failure(reason: "cannot create a temporary file in \(destination.folder): \(errnoText())") }
        var closed = false
        let output = Output(fd: fd)
        do throws(Failure) {
            if let mode = destination.keptMode, fchmod(fd, mode) != 0 {
                throw Failure(reason: "cannot give the new file the permissions of the old one: \(errnoText())")
            }
            try contents(output)
            try output.flush()
            let sync = BackgroundSync(fd)
            var checkError: (any Error)?
            do { try check(temporary) } catch { checkError = error }
            let syncError = sync.wait()
            let earlyError = output.finishEarlySync()
            if let checkError { throw Failure(reason: "\(checkError)", checkError: checkError) }
            for error in [syncError, earlyError] where error != 0 {
                throw Failure(reason: "fsync failed: \(String(cString: strerror(error)))")
            }
            closed = true
            guard close(fd) == 0 else { throw Failure(reason: "close failed: \(errnoText())") }
            // Whatever took the name meanwhile is held to the same rule.
            _ = try Destination(destination.path)
            guard rename(temporary, destination.path) == 0 else {
                throw Failure(reason: "cannot rename the temporary file over the destination: \(errnoText())")
            }
        } catch {
            if !closed {
                _ = output.finishEarlySync()  // no sync may outlive the descriptor
                close(fd)
            }
            unlink(temporary)
            throw error
        }
    }

    /// A path to write, checked: its folder, its last component, and the
    /// permission bits of the regular file it replaces.
    struct Destination {
        let path: String
        /// The folder the temporary file goes in ("." for a bare name).
        let folder: String
        /// The last path component.
        let name: String
        /// The permission bits of the regular file at `path`; `nil` for a
        /// new name or a symbolic link.
        let keptMode: mode_t?

        /// The longest file name the temporary file may have: Linux's
        /// NAME_MAX (a component of 255 bytes or fewer always fits).
        static let nameLimit = 255

        /// Checks `path` as a destination.
        /// - Throws: `Failure` with `refusal` set for a name ending in `/`
        ///   or anything but a regular file or symbolic link at `path`.
        init(_ path: String) throws(Failure) {
            var info = stat()
            let found = lstat(path, &info) == 0
            guard !path.hasSuffix("/") || (found && info.st_mode & S_IFMT == S_IFDIR) else {
                throw Failure(reason: "the name ends with '/', which names a folder", refusal: .folderName)
            }
            if found {
                switch info.st_mode & S_IFMT {
                case S_IFREG: keptMode = info.st_mode & 0o7777
                case S_IFLNK: keptMode = nil
                case let type:
                    let kind = Self.kinds[type] ?? "not a regular file"
                    throw Failure(reason: "\(kind), not a regular file", refusal: .notARegularFile(kind: kind))
                }
            } else {
                keptMode = nil
            }
            self.path = path
            if let slash = path.lastIndex(of: "/") {
                folder = slash == path.startIndex ? "/" : String(path[..<slash])
                name = String(path[path.index(after: slash)...])
            } else {
                folder = "."
                name = path
            }
        }

        private static let kinds: [mode_t: String] = [
            S_IFDIR: "a directory", S_IFIFO: "a FIFO", S_IFSOCK: "a socket", S_IFCHR: "a character device",
            S_IFBLK: "a block device",
        ]

        /// `.NAME.RANDOM.tmp` in the destination's folder, `NAME` cut (at a
        /// character boundary) so that the whole stays within `nameLimit`.
        func temporaryPath() -> String {
            let random = String(UInt64.random(in: 0..<(1 << 48)), radix: 16)
            let suffix = "." + String(repeating: "0", count: 12 - random.count) + random + ".tmp"
            var kept = Substring(name)
            while 1 + kept.utf8.count + suffix.utf8.count > Self.nameLimit { kept = kept.dropLast() }
            let file = "." + kept + suffix
            return folder == "." ? file : folder == "/" ? "/" + file : folder + "/" + file
        }
    }

    /// `fsync(fd)` on a global queue, so the caller can work meanwhile.
    private final class BackgroundSync: @unchecked Sendable {
        // `errorNumber` is written once by the worker before it signals
        // `finished` and read only after waiting on it: the semaphore orders the two.
        private let finished = DispatchSemaphore(value: 0)
        private var errorNumber: Int32 = 0
        private var ended = false

        init(_ fd: Int32) {
            DispatchQueue.global(qos: .userInitiated).async {
                if fsync(fd) != 0 { self.errorNumber = errno }
                self.finished.signal()
            }
        }

        /// True once the sync has ended; never blocks.
        var hasEnded: Bool {
            if !ended && finished.wait(timeout: .now()) == .success { ended = true }
            return ended
        }

        /// Waits for the sync; 0 when it succeeded, else its `errno`.
        func wait() -> Int32 {
            if !ended {
                finished.wait()
                ended = true
            }
            return errorNumber
        }
    }

    /// Sequential writes to the temporary file: small pieces are gathered in
    /// a buffer, large ones go straight to the file; `overwrite` patches bytes
    /// already written (the checksum, once everything else is out).
    ///
    /// Every `earlySyncInterval` bytes written, an `fsync` starts on another
    /// thread (one at a time), so the disk takes what is already out while
    /// the rest is produced and the final `fsync` waits only for the tail.
    /// Durability still comes from that final `fsync`; an early one that
    /// fails fails the write all the same.
    final class Output {
        /// Pieces at least this large are written directly, not gathered.
        static let bufferSize = 1 << 16
        /// Bytes written between the starts of two early syncs.
        static let earlySyncInterval = 4 << 20
        private let fd: Int32
        private var pending: [UInt8] = []
        private var unsynced = 0
        private var earlySync: BackgroundSync?
        private var earlyError: Int32 = 0

        fileprivate init(fd: Int32) {
            self.fd = fd
            pending.reserveCapacity(Self.bufferSize)
        }

        /// Appends `bytes` at the end of the file.
        func append(_ bytes: UnsafeRawBufferPointer) throws(Failure) {
            if pending.count + bytes.count <= Self.bufferSize {
                pending.append(contentsOf: bytes)
                return
            }
            try flush()
            if bytes.count >= Self.bufferSize {
                try AtomicFile.writeAll(bytes, to: fd, at: nil)
                wrote(bytes.count)
            } else {
                pending.append(contentsOf: bytes)
            }
        }

        /// Writes `bytes` at `offset`, which must lie within what was appended.
        func overwrite(_ bytes: [UInt8], at offset: Int) throws(Failure) {
            try flush()
            try AtomicFile.withBytes(bytes) { raw throws(Failure) in try AtomicFile.writeAll(raw, to: fd, at: offset) }
        }

        /// Writes out the gathered bytes.
        func flush() throws(Failure) {
            guard !pending.isEmpty else { return }
            try AtomicFile.withBytes(pending) { raw throws(Failure) in try AtomicFile.writeAll(raw, to: fd, at: nil) }
            wrote(pending.count)
            pending.removeAll(keepingCapacity: true)
        }

        /// Waits for the early sync still running, if any.
        /// - Returns: 0, or the `errno` of the first early sync that failed.
        fileprivate func finishEarlySync() -> Int32 {
            if let running = earlySync {
                earlySync = nil
                let error = running.wait()
                if earlyError == 0 { earlyError = error }
            }
            return earlyError
        }

        /// Counts written bytes; starts an early sync when enough are out and
        /// the previous one has ended.
        private func wrote(_ count: Int) {
            unsynced += count
            guard unsynced >= Self.earlySyncInterval, earlySync?.hasEnded ?? true else { return }
            _ = finishEarlySync()
            earlySync = BackgroundSync(fd)
            unsynced = 0
        }
    }

    /// Writes every byte at the file position (or at `offset` with `pwrite`),
    /// retrying short writes and interrupts.
    private static func writeAll(_ raw: UnsafeRawBufferPointer, to fd: Int32, at offset: Int?) throws(Failure) {
        guard let base = raw.baseAddress else { return }
        var done = 0
        while done < raw.count {
            let written = if let offset {
                pwrite(fd, base + done, raw.count - done, off_t(offset + done))
            } else {
                systemWrite(fd, base + done, raw.count - done)
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw Failure(reason: "write failed: \(errnoText())")
            }
            done += written
        }
    }

    /// `bytes.withUnsafeBytes(body)`, keeping `body`'s error type.
    private static func withBytes(
        _ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws(Failure) -> Void
    ) throws(Failure) {
        let failure: Failure? = bytes.withUnsafeBytes { raw in
            do throws(Failure) { try body(raw) } catch { return error }
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
