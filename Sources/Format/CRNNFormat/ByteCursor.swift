/// Reads little-endian fields from a byte array, checking every read against
/// the bytes present; used for the header and the directory (both small and
/// copied out of the file first, so no pointer outlives its buffer).
struct ByteCursor {
    /// Thrown when a read would pass the end; `needed` bytes from `position`.
    struct OutOfBytes: Error {
        let position: Int
        let needed: Int
    }

    let bytes: [UInt8]
    private(set) var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Bytes not read yet.
    var remaining: Int { bytes.count - position }

    /// The next `count` bytes.
    mutating func take(_ count: Int) throws(OutOfBytes) -> ArraySlice<UInt8> {
        guard count >= 0, count <= remaining else { throw OutOfBytes(position: position, needed: count) }
        defer { position += count }
        return bytes[position..<(position + count)]
    }

    /// The next little-endian unsigned integer of `width` bytes (at most 8).
    private mutating func unsigned(width: Int) throws(OutOfBytes) -> UInt64 {
        var value: UInt64 = 0
        for (shift, byte) in try take(width).enumerated() { value |= UInt64(byte) << (8 * shift) }
        return value
    }

    mutating func u16() throws(OutOfBytes) -> UInt16 { UInt16(truncatingIfNeeded: try unsigned(width: 2)) }
    mutating func u32() throws(OutOfBytes) -> UInt32 { UInt32(truncatingIfNeeded: try unsigned(width: 4)) }
    mutating func u64() throws(OutOfBytes) -> UInt64 { try unsigned(width: 8) }
}

/// Appends little-endian fields to a byte array (the writer's side of `ByteCursor`).
struct ByteAppender {
    private(set) var bytes: [UInt8] = []

    mutating func append<T: FixedWidthInteger & UnsignedInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func append(contentsOf data: some Sequence<UInt8>) { bytes.append(contentsOf: data) }
}
