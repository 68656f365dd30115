public import TensorCore

/// Everything that can go wrong reading or writing a CRNN-BIN file
/// (`formats/CRNN-BIN.md`). Each case names the file and carries what a user
/// needs to act; `description` is one line.
public enum CRNNFormatError: Error, Equatable, CustomStringConvertible {
    /// The file could not be opened, mapped or read.
    case fileAccess(file: String, reason: String)
    /// Another process truncated or rewrote the file while it was read.
    case changedWhileRead(file: String)
    /// The first eight bytes are not the CRNN-BIN magic.
    case notACRNNFile(file: String, foundMagic: [UInt8])
    /// The file's major version is not one this reader understands.
    case unsupportedVersion(file: String, major: Int, minor: Int, supportedMajor: Int)
    /// Fewer bytes are present than the header (or its `file_size`) requires.
    case truncated(file: String, expectedSize: Int, actualSize: Int)
    /// More bytes are present than the header's `file_size` says.
    case sizeMismatch(file: String, declaredSize: Int, actualSize: Int)
    /// The stored CRC-32 differs from the one computed over the bytes.
    case checksumMismatch(file: String, stored: UInt32, computed: UInt32)
    /// A header field is out of range (regions outside the file, overlapping, too large).
    case badHeader(file: String, field: String, reason: String)
    /// The metadata JSON is not valid or breaks a documented constraint.
    case badMetadata(file: String, reason: String)
    /// The tensor directory is malformed (entry outside it, bad name, trailing bytes).
    case badDirectory(file: String, reason: String)
    /// A tensor's dtype code is not defined by this format version.
    case unsupportedDType(file: String, tensor: String, code: Int)
    /// A tensor to write has a dtype the format defines no code for
    /// (complex, float8, uint16/32/64).
    case dtypeNotStorable(file: String, tensor: String, dtype: DType)
    /// A tensor's rank or shape is invalid or does not match its byte length.
    case badShape(file: String, tensor: String, shape: [Int], reason: String)
    /// A tensor's data region is misaligned, overlaps another one or leaves the file.
    case badOffset(file: String, tensor: String, offset: Int, length: Int, reason: String)
    /// Two tensors share a name.
    case duplicateTensorName(file: String, name: String)
    /// A floating-point tensor's dtype differs from the metadata's `stored_float_type`.
    case floatTypeMismatch(file: String, tensor: String, found: DType, declared: DType)
    /// The writer was asked to store floats as something other than float32/float16.
    case unsupportedFloatType(file: String, requested: DType)
    /// Writing the destination failed; nothing at the destination changed.
    case writeFailed(file: String, reason: String)
    /// The destination exists and is neither a regular file nor a symbolic
    /// link (`kind`: "a directory", "a FIFO", "a socket", "a character
    /// device", "a block device"); it was left as it was.
    case destinationNotRegularFile(file: String, kind: String)
    /// The destination was named with a trailing `/` (a folder's name) and
    /// is no existing folder; nothing was written.
    case destinationNamesFolder(file: String)

    public var description: String {
        switch self {
        case let .fileAccess(file, reason):
            "\(file): cannot read: \(reason)"
        case let .changedWhileRead(file):
            TensorCoreError.changedWhileRead(path: file).description
        case let .notACRNNFile(file, magic):
            "\(file): not a CRNN-BIN file (first bytes \(Self.hex(magic)), expected \(Self.hex(FileHeader.magic)) \"CRNN-BIN\")"
        case let .unsupportedVersion(file, major, minor, supported):
            "\(file): format version \(major).\(minor) is not supported (this reader reads major version \(supported)); use a newer reader"
        case let .truncated(file, expected, actual):
            "\(file): truncated: \(actual) bytes present, \(expected) expected; copy or convert the file again"
        case let .sizeMismatch(file, declared, actual):
            "\(file): \(actual) bytes present but the header declares \(declared); the file has trailing data"
        case let .checksumMismatch(file, stored, computed):
            "\(file): corrupted: stored CRC-32 \(Hex.word(stored)) but the bytes give \(Hex.word(computed)); copy or convert the file again"
        case let .badHeader(file, field, reason):
            "\(file): bad header field \(field): \(reason)"
        case let .badMetadata(file, reason):
            "\(file): bad metadata: \(reason)"
        case let .badDirectory(file, reason):
            "\(file): bad tensor directory: \(reason)"
        case let .unsupportedDType(file, tensor, code):
            "\(file): tensor '\(tensor)' has unknown dtype code \(code)"
        case let .dtypeNotStorable(file, tensor, dtype):
            "\(file): tensor '\(tensor)' is \(dtype.rawValue), which a CRNN-BIN file cannot hold; "
                + "it holds \(DType.allCases.filter { DTypeCode.code(for: $0) != nil }.map(\.rawValue).joined(separator: ", "))"
        case let .badShape(file, tensor, shape, reason):
            "\(file): tensor '\(tensor)' has bad shape \(shape): \(reason)"
        case let .badOffset(file, tensor, offset, length, reason):
            "\(file): tensor '\(tensor)' data at \(offset) (\(length) bytes): \(reason)"
        case let .duplicateTensorName(file, name):
            "\(file): tensor name '\(name)' appears twice"
        case let .floatTypeMismatch(file, tensor, found, declared):
            "\(file): tensor '\(tensor)' is \(found.rawValue) but the metadata says floats are stored as \(declared.rawValue)"
        case let .unsupportedFloatType(file, requested):
            "\(file): cannot store floats as \(requested.rawValue); choose float32 or float16"
        case let .writeFailed(file, reason):
            "\(file): write failed, nothing changed: \(reason)"
        case let .destinationNotRegularFile(file, kind):
            "\(file): is \(kind), not a regular file; refused and left as it was (the output must be a regular file, a symbolic link or a new name)"
        case let .destinationNamesFolder(file):
            "\(file)/: the name ends with '/', which names a folder; expected the path of a file to write (without the '/')"
        }
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        Hex.string(bytes, separator: " ", uppercase: true)
    }
}
