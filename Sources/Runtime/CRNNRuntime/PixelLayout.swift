import ImageDecoding

/// How 8-bit pixels are laid out in memory.
public enum PixelFormat: String, Sendable, CaseIterable {
    /// Red, green, blue: 3 bytes a pixel.
    case rgb8
    /// Red, green, blue, alpha: 4 bytes a pixel. Alpha is dropped, not
    /// composited, as PIL's `convert('RGB')` does.
    case rgba8
    /// Blue, green, red, alpha (Core Graphics' and Windows' usual order):
    /// 4 bytes a pixel. Alpha is dropped.
    case bgra8
    /// One grey byte a pixel, read as R = G = B.
    case gray8

    /// Bytes one pixel takes.
    public var bytesPerPixel: Int {
        switch self {
        case .rgb8: 3
        case .rgba8, .bgra8: 4
        case .gray8: 1
        }
    }

    /// Where red, green and blue sit within a pixel.
    var channelOffsets: (red: Int, green: Int, blue: Int) {
        switch self {
        case .rgb8, .rgba8: (0, 1, 2)
        case .bgra8: (2, 1, 0)
        case .gray8: (0, 0, 0)
        }
    }
}

/// An image's pixels in memory that the recognizer owns (for batches and
/// `async` calls, where a borrowed pointer cannot travel).
public struct PixelImage: Sendable {
    /// Columns.
    public let width: Int
    /// Rows.
    public let height: Int
    /// The layout of each pixel.
    public let format: PixelFormat
    /// Bytes from one row's start to the next's (at least `width * bytesPerPixel`).
    public let bytesPerRow: Int
    /// The rows, `bytesPerRow` bytes apart (the last row may stop at its last pixel).
    public let bytes: [UInt8]

    /// Pixels held in `bytes`.
    /// - Parameters:
    ///   - width: pixels per row.
    ///   - height: rows.
    ///   - format: the layout of each pixel.
    ///   - bytesPerRow: the row stride; `nil` means rows are packed
    ///     (`width * format.bytesPerPixel`).
    ///   - bytes: the rows.
    /// - Throws: `RecognitionError.invalidPixels` when a size is below 1,
    ///   the stride is shorter than a row, or `bytes` is too short.
    public init(width: Int, height: Int, format: PixelFormat, bytesPerRow: Int? = nil, bytes: [UInt8]) throws(RecognitionError) {
        let stride = bytesPerRow ?? width &* format.bytesPerPixel
        try PixelGeometry.check(width: width, height: height, format: format, bytesPerRow: stride,
                                available: bytes.count, image: "pixel image")
        self.width = width
        self.height = height
        self.format = format
        self.bytesPerRow = stride
        self.bytes = bytes
    }
}

/// Checks that a pixel buffer holds the image it is said to hold.
enum PixelGeometry {
    /// The bytes an image of this shape needs: every row but the last at its
    /// full stride, the last up to its last pixel.
    /// - Throws: `RecognitionError.invalidPixels` with what is wrong.
    static func check(width: Int, height: Int, format: PixelFormat, bytesPerRow: Int, available: Int,
                      image: String) throws(RecognitionError) {
        guard width >= 1, height >= 1 else {
            throw .invalidPixels(image: image, message: "an image needs a width and height of at least 1, got \(width)x\(height)")
        }
        let (rowBytes, o1) = width.multipliedReportingOverflow(by: format.bytesPerPixel)
        guard !o1, bytesPerRow >= rowBytes else {
            throw .invalidPixels(image: image, message: "bytesPerRow \(bytesPerRow) is shorter than a row of \(width) "
                                 + "\(format.rawValue) pixels (\(o1 ? "too many" : "\(rowBytes)") bytes)")
        }
        let (full, o2) = (height - 1).multipliedReportingOverflow(by: bytesPerRow)
        let (needed, o3) = full.addingReportingOverflow(rowBytes)
        guard !o2, !o3, available >= needed else {
            throw .invalidPixels(image: image, message: "\(available) bytes do not hold \(width)x\(height) \(format.rawValue) "
                                 + "pixels \(bytesPerRow) bytes per row (\(o2 || o3 ? "too many" : "\(needed)") needed)")
        }
    }
}

extension PixelImage {
    /// The RGB pixels of a PNG or JPEG image, decoded as the recognizer
    /// decodes files (PIL's `convert('RGB')`): for a program that wants to
    /// crop, inspect or reuse an image's pixels before reading it.
    /// - Throws: `RecognitionError.unreadableImage` naming `name` when the
    ///   bytes are not a PNG or JPEG the decoder reads.
    public init(decoding bytes: [UInt8], name: String = "encoded image") throws(RecognitionError) {
        let image: RGBImage
        do { image = try ImageDecoder.decode(bytes: bytes, name: name) } catch {
            throw .unreadableImage(image: name, message: "\(error)")
        }
        try self.init(width: image.width, height: image.height, format: .rgb8, bytes: image.pixels)
    }
}
