import TensorCore

/// Why an image could not be read. Each case names the file.
public enum ImageDecodingError: Error, Equatable, CustomStringConvertible {
    /// The file could not be read.
    case unreadable(file: String, reason: String)
    /// Another process truncated or rewrote the file while it was read.
    case changedWhileRead(file: String)
    /// Neither a PNG nor a JPEG signature.
    case unknownFormat(file: String, found: String)
    /// The decoder rejected the data.
    case corrupt(file: String, format: ImageFormat, reason: String)
    /// Too many pixels to decode safely.
    case tooLarge(file: String, reason: String)
    /// A valid image of a kind this reader does not convert.
    case unsupported(file: String, reason: String)
    /// Pixels that do not fill the declared size.
    case badPixelCount(width: Int, height: Int, count: Int)

    public var description: String {
        switch self {
        case let .unreadable(file, reason): "\(file): cannot read: \(reason)"
        case let .changedWhileRead(file): TensorCoreError.changedWhileRead(path: file).description
        case let .unknownFormat(file, found): "\(file): not a PNG or JPEG image (starts with \(found))"
        case let .corrupt(file, format, reason): "\(file): damaged \(format.rawValue.uppercased()) image: \(reason)"
        case let .tooLarge(file, reason): "\(file): image too large: \(reason)"
        case let .unsupported(file, reason): "\(file): unsupported image: \(reason)"
        case let .badPixelCount(width, height, count): "\(count) bytes do not make a \(width)x\(height) RGB image"
        }
    }
}

/// The image formats read.
public enum ImageFormat: String, Sendable {
    case png, jpeg
}
