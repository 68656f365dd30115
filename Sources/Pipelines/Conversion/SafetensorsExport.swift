import CRNNFormat
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
public import Foundation
#endif
public import TensorCore
public import TorchCheckpoint

/// What a safetensors export did, for the summary line and for tests.
public struct SafetensorsExportReport: Sendable {
    /// The source's layout and where its state_dict was; `nil` for a `.bin`.
    public let checkpointInfo: CheckpointInfo?
    /// The `__metadata__` written, in order.
    public let metadata: [(key: String, value: String)]
    /// Tensors written.
    public let tensorCount: Int
    /// Elements over all tensors.
    public let elementCount: Int
    /// Tensors whose strided view was packed contiguously.
    public let repackedCount: Int
    /// Tensors that shared a storage with another in the source (each is
    /// written with its own bytes, as the format requires).
    public let sharedStorageCount: Int
    /// The output file's size.
    public let outputBytes: Int
    /// Wall-clock seconds from opening the input to verifying the output.
    public let seconds: Double
}

/// Writes any state_dict our readers yield (`.pt` in either layout, a
/// safetensors file, our `.bin`) as a safetensors file: PyTorch's names
/// (no prefix removed), dtypes and shapes; strided views packed; tensors
/// sharing a storage each written with their own bytes; `__metadata__`
/// naming the source file and its SHA-256.
public enum SafetensorsExport {
    /// Reads `input` and writes its state_dict to `output` atomically; the
    /// written file is read back and compared, tensor by tensor and byte for
    /// byte, before it replaces `output`. `alphabet` (or an alphabet string
    /// the checkpoint stores) goes into the metadata, and so does the
    /// source's SHA-256 when `sourceDigest` is given.
    /// - Throws: `ConversionError`: `.checkpoint` with the reader's error,
    ///   `.wouldOverwriteInput`, `.reservedTensorName`,
    ///   `.safetensorsHeaderTooLarge`, `.writeFailed`, `.verificationFailed`,
    ///   or `.sourceDigestFailed` for what `sourceDigest` threw; on any error
    ///   `output` is left as it was.
    @discardableResult
    public static func convert(
        input: String, output: String, alphabet: String? = nil, converterVersion: String = Converter.version,
        sourceDigest: SourceDigest? = nil
    ) throws(ConversionError) -> SafetensorsExportReport {
        do {
            return try convertUnchecked(
                input: input, output: output, alphabet: alphabet, converterVersion: converterVersion, sourceDigest: sourceDigest)
        } catch { throw ConversionError.converted(error, file: input) }
    }

    private static func convertUnchecked(
        input: String, output: String, alphabet: String?, converterVersion: String, sourceDigest: SourceDigest?
    ) throws -> SafetensorsExportReport {
        let started = Date()
        if Converter.outputReplacesInput(input, output) { throw ConversionError.wouldOverwriteInput(path: output) }
        let digest = sourceDigest.map { hash in BackgroundWork { try hash(input) } }
        let source = try readStateDict(path: input)
        // Ours first, then what the source carried (an explicit alphabet replacing a stored one).
        // Without a digest the key is left out (safetensors metadata values are strings, never null).
        var metadata: [(key: String, value: String)] = [("format", "pt"), ("source_file", URL(fileURLWithPath: input).lastPathComponent)]
        if let digest { metadata.append(("source_sha256", try Converter.sha256(from: digest, of: input))) }
        metadata.append(("converter", "crnn-convert \(converterVersion)"))
        metadata += source.carried.filter { !ownKeys.contains($0.key) && !(alphabet != nil && $0.key == "alphabet") }
        if let alphabet { metadata.append(("alphabet", alphabet)) }
        let tensors = source.stateDict.entries
        let bytes = try write(tensors, metadata: metadata, to: output)
        let shared = Dictionary(grouping: tensors, by: { StorageIdentity($0.tensor.storage) }).values.filter { $0.count > 1 }
        return SafetensorsExportReport(
            checkpointInfo: source.info, metadata: metadata, tensorCount: tensors.count,
            elementCount: tensors.reduce(0) { $0 + $1.tensor.elementCount },
            repackedCount: tensors.filter { !$0.tensor.isContiguous }.count,
            sharedStorageCount: shared.reduce(0) { $0 + $1.count }, outputBytes: bytes,
            seconds: Date().timeIntervalSince(started))
    }

    /// The metadata keys the export writes itself.
    static let ownKeys: Set<String> = ["format", "source_file", "source_sha256", "converter"]

    /// Writes `tensors` and `metadata` to `path` as a safetensors file, then
    /// reads it back and compares every tensor before it replaces `path`.
    /// Data is laid out by element width, widest first (state_dict order
    /// within a width), after a header padded to 8 bytes, so every tensor is
    /// aligned to its element size in a mapped file.
    /// - Returns: the file's size in bytes.
    /// - Throws: `ConversionError`: `.reservedTensorName`,
    ///   `.safetensorsHeaderTooLarge`, `.writeFailed`, `.verificationFailed`,
    ///   or `.checkpoint` for the file read back; on any error `path` is left
    ///   as it was.
    @discardableResult
    public static func write(
        _ tensors: [(name: String, tensor: Tensor)], metadata: [(key: String, value: String)], to path: String
    ) throws(ConversionError) -> Int {
        do { return try writeUnchecked(tensors, metadata: metadata, to: path) } catch { throw ConversionError.converted(error, file: path) }
    }

    private static func writeUnchecked(
        _ tensors: [(name: String, tensor: Tensor)], metadata: [(key: String, value: String)], to path: String
    ) throws -> Int {
        let plan = try layout(tensors, metadata: metadata, file: path)
        do {
            try AtomicReplacement.write(to: path, check: { temporary in try verify(temporary, against: tensors, file: path) }) { append in
                try plan.header.withUnsafeBytes { try append($0) }
                for index in plan.order { try tensors[index].tensor.withContiguousBytes { try append($0) } }
            }
        } catch let failure as AtomicReplacement.Failure {
            throw ConversionError.writeFailed(file: path, reason: failure.reason)
        }
        return plan.header.count + plan.dataBytes
    }

    /// The file's first bytes (length field, then the padded JSON header)
    /// and the order the tensors' bytes follow in.
    static func layout(_ tensors: [(name: String, tensor: Tensor)], metadata: [(key: String, value: String)], file: String) throws
        -> (header: [UInt8], order: [Int], dataBytes: Int)
    {
        guard !tensors.contains(where: { $0.name == "__metadata__" }) else { throw ConversionError.reservedTensorName(file: file) }
        let order = tensors.indices.sorted { a, b in
            let (wa, wb) = (tensors[a].tensor.dtype.byteWidth, tensors[b].tensor.dtype.byteWidth)
            return wa != wb ? wa > wb : a < b
        }
        var json = "{"
        if !metadata.isEmpty {
            json += JSONText.quoted("__metadata__") + ":{"
                + metadata.map { JSONText.quoted($0.key) + ":" + JSONText.quoted($0.value) }.joined(separator: ",") + "}"
        }
        var offset = 0
        var separator = metadata.isEmpty ? "" : ","
        for index in order {
            let (name, tensor) = tensors[index]
            guard let dtype = SafetensorsDType(tensor.dtype) else {
                throw ConversionError.dtypeNotInSafetensors(file: file, tensor: name, dtype: tensor.dtype.rawValue)
            }
            let end = offset + tensor.byteCount
            json += separator
            separator = ","
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            json += JSONText.quoted(name) + ":{\"dtype\":\"\(dtype.rawValue)\",\"shape\":[" + shape
                + "],\"data_offsets\":[\(offset),\(end)]}"
            offset = end
        }
        json += "}"
        var header = Array(json.utf8)
        header += [UInt8](repeating: 0x20, count: (8 - header.count % 8) % 8)
        guard header.count <= SafetensorsHeader.maxHeaderBytes else {
            throw ConversionError.safetensorsHeaderTooLarge(file: file, bytes: header.count, limit: SafetensorsHeader.maxHeaderBytes)
        }
        let length = withUnsafeBytes(of: UInt64(header.count).littleEndian) { Array($0) }
        return (length + header, order, offset)
    }

    /// Reads the temporary file back with the safetensors reader and checks
    /// that it holds exactly the source's tensors: names, dtypes, shapes, bytes.
    static func verify(_ temporary: String, against source: [(name: String, tensor: Tensor)], file: String) throws {
        let buffer = try ByteBuffer.mapping(path: temporary)
        let written = try TorchCheckpoint(buffer: buffer, fileName: file, options: CheckpointOptions(stripsWrapperPrefixes: false))
            .loadStateDict()
        guard written.count == source.count else {
            throw ConversionError.verificationFailed(
                file: file, tensor: "(header)", reason: "\(written.count) tensors read back, \(source.count) written")
        }
        for (name, original) in source {
            guard let stored = written[name] else {
                throw ConversionError.verificationFailed(file: file, tensor: name, reason: "missing from the file read back")
            }
            guard stored.dtype == original.dtype, stored.shape == original.shape else {
                throw ConversionError.verificationFailed(
                    file: file, tensor: name, reason: "\(stored.dtype.rawValue) \(stored.shape) read back, \(original.dtype.rawValue) \(original.shape) written")
            }
            guard stored.hasSamePackedBytes(as: original) else {
                throw ConversionError.verificationFailed(file: file, tensor: name, reason: "its bytes differ")
            }
        }
    }

    /// A state_dict read from any supported file, with what to carry over.
    struct Source {
        let stateDict: StateDict
        let info: CheckpointInfo?
        /// Metadata of a safetensors source, or alphabet-like strings of a checkpoint dict.
        let carried: [(key: String, value: String)]
    }

    /// Reads the state_dict of a `.bin`, a `.pt` (names as PyTorch gives
    /// them) or a safetensors file.
    static func readStateDict(path: String) throws -> Source {
        if try ConversionError.isCRNNFile(path) {
            let file = try CRNNFile.open(path: path)
            return Source(stateDict: file.tensors, info: nil, carried: [("alphabet", file.metadata.alphabet)])
        }
        let checkpoint = try TorchCheckpoint.open(
            path: path, options: CheckpointOptions(allowPickledModules: true, stripsWrapperPrefixes: false))
        try ConversionError.requireDense(checkpoint)
        var carried = checkpoint.safetensorsMetadata
        for key in AlphabetResolver.checkpointKeys where checkpoint.info.layout != .safetensors {
            if case let .string(text)? = checkpoint.topLevelValue(forKey: key) { carried.append((key, text)) }
        }
        return Source(stateDict: try checkpoint.loadStateDict(), info: checkpoint.info, carried: carried)
    }
}

/// A storage's identity: the same buffer at the same offset.
struct StorageIdentity: Hashable {
    let buffer: ObjectIdentifier
    let offset: Int

    init(_ slice: ByteSlice) {
        buffer = ObjectIdentifier(slice.buffer)
        offset = slice.offset
    }
}

/// JSON string literals, as the safetensors header needs them.
enum JSONText {
    /// `text` in double quotes with `"`, `\` and control characters escaped;
    /// everything else is kept as UTF-8.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += "\\u00" + Hex.string([UInt8(scalar.value)])
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
