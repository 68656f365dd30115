/// The fixed 64-byte header ("Fixed header" in `formats/CRNN-BIN.md`).
struct FileHeader: Equatable {
    /// ASCII `CRNN-BIN`.
    static let magic: [UInt8] = Array("CRNN-BIN".utf8)
    /// Header size in bytes.
    static let size = 64
    /// Where the u32 checksum sits; the CRC skips exactly these bytes.
    static let checksumRange = 24..<28
    /// Where the u64 file size sits.
    static let fileSizeRange = 16..<24

    var major: UInt16
    var minor: UInt16
    var reserved: UInt32
    var fileSize: UInt64
    var checksum: UInt32
    var tensorCount: UInt32
    var metadataOffset: UInt64
    var metadataLength: UInt64
    var directoryOffset: UInt64
    var directoryLength: UInt64

    /// The 64 header bytes.
    var encoded: [UInt8] {
        var out = ByteAppender()
        out.append(contentsOf: Self.magic)
        out.append(major)
        out.append(minor)
        out.append(reserved)
        out.append(fileSize)
        out.append(checksum)
        out.append(tensorCount)
        out.append(metadataOffset)
        out.append(metadataLength)
        out.append(directoryOffset)
        out.append(directoryLength)
        return out.bytes
    }

    /// The header in `bytes` (at least 64, magic already checked).
    init(decoding bytes: [UInt8]) throws(ByteCursor.OutOfBytes) {
        var cursor = ByteCursor(bytes)
        _ = try cursor.take(Self.magic.count)
        major = try cursor.u16()
        minor = try cursor.u16()
        reserved = try cursor.u32()
        fileSize = try cursor.u64()
        checksum = try cursor.u32()
        tensorCount = try cursor.u32()
        metadataOffset = try cursor.u64()
        metadataLength = try cursor.u64()
        directoryOffset = try cursor.u64()
        directoryLength = try cursor.u64()
    }

    init(
        fileSize: UInt64, tensorCount: UInt32, metadataOffset: UInt64, metadataLength: UInt64,
        directoryOffset: UInt64, directoryLength: UInt64
    ) {
        major = UInt16(CRNNFormatVersion.current.major)
        minor = UInt16(CRNNFormatVersion.current.minor)
        reserved = 0
        checksum = 0
        self.fileSize = fileSize
        self.tensorCount = tensorCount
        self.metadataOffset = metadataOffset
        self.metadataLength = metadataLength
        self.directoryOffset = directoryOffset
        self.directoryLength = directoryLength
    }
}

/// Limits of format version 1 that readers and writers share.
enum FormatLimits {
    /// Largest metadata JSON in bytes (1 MiB).
    static let maxMetadataLength = 1 << 20
    /// Smallest metadata JSON (`{}`).
    static let minMetadataLength = 2
    /// Longest tensor name in UTF-8 bytes.
    static let maxNameLength = 1024
    /// Largest tensor rank.
    static let maxRank = 8
    /// Tensor data alignment from the file start.
    static let alignment = 64
}
