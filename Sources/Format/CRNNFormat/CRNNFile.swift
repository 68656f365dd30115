#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
package import TensorCore

/// An opened CRNN-BIN file: metadata and tensors that are views into the
/// file's bytes (memory-mapped by `open(path:)`, no copy; see
/// `checkUnchanged()` for a file another process changes meanwhile).
///
/// Opening checks magic, version, size, checksum and every offset, length and
/// shape bound before anything is exposed (spec section "What a reader
/// checks"), so a `CRNNFile` that exists is consistent.
package struct CRNNFile: Sendable {
    /// The file name or path given when opening, used in errors.
    package let name: String
    /// The model metadata.
    package let metadata: CRNNModelMetadata
    /// The metadata JSON exactly as stored, including keys this reader does not know.
    package let metadataJSON: String
    /// The file's format version (major 1, any minor).
    package let formatVersion: CRNNFormatVersion
    /// The tensors in file order; each is a contiguous view into the file.
    package let tensors: StateDict
    /// The file's size in bytes.
    package let fileSize: Int
    /// Where each tensor's data starts in the file, in file order.
    package let dataOffsets: [String: Int]
    /// The bytes the tensors view.
    private let buffer: ByteBuffer

    /// Maps the file at `path` read-only (see `ByteBuffer.mapping(path:)`)
    /// and checks it.
    /// - Throws: `CRNNFormatError.fileAccess` when it cannot be mapped or is
    ///   not a regular file, `.changedWhileRead` when another process changed
    ///   it while it was checked, any other `CRNNFormatError` when its
    ///   content breaks the format.
    package static func open(path: String) throws(CRNNFormatError) -> CRNNFile {
        try open(path: path, name: path)
    }

    /// Maps the file at `path` read-only and checks it, naming it `name` in
    /// errors (a temporary file is named after the file it will become).
    /// - Throws: as `open(path:)`.
    package static func open(path: String, name: String) throws(CRNNFormatError) -> CRNNFile {
        let buffer: ByteBuffer
        do {
            buffer = try ByteBuffer.mapping(path: path)
        } catch let error as TensorCoreError {
            switch error {
            case let .fileAccess(_, reason): throw .fileAccess(file: name, reason: reason)
            case .changedWhileRead: throw .changedWhileRead(file: name)
            default: throw .fileAccess(file: name, reason: error.description)
            }
        } catch {
            throw .fileAccess(file: name, reason: "\(error)")
        }
        // A file changed during the checks is reported as that, not as the damage it seemed to have.
        let file: CRNNFile
        do { file = try open(buffer: buffer, name: name) } catch {
            try checkUnchanged(buffer, name: name)
            throw error
        }
        try file.checkUnchanged()
        return file
    }

    /// Throws when the mapped file changed since it was opened (truncated or
    /// rewritten by another process), so that what was read from the tensors
    /// may not be the file's; callers check once they are done reading. A
    /// file opened from bytes in memory never throws.
    /// - Throws: `CRNNFormatError.changedWhileRead`.
    package func checkUnchanged() throws(CRNNFormatError) { try Self.checkUnchanged(buffer, name: name) }

    private static func checkUnchanged(_ buffer: ByteBuffer, name: String) throws(CRNNFormatError) {
        do { try buffer.checkUnchanged() } catch { throw .changedWhileRead(file: name) }
    }

    /// Checks `buffer` as a CRNN-BIN file called `name` (for errors).
    /// - Throws: `CRNNFormatError` naming the first rule the bytes break.
    package static func open(buffer: ByteBuffer, name: String) throws(CRNNFormatError) -> CRNNFile {
        let whole = buffer.slice
        let header = try checkedHeader(whole, name: name)
        let fileSize = whole.count

        // Step 7: header regions.
        guard let metadataOffset = Int(exactly: header.metadataOffset), metadataOffset >= FileHeader.size,
              metadataOffset <= fileSize else {
            throw .badHeader(file: name, field: "metadata_offset", reason: "\(header.metadataOffset) is outside \(FileHeader.size)...\(fileSize)")
        }
        guard let metadataLength = Int(exactly: header.metadataLength),
              (FormatLimits.minMetadataLength...FormatLimits.maxMetadataLength).contains(metadataLength),
              metadataLength <= fileSize - metadataOffset else {
            throw .badHeader(file: name, field: "metadata_length", reason: "\(header.metadataLength) is outside \(FormatLimits.minMetadataLength)...\(FormatLimits.maxMetadataLength) or past the end of the file")
        }
        guard let directoryOffset = Int(exactly: header.directoryOffset),
              directoryOffset >= metadataOffset + metadataLength, directoryOffset <= fileSize else {
            throw .badHeader(file: name, field: "directory_offset", reason: "\(header.directoryOffset) overlaps the metadata or lies past the end of the file")
        }
        guard let directoryLength = Int(exactly: header.directoryLength),
              directoryLength <= fileSize - directoryOffset else {
            throw .badHeader(file: name, field: "directory_length", reason: "\(header.directoryLength) reaches past the end of the file")
        }

        // Step 8: metadata.
        let metadataBytes = region(whole, metadataOffset, metadataLength)
        let (metadata, json) = try decodeMetadata(metadataBytes, name: name)

        // Step 9: directory.
        let entries = try DirectoryEntry.decodeAll(
            region(whole, directoryOffset, directoryLength), count: Int(header.tensorCount),
            dataStart: directoryOffset + directoryLength, fileSize: fileSize,
            floatType: metadata.storedFloatType, file: name)

        var tensors = StateDict()
        var offsets: [String: Int] = [:]
        for entry in entries {
            do {
                let storage = try whole.slice(offset: entry.dataOffset, count: entry.byteLength)
                tensors[entry.name] = try Tensor(
                    dtype: entry.dtype, shape: entry.shape, strides: Tensor.contiguousStrides(for: entry.shape),
                    storageOffset: 0, storage: storage)
            } catch {
                // Unreachable after the checks above; reported rather than trapped.
                throw .badOffset(file: name, tensor: entry.name, offset: entry.dataOffset, length: entry.byteLength, reason: "\(error)")
            }
            offsets[entry.name] = entry.dataOffset
        }
        return CRNNFile(
            name: name, metadata: metadata, metadataJSON: json,
            formatVersion: CRNNFormatVersion(major: Int(header.major), minor: Int(header.minor)),
            tensors: tensors, fileSize: fileSize, dataOffsets: offsets, buffer: buffer)
    }

    /// Steps 1-6: magic, version, size, checksum; returns the decoded header.
    private static func checkedHeader(_ whole: ByteSlice, name: String) throws(CRNNFormatError) -> FileHeader {
        let count = whole.count
        let magic = FileHeader.magic
        let lead = region(whole, 0, min(count, magic.count))
        guard lead == Array(magic.prefix(lead.count)) else { throw .notACRNNFile(file: name, foundMagic: lead) }
        guard count >= 12 else { throw .truncated(file: name, expectedSize: FileHeader.size, actualSize: count) }
        let versionBytes = region(whole, 8, 4)
        let major = Int(versionBytes[0]) | Int(versionBytes[1]) << 8
        let minor = Int(versionBytes[2]) | Int(versionBytes[3]) << 8
        guard major == CRNNFormatVersion.current.major else {
            throw .unsupportedVersion(file: name, major: major, minor: minor, supportedMajor: CRNNFormatVersion.current.major)
        }
        guard count >= FileHeader.size else { throw .truncated(file: name, expectedSize: FileHeader.size, actualSize: count) }
        let header: FileHeader
        do {
            header = try FileHeader(decoding: region(whole, 0, FileHeader.size))
        } catch {
            throw .truncated(file: name, expectedSize: FileHeader.size, actualSize: count)
        }
        guard let declared = Int(exactly: header.fileSize), declared <= count else {
            let expected = Int(exactly: header.fileSize) ?? Int.max
            throw .truncated(file: name, expectedSize: expected, actualSize: count)
        }
        guard declared == count else { throw .sizeMismatch(file: name, declaredSize: declared, actualSize: count) }
        let computed = whole.withUnsafeBytes { Checksum.crc(of: $0) }
        guard computed == header.checksum else {
            throw .checksumMismatch(file: name, stored: header.checksum, computed: computed)
        }
        // The checksum pass read every page; readers take what they need again.
        whole.releaseResidentPages()
        return header
    }

    /// Parses and validates the metadata JSON.
    private static func decodeMetadata(_ bytes: [UInt8], name: String) throws(CRNNFormatError) -> (CRNNModelMetadata, String) {
        guard let json = String(validating: bytes, as: UTF8.self) else {
            throw .badMetadata(file: name, reason: "not valid UTF-8")
        }
        let metadata: CRNNModelMetadata
        do {
            // Not JSON, or JSON but not an object, fails at the top (see `MetadataCoding.explain`).
            metadata = try JSONDecoder().decode(CRNNModelMetadata.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw .badMetadata(file: name, reason: MetadataCoding.explain(error))
        } catch {
            throw .badMetadata(file: name, reason: "cannot be decoded as JSON")
        }
        if let violation = metadata.violation { throw .badMetadata(file: name, reason: violation) }
        return (metadata, json)
    }

    /// A copy of `count` bytes from `offset`; callers have checked the range.
    private static func region(_ whole: ByteSlice, _ offset: Int, _ count: Int) -> [UInt8] {
        (try? whole.slice(offset: offset, count: count).bytes) ?? []
    }
}
