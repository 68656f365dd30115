/// Why a conversion was refused. The reader's, the model's and the format's
/// own errors pass through unchanged; these are the converter's.
public enum ConversionError: Error, Equatable, CustomStringConvertible {
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
