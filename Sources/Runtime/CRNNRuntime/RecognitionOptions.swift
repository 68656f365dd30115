/// What one recognition call does besides reading the text.
public struct RecognitionOptions: Sendable, Equatable {
    /// Resize an image whose height the model does not read to the model's
    /// nominal height (`ModelDescription.nominalHeight`), keeping the aspect
    /// ratio (the new width is `width * nominal / height` rounded half up,
    /// at least 1), exactly as PIL's `Image.resize((w, h), Image.BILINEAR)`
    /// resizes 8-bit RGB. Off by default: an unsupported height is then
    /// `RecognitionError.unsupportedImageSize`. Images of an accepted height
    /// are never resized.
    public var resizesToModelHeight: Bool
    /// Return the model's raw scores in `Recognition.logits`.
    public var includesLogits: Bool

    /// Options; by default no resizing and no logits.
    public init(resizesToModelHeight: Bool = false, includesLogits: Bool = false) {
        self.resizesToModelHeight = resizesToModelHeight
        self.includesLogits = includesLogits
    }
}

/// One image of a batch, from wherever it is.
public enum ImageSource: Sendable {
    /// A PNG or JPEG file.
    case file(String)
    /// PNG or JPEG bytes in memory; `name` stands for them in errors.
    case encoded([UInt8], name: String)
    /// Pixels in memory; `name` stands for them in errors.
    case pixels(PixelImage, name: String)

    /// The name errors give the image.
    public var name: String {
        switch self {
        case let .file(path): path
        case let .encoded(_, name), let .pixels(_, name): name
        }
    }
}

/// What a loaded model reads.
public struct ModelDescription: Sendable, Equatable {
    /// The characters of the non-blank classes, in class order.
    public let alphabet: String
    /// Classes per time step, the CTC blank included.
    public let classes: Int
    /// The CTC blank class.
    public let blankClass: Int
    /// Image heights the model reads (49...64 for the reference model).
    public let acceptedHeights: ClosedRange<Int>
    /// The height the model was trained on (50 for the reference model);
    /// what `RecognitionOptions.resizesToModelHeight` resizes to.
    public let nominalHeight: Int
    /// The name of the PyTorch checkpoint the model was converted from.
    public let sourceFileName: String
    /// That checkpoint's SHA-256 (64 hex digits), when the converter recorded one.
    public let sourceSHA256: String?
}
