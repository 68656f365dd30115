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
    fileprivate static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
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

extension Checksum {
    /// The file checksum computed piece by piece as the file's bytes go by in
    /// order, from byte 0: the bytes at `FileHeader.checksumRange` are left out.
    struct Running {
        private var crc: UInt32 = 0
        private var position = 0

        /// The checksum of every byte so far.
        var value: UInt32 { crc }

        /// Continues over `bytes`, the next ones of the file.
        mutating func update(_ bytes: UnsafeRawBufferPointer) {
            let skip = FileHeader.checksumRange
            let start = position
            position += bytes.count
            guard start < skip.upperBound && position > skip.lowerBound else {
                crc = Checksum.update(crc, bytes)
                return
            }
            let before = max(0, skip.lowerBound - start)
            let after = min(bytes.count, skip.upperBound - start)
            crc = Checksum.update(crc, UnsafeRawBufferPointer(rebasing: bytes[0..<before]))
            crc = Checksum.update(crc, UnsafeRawBufferPointer(rebasing: bytes[after...]))
        }
    }
}
