import CZlib

/// The file checksum: zlib's CRC-32 over every byte except the four at
/// `FileHeader.checksumRange` (bytes [0, 24) then [28, end), one stream).
enum Checksum {
    /// The CRC-32 of `bytes` skipping the checksum field; `bytes` must hold at
    /// least the 64-byte header.
    static func crc(of bytes: UnsafeRawBufferPointer) -> UInt32 {
        let skip = FileHeader.checksumRange
        var crc = update(0, UnsafeRawBufferPointer(rebasing: bytes[0..<skip.lowerBound]))
        crc = update(crc, UnsafeRawBufferPointer(rebasing: bytes[skip.upperBound...]))
        return crc
    }

    /// `crc` continued over `bytes`, fed to zlib in chunks its `uInt` length holds.
    private static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress else { return crc }
        // zlib reads the bytes as `Bytef` (UInt8); raw bytes may always be viewed so.
        let typed = base.assumingMemoryBound(to: UInt8.self)
        var value = UInt(crc)
        var done = 0
        let chunk = 1 << 30
        while done < bytes.count {
            let length = min(chunk, bytes.count - done)
            value = UInt(crc32(uLong(value), typed + done, uInt(length)))
            done += length
        }
        return UInt32(truncatingIfNeeded: value)
    }
}
