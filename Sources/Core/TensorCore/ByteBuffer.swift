import SystemShim

/// An immutable run of bytes with a single owner: heap memory it allocated
/// (for a small file, the file's bytes read into it), or a read-only memory
/// map that it unmaps when the last reference goes.
///
/// Tensors, storages and model weights all point into a `ByteBuffer`, so a
/// mapped file stays mapped exactly as long as something still reads it. A
/// mapped file that another process changes is noticed, never a signal: see
/// `mapping(path:)` and `checkUnchanged()`.
public final class ByteBuffer: @unchecked Sendable {
    /// The first byte, or `nil` for an empty buffer.
    public let baseAddress: UnsafeRawPointer?
    /// The number of bytes.
    public let count: Int
    /// True for a memory-mapped file (its pages can be dropped and re-read).
    public let isMapped: Bool
    private let release: (@Sendable () -> Void)?
    /// The file a mapping shows, for `checkUnchanged()`; `nil` for memory.
    private let identity: FileIdentity?

    /// Copies `bytes` into freshly allocated memory.
    public init(copying bytes: some Collection<UInt8>) {
        count = bytes.count
        if count == 0 {
            baseAddress = nil
            isMapped = false
            identity = nil
            release = nil
            return
        }
        isMapped = false
        identity = nil
        let memory = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 64)
        let typed = memory.bindMemory(to: UInt8.self, capacity: count)
        _ = UnsafeMutableBufferPointer(start: typed, count: count).initialize(from: bytes)
        baseAddress = UnsafeRawPointer(memory)
        let address = Int(bitPattern: memory)
        release = { UnsafeMutableRawPointer(bitPattern: address)?.deallocate() }
    }

    /// Takes ownership of `count` bytes at `pointer`; `release` runs once, when
    /// the buffer is freed.
    public convenience init(adopting pointer: UnsafeRawPointer?, count: Int, release: (@Sendable () -> Void)?) {
        self.init(adopting: pointer, count: count, isMapped: false, release: release)
    }

    private init(
        adopting pointer: UnsafeRawPointer?, count: Int, isMapped: Bool, identity: FileIdentity? = nil,
        release: (@Sendable () -> Void)?
    ) {
        self.baseAddress = count == 0 ? nil : pointer
        self.count = count
        self.isMapped = isMapped
        self.identity = identity
        self.release = release
    }

    deinit { release?() }

    /// Calls `body` with the buffer's bytes.
    @inlinable
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: baseAddress, count: count))
    }

    /// The whole buffer as a slice.
    public var slice: ByteSlice { ByteSlice(unchecked: self, offset: 0, count: count) }

    /// Reads the regular file at `path` into memory of its own, so that
    /// nothing another process later does to the file (truncating or
    /// rewriting it) can reach the bytes, or raise a signal as a memory map
    /// would. The path is checked with `stat` before it is opened, and opened
    /// with `O_NONBLOCK`: a FIFO, socket or device is refused at once, never
    /// opened or waited on. The size and modification time are compared
    /// before and after the read; an empty file gives an empty buffer.
    /// - Parameter limit: reads at most this many bytes from the start (no
    ///   change check then, since the rest is not read).
    /// - Throws: `TensorCoreError.fileAccess` when the file cannot be opened
    ///   or read or is not a regular file, `TensorCoreError.changedWhileRead`
    ///   when its size or modification time moved during the read, or it
    ///   ended early.
    package static func reading(path: String, limit: Int = .max) throws -> ByteBuffer {
        try reading(path: path, limit: limit, afterChunk: { _ in })
    }

    /// Bytes read by one `read` call of `reading(path:)`.
    static let readChunk = 1 << 22

    /// `reading(path:limit:)`, calling `afterChunk(bytesSoFar)` after each
    /// chunk is read (for tests that change the file in the middle).
    static func reading(path: String, limit: Int, afterChunk: (Int) -> Void) throws -> ByteBuffer {
        let (fd, before) = try openRegular(path)
        defer { close(fd) }
        let partial = limit < Int(before.st_size)
        let size = min(Int(before.st_size), max(limit, 0))
        let buffer = try size == 0 ? ByteBuffer(adopting: nil, count: 0, release: nil) : anonymous(size, for: path)
        let memory = UnsafeMutableRawPointer(mutating: buffer.baseAddress)
        var filled = 0
        while filled < size, let memory {
            let got = read(fd, memory + filled, min(size - filled, readChunk))
            if got < 0 {
                if errno == EINTR { continue }
                throw TensorCoreError.fileAccess(path: path, reason: "read failed: \(errnoText())")
            }
            guard got > 0 else { throw TensorCoreError.changedWhileRead(path: path) }
            filled += got
            afterChunk(filled)
        }
        if partial { return buffer }
        // Nothing may follow the bytes the size promised, and the file must still be the one first seen.
        var probe: UInt8 = 0
        var after = stat()
        guard read(fd, &probe, 1) == 0, fstat(fd, &after) == 0, after.st_size == before.st_size,
              after.st_mtim.tv_sec == before.st_mtim.tv_sec, after.st_mtim.tv_nsec == before.st_mtim.tv_nsec else {
            throw TensorCoreError.changedWhileRead(path: path)
        }
        return buffer
    }

    /// `size` (> 0) bytes of anonymous memory, its pages made present at
    /// once: cheaper than faulting them in one by one while a file is read
    /// into them.
    private static func anonymous(_ size: Int, for path: String) throws -> ByteBuffer {
        guard let memory = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0),
              memory != MAP_FAILED else {
            throw TensorCoreError.fileAccess(path: path, reason: "cannot allocate \(size) bytes: \(errnoText())")
        }
        let address = Int(bitPattern: memory)
        return ByteBuffer(adopting: UnsafeRawPointer(memory), count: size, isMapped: false) {
            _ = munmap(UnsafeMutableRawPointer(bitPattern: address), size)
        }
    }

    /// Maps the regular file at `path` read-only, guarded: the path is
    /// checked with `stat` before it is opened, and opened with `O_NONBLOCK`,
    /// so a FIFO, socket or device is refused at once, never opened or
    /// waited on. Should another process truncate the file while it is
    /// mapped, reads past the new end see zeros instead of raising SIGBUS
    /// (see `MappingGuard`), and `checkUnchanged()` reports it, as it reports
    /// any change of the file's size or modification time; callers check once
    /// they are done reading. An empty file gives an empty buffer. When every
    /// guard slot is taken, the file is read (`reading(path:)`) instead.
    /// - Throws: `TensorCoreError.fileAccess` when the file cannot be opened,
    ///   is not a regular file, or cannot be mapped.
    package static func mapping(path: String) throws -> ByteBuffer {
        let (fd, info) = try openRegular(path)
        let size = Int(info.st_size)
        if size == 0 {
            close(fd)
            return ByteBuffer(adopting: nil, count: 0, release: nil)
        }
        guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
            let reason = "cannot map: \(errnoText())"
            close(fd)
            throw TensorCoreError.fileAccess(path: path, reason: reason)
        }
        let address = Int(bitPattern: mapped)
        guard let slot = MappingGuard.register(start: address, count: size) else {
            _ = munmap(mapped, size)
            close(fd)
            return try reading(path: path)
        }
        let identity = FileIdentity(path: path, fd: fd, size: info.st_size, modified: info.st_mtim, guardSlot: slot)
        return ByteBuffer(adopting: UnsafeRawPointer(mapped), count: size, isMapped: true, identity: identity) {
            MappingGuard.unregister(slot)
            _ = munmap(UnsafeMutableRawPointer(bitPattern: address), size)
            close(fd)
        }
    }

    /// For a buffer `mapping(path:)` made: throws when the file changed since
    /// it was mapped (truncated, so that reads past its new end saw zeros, or
    /// its size or modification time moved). Read buffers and memory never
    /// throw (a read file was checked when it was read).
    /// - Throws: `TensorCoreError.changedWhileRead` naming the file.
    package func checkUnchanged() throws {
        guard let identity else { return }
        var now = stat()
        guard !MappingGuard.isDamaged(identity.guardSlot), fstat(identity.fd, &now) == 0, now.st_size == identity.size,
              now.st_mtim.tv_sec == identity.modified.tv_sec, now.st_mtim.tv_nsec == identity.modified.tv_nsec else {
            throw TensorCoreError.changedWhileRead(path: identity.path)
        }
    }

    /// The file a mapping shows, as it was when mapped.
    private struct FileIdentity {
        let path: String
        /// Kept open while mapped, to compare its `fstat` later (the name may be given to another file meanwhile).
        let fd: Int32
        let size: off_t
        let modified: timespec
        let guardSlot: Int
    }

    /// Opens `path` for reading, refusing anything but a regular file before
    /// opening it and again after (the name may point elsewhere by then).
    private static func openRegular(_ path: String) throws -> (Int32, stat) {
        var info = stat()
        guard stat(path, &info) == 0 else { throw TensorCoreError.fileAccess(path: path, reason: errnoText()) }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw TensorCoreError.fileAccess(path: path, reason: "not a regular file")
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        guard fd >= 0 else { throw TensorCoreError.fileAccess(path: path, reason: errnoText()) }
        guard fstat(fd, &info) == 0 else {
            let reason = errnoText()
            close(fd)
            throw TensorCoreError.fileAccess(path: path, reason: reason)
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw TensorCoreError.fileAccess(path: path, reason: "not a regular file")
        }
        return (fd, info)
    }

    /// For a mapped file: lets the system drop the whole pages inside
    /// `offset ..< offset + count` from this process's memory. The bytes stay
    /// readable (they are read from the file again if touched), so this only
    /// lowers the resident size after a pass over data that is done with.
    /// Does nothing for heap memory or an out-of-range request.
    public func releaseResidentPages(offset: Int, count: Int) {
        guard isMapped, let base = baseAddress, offset >= 0, count > 0, count <= self.count - offset else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = Int(bitPattern: base) + offset, end = start + count
        let first = (start + page - 1) / page * page, last = end / page * page
        guard last > first else { return }
        _ = madvise(UnsafeMutableRawPointer(bitPattern: first), last - first, Int32(MADV_DONTNEED))
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }
}

/// A checked window into a `ByteBuffer`.
public struct ByteSlice: Sendable {
    /// The buffer that owns the bytes.
    public let buffer: ByteBuffer
    /// Where the window starts in `buffer`.
    public let offset: Int
    /// The window's length in bytes.
    public let count: Int

    /// A window over `count` bytes of `buffer` from `offset`.
    /// - Throws: `TensorCoreError.rangeOutOfBounds` if it does not fit.
    package init(buffer: ByteBuffer, offset: Int, count: Int) throws {
        guard offset >= 0, count >= 0, offset <= buffer.count, count <= buffer.count - offset else {
            throw TensorCoreError.rangeOutOfBounds(offset: offset, count: count, available: buffer.count)
        }
        self.init(unchecked: buffer, offset: offset, count: count)
    }

    fileprivate init(unchecked buffer: ByteBuffer, offset: Int, count: Int) {
        self.buffer = buffer
        self.offset = offset
        self.count = count
    }

    /// The slice's own bytes copied into a new buffer.
    public init(copying bytes: some Collection<UInt8>) {
        let buffer = ByteBuffer(copying: bytes)
        self.init(unchecked: buffer, offset: 0, count: buffer.count)
    }

    /// A window inside this one, `offset` relative to this slice's start.
    /// - Throws: `TensorCoreError.rangeOutOfBounds` if it does not fit.
    package func slice(offset: Int, count: Int) throws -> ByteSlice {
        guard offset >= 0, count >= 0, offset <= self.count, count <= self.count - offset else {
            throw TensorCoreError.rangeOutOfBounds(offset: offset, count: count, available: self.count)
        }
        return ByteSlice(unchecked: buffer, offset: self.offset + offset, count: count)
    }

    /// Calls `body` with the slice's bytes.
    @inlinable
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try buffer.withUnsafeBytes { all in
            try body(UnsafeRawBufferPointer(rebasing: all[offset..<(offset + count)]))
        }
    }

    /// Drops the slice's whole pages from memory if the buffer is a mapped
    /// file (see `ByteBuffer.releaseResidentPages`).
    public func releaseResidentPages() { buffer.releaseResidentPages(offset: offset, count: count) }

    /// The bytes as an array (a copy).
    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }
}
