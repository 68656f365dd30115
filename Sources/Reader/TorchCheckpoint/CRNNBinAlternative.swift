/// A file a command that reads both PyTorch checkpoints and CRNN-BIN `.bin`
/// files (`crnn-inspect`, `crnn-predict`) recognises as neither: the message
/// names both formats it takes.
public enum CheckpointOrBinError: Error, Equatable, CustomStringConvertible {
    /// The file is empty.
    case empty(file: String)
    /// The first bytes are neither a PyTorch checkpoint's nor the CRNN-BIN magic.
    case unknownFormat(file: String, found: String)

    public var description: String {
        switch self {
        case let .empty(file):
            "\(file): the file is empty; expected a PyTorch checkpoint or a .bin written by crnn-convert"
        case let .unknownFormat(file, found):
            "\(file): unknown format (starts with \(found)); expected a PyTorch checkpoint (a torch.save zip archive or "
                + "legacy pickle) or a .bin written by crnn-convert (starting \"CRNN-BIN\")"
        }
    }
}

extension CheckpointError {
    /// This error as a command that also reads `.bin` files reports it: an
    /// empty or unrecognised file becomes `CheckpointOrBinError`, naming both
    /// formats; every other error is `self`.
    public var namingTheBinAlternative: any Error {
        switch self {
        case let .empty(file): CheckpointOrBinError.empty(file: file)
        case let .unknownFormat(file, found): CheckpointOrBinError.unknownFormat(file: file, found: found)
        default: self
        }
    }
}
