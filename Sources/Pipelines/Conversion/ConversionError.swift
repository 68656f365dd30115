public import CRNNFormat
public import TorchCheckpoint
/// Why a conversion, a safetensors export, an inspection or a comparison was
/// refused: the one error the Conversion product throws. The checkpoint
/// reader's and the `.bin` format's errors are carried in `.checkpoint` and
/// `.format`, with their own messages; the other cases are this product's.
public enum ConversionError: Error, Equatable, CustomStringConvertible {
    /// The PyTorch checkpoint (or safetensors file) could not be read.
    case checkpoint(CheckpointError)
    /// A CRNN-BIN `.bin` file could not be read or written.
    case format(CRNNFormatError)
    /// An input file cannot be read at all (missing, a permission, not a
    /// regular file), before its format is known.
    case unreadableInput(file: String, reason: String)
    /// An input that may be a checkpoint or a `.bin` is empty.
    case emptyModelFile(file: String)
    /// An input that may be a checkpoint or a `.bin` is neither; `found`
    /// shows its first bytes.
    case unknownModelFormat(file: String, found: String)
    /// A report could not be rendered as JSON (`reason` is the encoder's).
    case reportNotEncodable(reason: String)
    /// The caller's `SourceDigest` failed.
    case sourceDigestFailed(file: String, reason: String)
    /// A tensor to export is named `__metadata__`, the key safetensors reserves.
    case reservedTensorName(file: String)
    /// A tensor is sparse or quantized (`kind` says which), which neither a
    /// CRNN's weights nor a safetensors file can be.
    case notDenseTensor(file: String, tensor: String, kind: String)
    /// A tensor to export has a dtype safetensors has no type for (complex128).
    case dtypeNotInSafetensors(file: String, tensor: String, dtype: String)
    /// The safetensors header would exceed the format's 100,000,000-byte limit.
    case safetensorsHeaderTooLarge(file: String, bytes: Int, limit: Int)
    /// The file system refused a step of writing a safetensors file atomically.
    case writeFailed(file: String, reason: String)
    /// The checkpoint's tensors do not fit the CRNN (every problem, in one line).
    case notACRNN(file: String, problems: String)
    /// The output path is the input file.
    case wouldOverwriteInput(path: String)
    /// The stored float type is not one the format keeps.
    case unsupportedStoredType(String)
    /// No alphabet given and none can be inferred for this vocabulary size.
    case alphabetRequired(file: String, vocabularySize: Int)
    /// The alphabet does not fit the model.
    case alphabetMismatch(file: String, alphabet: String, reason: String)
    /// Reading the written file back gave other values than the source.
    case verificationFailed(file: String, tensor: String, reason: String)
    /// The input is a CRNN-BIN file already, not a PyTorch checkpoint.
    case alreadyConverted(file: String)
    /// The output path is the empty string.
    case emptyOutputPath
    /// A `.bin`'s metadata says something about the model that its tensors contradict.
    case metadataContradictsTensors(file: String, contradiction: MetadataContradiction)

    public var description: String {
        switch self {
        case let .checkpoint(error): error.description
        case let .format(error): error.description
        case let .unreadableInput(file, reason): "\(file): cannot read: \(reason)"
        case let .emptyModelFile(file):
            "\(file): the file is empty; expected a PyTorch checkpoint or a .bin written by crnn-convert"
        case let .unknownModelFormat(file, found):
            "\(file): unknown format (starts with \(found)); expected a PyTorch checkpoint (a torch.save zip archive or "
                + "legacy pickle) or a .bin written by crnn-convert (starting \"CRNN-BIN\")"
        case let .reportNotEncodable(reason): "the report cannot be written as JSON: \(reason)"
        case let .sourceDigestFailed(file, reason): "\(file): cannot compute its SHA-256: \(reason)"
        case let .reservedTensorName(file):
            "\(file): a tensor is named '__metadata__', the key safetensors reserves for metadata; rename it"
        case let .notDenseTensor(file, tensor, kind):
            "\(file): tensor '\(tensor)' is \(kind); a CRNN's weights and a safetensors file's tensors are dense: "
                + "dequantize or densify it in PyTorch first (t.dequantize(), t.to_dense())"
        case let .dtypeNotInSafetensors(file, tensor, dtype):
            "\(file): tensor '\(tensor)' is \(dtype), which safetensors has no type for (it has complex64, not complex128); "
                + "convert it to complex64 in PyTorch first"
        case let .safetensorsHeaderTooLarge(file, bytes, limit):
            "\(file): the safetensors header would take \(bytes) bytes, over the format's limit of \(limit)"
        case let .writeFailed(file, reason):
            "\(file): cannot write: \(reason); nothing was kept"
        case let .notACRNN(file, problems):
            "\(file): \(problems)"
        case let .wouldOverwriteInput(path):
            "\(path): the output is the input file; choose another output path"
        case let .unsupportedStoredType(name):
            "unsupported stored type '\(name)'; expected f32 or f16"
        case let .alphabetRequired(file, size):
            "\(file): the model has \(size) classes (\(size - 1) characters plus the CTC blank) and no alphabet; pass --alphabet with \(size - 1) characters"
        case let .alphabetMismatch(file, alphabet, reason):
            "\(file): alphabet '\(alphabet)' does not fit the model: \(reason)"
        case let .verificationFailed(file, tensor, reason):
            "\(file): written file differs from the source at tensor '\(tensor)': \(reason); nothing was kept"
        case let .alreadyConverted(file):
            "\(file): already a CRNN-BIN file (what crnn-convert writes), not a PyTorch checkpoint; crnn-predict and crnn-inspect take it as it is"
        case .emptyOutputPath:
            "the output path is empty; give the path of the .bin file to write"
        case let .metadataContradictsTensors(file, contradiction):
            "\(file): \(contradiction); the file is inconsistent (edited by hand?): convert the checkpoint again"
        }
    }
}

extension ConversionError {
    /// `error` as the product's error: a `ConversionError` is itself; the
    /// reader's and the format's errors are wrapped; anything else (a
    /// TensorCore view error, say) becomes the reader's error about `file`.
    package static func converted(_ error: any Error, file: String) -> ConversionError {
        switch error {
        case let error as ConversionError: error
        case let error as CRNNFormatError: .format(error)
        case let error as SafetensorsProblem: .checkpoint(.invalidSafetensors(file: file, problem: error))
        default: .checkpoint(CheckpointError.converted(error, file: file))
        }
    }

    /// Refuses the first sparse or quantized tensor of `checkpoint`.
    /// - Throws: `.notDenseTensor` naming it and what it is.
    package static func requireDense(_ checkpoint: TorchCheckpoint) throws(ConversionError) {
        for (name, record) in checkpoint.tensors {
            if let sparse = record.sparse {
                throw .notDenseTensor(file: checkpoint.fileName, tensor: name, kind: "sparse (\(sparse.layout))")
            }
            if let quantization = record.quantization {
                throw .notDenseTensor(file: checkpoint.fileName, tensor: name, kind: "quantized (\(record.dtype.rawValue), \(quantization.scheme))")
            }
        }
    }

    /// True when `path` is a CRNN-BIN file (by its magic; see
    /// `CRNNFile.looksLikeCRNNFile`), false for anything else.
    /// - Throws: `.unreadableInput` when it cannot be read.
    package static func isCRNNFile(_ path: String) throws(ConversionError) -> Bool {
        do { return try CRNNFile.looksLikeCRNNFile(path: path) } catch {
            guard case let .fileAccess(file, reason) = error else { throw .format(error) }
            throw .unreadableInput(file: file, reason: reason)
        }
    }

    /// A reader's error as a tool that also reads `.bin` files reports it: an
    /// empty or unrecognised file names both formats it takes.
    package static func namingTheBinAlternative(_ error: CheckpointError) -> ConversionError {
        switch error {
        case let .empty(file): .emptyModelFile(file: file)
        case let .unknownFormat(file, found): .unknownModelFormat(file: file, found: found)
        default: .checkpoint(error)
        }
    }
}
