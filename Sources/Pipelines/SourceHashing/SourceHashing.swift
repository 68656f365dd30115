import Crypto
import TensorCore

/// SHA-256 of a source checkpoint, for the `source_sha256` that every `.bin`
/// records: what `crnn-convert` passes as `Converter.convert`'s
/// `sourceDigest`. A target of its own so that the cryptography library
/// (which links full Foundation) stays out of the programs that only convert
/// in memory, such as `crnn-predict`.
public enum SourceHashing {
    /// SHA-256 of the file at `path` (memory-mapped), as 64 lowercase hex digits.
    /// - Throws: `TensorCoreError.fileAccess` when the file cannot be read,
    ///   `.changedWhileRead` when another process changed it meanwhile.
    @Sendable public static func sha256(path: String) throws -> String {
        let buffer = try ByteBuffer.mapping(path: path)
        let digest = buffer.withUnsafeBytes { SHA256.hash(data: $0) }
        try buffer.checkUnchanged()
        return Hex.string(digest)
    }
}
