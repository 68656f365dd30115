/// Why a prediction run was refused.
public enum PredictionError: Error, Equatable, CustomStringConvertible {
    /// A path given is neither an image file nor a folder.
    case notFound(path: String)
    /// A folder holds no PNG or JPEG files.
    case noImages(path: String)
    /// `--torch-batch` images of one batch differ in size.
    case batchSizeMismatch(file: String, size: String, expected: String)
    /// The reference file cannot be used.
    case badReference(file: String, reason: String)
    /// An image the model cannot take (its size), naming the file.
    case unsupportedImage(file: String, reason: String)
    /// The model file cannot be used.
    case badModel(file: String, reason: String)
    /// The `--report` page could not be written (nothing was left at `file`).
    case reportNotWritten(file: String, reason: String)
    /// An alphabet was given for a `.bin` model, which stores its own.
    case alphabetGivenForBin(file: String)

    public var description: String {
        switch self {
        case let .notFound(path): "\(path): no such image file or folder"
        case let .noImages(path): "\(path): the folder holds no .png, .jpg or .jpeg files"
        case let .batchSizeMismatch(file, size, expected):
            "\(file): image is \(size) but its batch's first image is \(expected); a PyTorch batch needs equal sizes"
        case let .badReference(file, reason): "\(file): \(reason)"
        case let .unsupportedImage(file, reason): "\(file): \(reason)"
        case let .badModel(file, reason): "\(file): \(reason)"
        case let .reportNotWritten(file, reason): "\(file): cannot write the report: \(reason)"
        case let .alphabetGivenForBin(file):
            "\(file): a .bin model stores its alphabet, so --alphabet is not taken (it is for a PyTorch checkpoint); leave it out, or convert the checkpoint again with crnn-convert --alphabet"
        }
    }
}
