import TensorCore

/// What is wrong with a safetensors file, found while validating its header
/// before any tensor byte is read. `CheckpointError.invalidSafetensors`
/// carries one, with the file's name.
public enum SafetensorsProblem: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file is shorter than the 8-byte header length.
    case tooSmall(size: Int)
    /// The header length is above the format's limit (100,000,000 bytes).
    case headerTooLarge(declared: UInt64, limit: Int)
    /// The header length reaches past the end of the file.
    case headerPastEnd(declared: Int, available: Int)
    /// The header is not valid UTF-8; `offset` is the first bad byte, counted
    /// from the start of the header.
    case headerNotUTF8(offset: Int)
    /// The header does not begin with `{`.
    case headerStart(found: UInt8?)
    /// The header is not the JSON the format defines; `offset` counts from
    /// the start of the header.
    case json(offset: Int, reason: String)
    /// A key appears twice in one JSON object (the format disallows it:
    /// readers may take either value).
    case duplicateKey(key: String)
    /// A tensor's entry is not `{"dtype", "shape", "data_offsets"}` as the
    /// format defines it.
    case badEntry(tensor: String, reason: String)
    /// A dtype name the format does not define.
    case unknownDType(tensor: String, dtype: String)
    /// `__metadata__` is not a map of strings to strings.
    case badMetadata(reason: String)
    /// Element count times element size overflows, or does not fill whole bytes.
    case sizeOverflow(tensor: String)
    /// A tensor's byte count differs from what its dtype and shape need.
    case sizeMismatch(tensor: String, dtype: String, shape: [Int], needed: Int, declared: Int)
    /// A tensor's data does not start where the previous one ended: a hole,
    /// an overlap or an end before the beginning (offsets sorted by begin).
    case offsetsNotContiguous(tensor: String, begin: Int, end: Int, expected: Int)
    /// The tensors do not cover the byte buffer exactly: it has bytes no
    /// tensor owns, or tensors reach past the end of the file.
    case bufferNotCovered(covered: Int, bufferSize: Int)

    public var description: String {
        switch self {
        case let .tooSmall(size):
            "the file has \(size) bytes, fewer than the 8-byte header length a safetensors file begins with"
        case let .headerTooLarge(declared, limit):
            "the header length is \(declared) bytes, over the format's limit of \(limit)"
        case let .headerPastEnd(declared, available):
            "the header length is \(declared) bytes but only \(available) follow the length field (truncated or not safetensors)"
        case let .headerNotUTF8(offset):
            "the header is not valid UTF-8 (byte \(offset) of the header); expected UTF-8 JSON"
        case let .headerStart(found):
            "the header begins with \(found.map { "byte 0x" + Hex.string([$0]) } ?? "nothing"); expected '{'"
        case let .json(offset, reason):
            "the header is not valid JSON at byte \(offset) of the header: \(reason)"
        case let .duplicateKey(key):
            "the header names '\(key)' twice; the format disallows duplicate keys (readers may take either)"
        case let .badEntry(tensor, reason):
            "tensor '\(tensor)': \(reason); expected {\"dtype\": ..., \"shape\": [...], \"data_offsets\": [BEGIN, END]}"
        case let .unknownDType(tensor, dtype):
            "tensor '\(tensor)' has dtype '\(dtype)', which the safetensors format does not define; expected one of "
                + SafetensorsDType.allCases.map(\.rawValue).joined(separator: ", ")
        case let .badMetadata(reason):
            "__metadata__ \(reason); expected a map of strings to strings"
        case let .sizeOverflow(tensor):
            "tensor '\(tensor)': its shape's byte size overflows or is not a whole number of bytes"
        case let .sizeMismatch(tensor, dtype, shape, needed, declared):
            "tensor '\(tensor)': \(dtype) \(shape) needs \(needed) bytes but data_offsets span \(declared)"
        case let .offsetsNotContiguous(tensor, begin, end, expected):
            "tensor '\(tensor)': data_offsets [\(begin), \(end)] do not start at byte \(expected) where the previous tensor ends "
                + "(overlapping, out of order or with a hole); expected contiguous, non-overlapping tensors"
        case let .bufferNotCovered(covered, bufferSize):
            "the tensors cover \(covered) bytes of a \(bufferSize)-byte data buffer; expected them to cover it exactly"
        }
    }
}
