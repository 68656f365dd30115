import TensorCore

/// A tensor ready to be laid out: its name, stored dtype, shape and packed bytes.
struct StoredTensor {
    var name: String
    var dtype: DType
    var shape: [Int]
    var bytes: [UInt8]
}

/// The canonical layout of a CRNN-BIN file: header, metadata, directory,
/// aligned data. It is computed from names, dtypes, shapes and byte lengths
/// alone, so the file can then be produced in one pass, in file order, without
/// ever holding the whole of it: `stream` emits every byte and returns the
/// checksum, which goes into the header last.
struct FileLayout {
    /// Thrown by `stream` when a tensor's bytes differ in length from its entry.
    struct DataLengthMismatch: Error, CustomStringConvertible {
        let tensor: String
        let expected: Int
        let emitted: Int
        var description: String { "tensor '\(tensor)' produced \(emitted) bytes where \(expected) were laid out" }
    }

    /// The metadata JSON, stored as is.
    let metadataJSON: [UInt8]
    /// The directory, offsets assigned.
    let entries: [DirectoryEntry]
    /// The header; its `checksum` is 0 until the bytes have been streamed.
    let header: FileHeader

    /// The file's size in bytes.
    var fileSize: Int { Int(header.fileSize) }

    /// Lays out `tensors` (in order) after `metadataJSON`.
    init(metadataJSON: [UInt8], tensors: [(name: String, dtype: DType, shape: [Int], byteLength: Int)]) {
        let metadataOffset = FileHeader.size
        let directoryOffset = metadataOffset + metadataJSON.count
        // Directory entry sizes do not depend on the offsets, so measure them first.
        var entries = tensors.map {
            DirectoryEntry(name: $0.name, dtype: $0.dtype, shape: $0.shape, dataOffset: 0, byteLength: $0.byteLength)
        }
        let directoryLength = entries.reduce(0) { $0 + $1.encodedLength }
        var end = directoryOffset + directoryLength
        for index in entries.indices {
            end = Self.aligned(end)
            entries[index].dataOffset = end
            end += entries[index].byteLength
        }
        self.metadataJSON = metadataJSON
        self.entries = entries
        header = FileHeader(
            fileSize: UInt64(end), tensorCount: UInt32(tensors.count),
            metadataOffset: UInt64(metadataOffset), metadataLength: UInt64(metadataJSON.count),
            directoryOffset: UInt64(directoryOffset), directoryLength: UInt64(directoryLength))
    }

    /// Emits the whole file in order through `emit`, the checksum field zero,
    /// calling `tensorData(index, emit)` to emit the bytes of tensor `index`
    /// (exactly its entry's `byteLength`, in as many pieces as it likes).
    /// - Returns: the file's checksum, to store at `FileHeader.checksumRange`.
    /// - Throws: what `emit` or `tensorData` throw; `DataLengthMismatch` when
    ///   a tensor's bytes do not fill its entry.
    func stream(
        _ emit: (UnsafeRawBufferPointer) throws -> Void,
        tensorData: (Int, (UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws -> UInt32 {
        // `put` is handed to `tensorData` and must capture `emit`; it never outlives this call.
        try withoutActuallyEscaping(emit) { emit in
            var checksum = Checksum.Running()
            var position = 0
            let put = { (bytes: UnsafeRawBufferPointer) throws in
                checksum.update(bytes)
                position += bytes.count
                try emit(bytes)
            }
            try header.encoded.withUnsafeBytes(put)
            try metadataJSON.withUnsafeBytes(put)
            var directory = ByteAppender()
            for entry in entries { entry.encode(into: &directory) }
            try directory.bytes.withUnsafeBytes(put)
            let zeros = [UInt8](repeating: 0, count: FormatLimits.alignment)
            for (index, entry) in entries.enumerated() {
                try zeros.withUnsafeBytes { try put(UnsafeRawBufferPointer(rebasing: $0[0..<(entry.dataOffset - position)])) }
                try tensorData(index, put)
                guard position == entry.dataOffset + entry.byteLength else {
                    throw DataLengthMismatch(tensor: entry.name, expected: entry.byteLength, emitted: position - entry.dataOffset)
                }
            }
            return checksum.value
        }
    }

    /// The whole file for `metadataJSON` and `tensors` (written as given, no
    /// checks: tests build broken files with it).
    static func encode(metadataJSON: [UInt8], tensors: [StoredTensor]) -> [UInt8] {
        let layout = FileLayout(
            metadataJSON: metadataJSON, tensors: tensors.map { ($0.name, $0.dtype, $0.shape, $0.bytes.count) })
        // Cannot fail: appending to an array does not, and each entry's length is its bytes' count.
        return (try? layout.encode { index, emit in try tensors[index].bytes.withUnsafeBytes(emit) }) ?? []
    }

    /// The whole file in memory, tensor bytes from `tensorData` as in `stream`.
    /// - Throws: what `tensorData` throws, or `DataLengthMismatch`.
    func encode(tensorData: (Int, (UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws -> [UInt8] {
        var file = [UInt8]()
        file.reserveCapacity(fileSize)
        let crc = try stream({ file.append(contentsOf: $0) }, tensorData: tensorData)
        Self.setChecksum(crc, in: &file)
        return file
    }

    /// The checksum field's four bytes for `crc`.
    static func checksumBytes(_ crc: UInt32) -> [UInt8] {
        (0..<4).map { UInt8(truncatingIfNeeded: crc >> (8 * UInt32($0))) }
    }

    /// Stores `crc` in the checksum field of `file`.
    static func setChecksum(_ crc: UInt32, in file: inout [UInt8]) {
        file.replaceSubrange(FileHeader.checksumRange, with: checksumBytes(crc))
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
