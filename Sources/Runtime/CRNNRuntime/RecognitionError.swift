/// Why a recognizer could not be made, or one image could not be read.
///
/// The one error type of `CRNNRuntime`: switch on the case to act, or show
/// `description`, a single line that names the file (or the image) and
/// what was expected.
public enum RecognitionError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The model file or bytes are not a usable CRNN `.bin` (unreadable,
    /// truncated, corrupt, a newer format, or weights that do not make a
    /// CRNN). `message` is the reader's own line, naming `file`.
    case invalidModel(file: String, message: String)
    /// An image file or encoded image could not be read or decoded (missing,
    /// not PNG or JPEG, damaged, too large, CMYK). `message` names `image`.
    case unreadableImage(image: String, message: String)
    /// The pixels given do not fill the buffer as described (a size below 1,
    /// `bytesPerRow` too small, or a buffer too short).
    case invalidPixels(image: String, message: String)
    /// The image's height is not one the model reads (and resizing was not
    /// asked for), or the image is too small to give one time step.
    case unsupportedImageSize(image: String, width: Int, height: Int, acceptedHeights: ClosedRange<Int>)
    /// The model could not run (for example a vector unit or library it
    /// needs is missing on this machine). `message` says what failed: the
    /// kernel's own line when the machine is at fault (it would fail for
    /// every image, so it does not name `image`), else one naming `image`.
    case computationFailed(image: String, message: String)

    /// One line: what is wrong and what was expected.
    public var description: String {
        switch self {
        case let .invalidModel(_, message): message
        case let .unreadableImage(_, message): message
        case let .invalidPixels(image, message): "\(image): \(message)"
        case let .unsupportedImageSize(image, width, height, accepted):
            "\(image): image height \(height) (width \(width)) is not supported: this model needs a height in "
                + "\(accepted.lowerBound)...\(accepted.upperBound); resize the image "
                + "(RecognitionOptions.resizesToModelHeight does it as PIL's bilinear resize)"
        case let .computationFailed(_, message): message
        }
    }
}
