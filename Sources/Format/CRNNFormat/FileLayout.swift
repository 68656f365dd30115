import TensorCore

/// A tensor ready to be laid out: its name, stored dtype, shape and packed bytes.
struct StoredTensor {
    var name: String
    var dtype: DType
    var shape: [Int]
    var bytes: [UInt8]
}

/// Builds the bytes of a canonical CRNN-BIN file: header, metadata,
/// directory, aligned data, checksum last.
enum FileLayout {
    /// The whole file for `metadataJSON` and `tensors` (written as given).
    static func encode(metadataJSON: [UInt8], tensors: [StoredTensor]) -> [UInt8] {
        let metadataOffset = FileHeader.size
        let directoryOffset = metadataOffset + metadataJSON.count
        // Directory entry sizes do not depend on the offsets, so measure them first.
        var entries = tensors.map {
            DirectoryEntry(name: $0.name, dtype: $0.dtype, shape: $0.shape, dataOffset: 0, byteLength: $0.bytes.count)
        }
        let directoryLength = entries.reduce(0) { $0 + $1.encoded.count }
        var end = directoryOffset + directoryLength
        for index in entries.indices {
            end = aligned(end)
            entries[index].dataOffset = end
            end += entries[index].byteLength
        }
        var header = FileHeader(
            fileSize: UInt64(end), tensorCount: UInt32(tensors.count),
            metadataOffset: UInt64(metadataOffset), metadataLength: UInt64(metadataJSON.count),
            directoryOffset: UInt64(directoryOffset), directoryLength: UInt64(directoryLength))

        var file = [UInt8]()
        file.reserveCapacity(end)
        file.append(contentsOf: header.encoded)
        file.append(contentsOf: metadataJSON)
        for entry in entries { file.append(contentsOf: entry.encoded) }
        for (entry, tensor) in zip(entries, tensors) {
            file.append(contentsOf: repeatElement(0, count: entry.dataOffset - file.count))
            file.append(contentsOf: tensor.bytes)
        }
        header.checksum = file.withUnsafeBytes { Checksum.crc(of: $0) }
        setChecksum(header.checksum, in: &file)
        return file
    }

    /// Stores `crc` in the checksum field of `file`.
    static func setChecksum(_ crc: UInt32, in file: inout [UInt8]) {
        for (index, position) in FileHeader.checksumRange.enumerated() {
            file[position] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(index)))
        }
    }

    /// Recomputes and stores the checksum of `file` (at least 64 bytes).
    static func refreshChecksum(of file: inout [UInt8]) {
        let crc = file.withUnsafeBytes { Checksum.crc(of: $0) }
        setChecksum(crc, in: &file)
    }

    /// `offset` rounded up to the data alignment.
    static func aligned(_ offset: Int) -> Int {
        let a = FormatLimits.alignment
        return (offset + a - 1) / a * a
    }
}
