import Foundation
import TensorCore

/// What `CRNNFileWriter.write` produced.
public struct CRNNFileSummary: Equatable, Sendable {
    /// The file's size in bytes.
    public let bytesWritten: Int
    /// How many tensors it holds.
    public let tensorCount: Int
    /// The total number of elements over all tensors.
    public let parameterCount: Int
}

/// Writes CRNN-BIN files (`formats/CRNN-BIN.md`).
public enum CRNNFileWriter {
    /// Writes `tensors` (in order) and `metadata` to `url`.
    ///
    /// Writes atomically: to a temporary file in the destination's folder,
    /// fsync, then rename over `url`; on any error the temporary file is
    /// removed and nothing at `url` changes. Float tensors are stored as
    /// `floatType` (.float32 or .float16), converted with round-to-nearest-even
    /// straight from the source value (float16, bfloat16, float32 and float64
    /// sources alike); integer and bool tensors are kept as they are. Every
    /// tensor is stored contiguously, whatever its strides.
    /// - Throws: `CRNNFormatError.unsupportedFloatType` for another float
    ///   type; `.badMetadata` when the metadata breaks a documented constraint
    ///   or its `storedFloatType` differs from `floatType`;
    ///   `.duplicateTensorName`, `.badDirectory` (empty or too long name) and
    ///   `.badShape` (rank above 8) for tensors the format cannot hold;
    ///   `.writeFailed` when the file system refuses.
    @discardableResult
    public static func write(
        metadata: CRNNModelMetadata, tensors: [(name: String, tensor: Tensor)], floatType: DType, to url: URL
    ) throws(CRNNFormatError) -> CRNNFileSummary {
        let path = url.path
        let file = try encode(metadata: metadata, tensors: tensors, floatType: floatType, file: path)
        do {
            try AtomicFile.write(file, to: path)
        } catch {
            throw .writeFailed(file: path, reason: error.reason)
        }
        return CRNNFileSummary(
            bytesWritten: file.count, tensorCount: tensors.count,
            parameterCount: tensors.reduce(0) { $0 + $1.tensor.elementCount })
    }

    /// The complete file bytes `write` would store; `file` names the
    /// destination in errors.
    /// - Throws: the same content errors as `write`.
    static func encode(
        metadata: CRNNModelMetadata, tensors: [(name: String, tensor: Tensor)], floatType: DType, file: String
    ) throws(CRNNFormatError) -> [UInt8] {
        guard floatType == .float32 || floatType == .float16 else {
            throw .unsupportedFloatType(file: file, requested: floatType)
        }
        guard metadata.storedFloatType == floatType else {
            throw .badMetadata(file: file, reason: "storedFloatType \(metadata.storedFloatType.rawValue) differs from the requested float type \(floatType.rawValue)")
        }
        if let violation = metadata.violation { throw .badMetadata(file: file, reason: violation) }
        let json: [UInt8]
        do { json = try MetadataCoding.encode(metadata) } catch {
            throw .badMetadata(file: file, reason: "cannot encode: \(error)")
        }
        guard json.count <= FormatLimits.maxMetadataLength else {
            throw .badMetadata(file: file, reason: "\(json.count) bytes of JSON exceed \(FormatLimits.maxMetadataLength)")
        }
        var seen = Set<String>()
        var stored: [StoredTensor] = []
        for (name, tensor) in tensors {
            let nameLength = name.utf8.count
            guard nameLength >= 1, nameLength <= FormatLimits.maxNameLength else {
                throw .badDirectory(file: file, reason: "tensor name '\(name)' has \(nameLength) bytes, allowed 1...\(FormatLimits.maxNameLength)")
            }
            guard seen.insert(name).inserted else { throw .duplicateTensorName(file: file, name: name) }
            guard tensor.shape.count <= FormatLimits.maxRank else {
                throw .badShape(file: file, tensor: name, shape: tensor.shape, reason: "rank above \(FormatLimits.maxRank)")
            }
            let dtype = tensor.dtype.isFloatingPoint ? floatType : tensor.dtype
            stored.append(StoredTensor(name: name, dtype: dtype, shape: tensor.shape,
                                       bytes: storedBytes(of: tensor, as: dtype)))
        }
        return FileLayout.encode(metadataJSON: json, tensors: stored)
    }

    /// The tensor's elements packed row-major as `dtype` (its own dtype, or
    /// float32/float16 for a float tensor), little-endian.
    static func storedBytes(of tensor: Tensor, as dtype: DType) -> [UInt8] {
        if tensor.dtype == dtype { return tensor.contiguousBytes() }
        var out = ByteAppender()
        switch dtype {
        case .float16:
            tensor.forEachElement { out.append(HalfPrecision.bits(from: $0)) }
        default:  // .float32, the only other stored float type
            tensor.forEachElement { out.append(Float($0).bitPattern) }
        }
        return out.bytes
    }
}
