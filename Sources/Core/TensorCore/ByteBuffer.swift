#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An immutable run of bytes with a single owner: memory it allocated (for a
/// file, the file's bytes read into it), freed when the last reference goes.
///
/// Tensors, storages and model weights all point into a `ByteBuffer`, so a
/// file's bytes stay in memory exactly as long as something still reads them.
/// Files are read, not memory-mapped: a mapped file that another process
/// truncates raises SIGBUS in the reader (see `reading(path:)`).
public final class ByteBuffer: @unchecked Sendable {
    /// The first byte, or `nil` for an empty buffer.
    public let baseAddress: UnsafeRawPointer?
    /// The number of bytes.
    public let count: Int
    private let release: (@Sendable () -> Void)?

    /// Copies `bytes` into freshly allocated memory.
    public init(copying bytes: some Collection<UInt8>) {
        count = bytes.count
        if count == 0 {
            baseAddress = nil
            release = nil
            return
        }
        let memory = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 64)
        let typed = memory.bindMemory(to: UInt8.self, capacity: count)
        _ = UnsafeMutableBufferPointer(start: typed, count: count).initialize(from: bytes)
        baseAddress = UnsafeRawPointer(memory)
        let address = Int(bitPattern: memory)
        release = { UnsafeMutableRawPointer(bitPattern: address)?.deallocate() }
    }

    /// Takes ownership of `count` bytes at `pointer`; `release` runs once, when
    /// the buffer is freed.
    public init(adopting pointer: UnsafeRawPointer?, count: Int, release: (@Sendable () -> Void)?) {
        self.baseAddress = count == 0 ? nil : pointer
        self.count = count
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
    public static func reading(path: String, limit: Int = .max) throws -> ByteBuffer {
        try reading(path: path, limit: limit, afterChunk: { _ in })
    }

    /// Bytes read by one `read` call of `reading(path:)`.
    static let readChunk = 1 << 22

    /// `reading(path:limit:)`, calling `afterChunk(bytesSoFar)` after each
    /// chunk is read (for tests that change the file in the middle).
    static func reading(path: String, limit: Int, afterChunk: (Int) -> Void) throws -> ByteBuffer {
        var before = stat()
        guard stat(path, &before) == 0 else { throw TensorCoreError.fileAccess(path: path, reason: errnoText()) }
        guard (before.st_mode & S_IFMT) == S_IFREG else {
            throw TensorCoreError.fileAccess(path: path, reason: "not a regular file")
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        guard fd >= 0 else { throw TensorCoreError.fileAccess(path: path, reason: errnoText()) }
        defer { close(fd) }
        // Between the stat and the open the name may have been pointed elsewhere.
        guard fstat(fd, &before) == 0 else { throw TensorCoreError.fileAccess(path: path, reason: errnoText()) }
        guard (before.st_mode & S_IFMT) == S_IFREG else {
            throw TensorCoreError.fileAccess(path: path, reason: "not a regular file")
        }
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
        return ByteBuffer(adopting: UnsafeRawPointer(memory), count: size, release: {
            _ = munmap(UnsafeMutableRawPointer(bitPattern: address), size)
        })
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
    public init(buffer: ByteBuffer, offset: Int, count: Int) throws {
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
    public func slice(offset: Int, count: Int) throws -> ByteSlice {
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

    /// The bytes as an array (a copy).
    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }
}
