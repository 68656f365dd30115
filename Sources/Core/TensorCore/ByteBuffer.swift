#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An immutable run of bytes with a single owner: heap memory it allocated, or
/// a read-only memory map that it unmaps when the last reference goes.
///
/// Tensors, storages and model weights all point into a `ByteBuffer`, so a
/// mapped file stays mapped exactly as long as something still reads it.
public final class ByteBuffer: @unchecked Sendable {
    /// The first byte, or `nil` for an empty buffer.
    public let baseAddress: UnsafeRawPointer?
    /// The number of bytes.
    public let count: Int
    /// True for a memory-mapped file (its pages can be dropped and re-read).
    public let isMapped: Bool
    private let release: (@Sendable () -> Void)?

    /// Copies `bytes` into freshly allocated memory.
    public init(copying bytes: some Collection<UInt8>) {
        count = bytes.count
        if count == 0 {
            baseAddress = nil
            isMapped = false
            release = nil
            return
        }
        isMapped = false
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

    private init(adopting pointer: UnsafeRawPointer?, count: Int, isMapped: Bool, release: (@Sendable () -> Void)?) {
        self.baseAddress = count == 0 ? nil : pointer
        self.count = count
        self.isMapped = isMapped
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

    /// Maps the file at `path` read-only. An empty file gives an empty buffer.
    /// - Throws: `TensorCoreError.fileAccess` when the file cannot be opened,
    ///   is not a regular file, or cannot be mapped.
    public static func mapping(path: String) throws -> ByteBuffer {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw TensorCoreError.fileAccess(path: path, reason: errnoText()) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw TensorCoreError.fileAccess(path: path, reason: errnoText()) }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw TensorCoreError.fileAccess(path: path, reason: "not a regular file")
        }
        let size = Int(info.st_size)
        if size == 0 { return ByteBuffer(adopting: nil, count: 0, release: nil) }
        guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
            throw TensorCoreError.fileAccess(path: path, reason: "cannot map: \(errnoText())")
        }
        let address = Int(bitPattern: mapped)
        return ByteBuffer(adopting: UnsafeRawPointer(mapped), count: size, isMapped: true) {
            _ = munmap(UnsafeMutableRawPointer(bitPattern: address), size)
        }
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

    /// Drops the slice's whole pages from memory if the buffer is a mapped
    /// file (see `ByteBuffer.releaseResidentPages`).
    public func releaseResidentPages() { buffer.releaseResidentPages(offset: offset, count: count) }

    /// The bytes as an array (a copy).
    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }
}
