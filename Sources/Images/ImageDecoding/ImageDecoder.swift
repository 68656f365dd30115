import CImageDecoders
import TensorCore

/// Decodes PNG and JPEG files to RGB exactly as PIL's
/// `Image.open(path).convert('RGB')` does: alpha dropped (not composited),
/// grey replicated, palettes expanded, 16-bit samples cut to their high byte
/// (16-bit grey clipped to 255, as PIL's `I;16` conversion does), no gamma;
/// JPEG with libjpeg's ISLOW DCT and fancy upsampling. CMYK JPEGs are refused.
public enum ImageDecoder {
    /// The largest width or height accepted (checked before allocating pixels).
    public static let maximumSide: UInt32 = 16384

    /// Decodes the image at `path` (read into memory first, see
    /// `ByteBuffer.reading(path:)`); the
    /// format is taken from its signature.
    /// - Throws: `ImageDecodingError` naming the file.
    public static func decode(path: String) throws -> RGBImage {
        let buffer: ByteBuffer
        do { buffer = try ByteBuffer.reading(path: path) } catch {
            if case TensorCoreError.changedWhileRead = error { throw ImageDecodingError.changedWhileRead(file: path) }
            throw ImageDecodingError.unreadable(file: path, reason: (error as? TensorCoreError)?.fileReason ?? "\(error)")
        }
        return try buffer.withUnsafeBytes { try decode(raw: $0, name: path) }
    }

    /// Decodes image bytes; `name` is used in messages.
    /// - Throws: `ImageDecodingError` naming `name`.
    public static func decode(bytes: [UInt8], name: String) throws -> RGBImage {
        try bytes.withUnsafeBytes { try decode(raw: $0, name: name) }
    }

    /// Decodes the bytes in place (mapped file or array alike).
    private static func decode(raw bytes: UnsafeRawBufferPointer, name: String) throws -> RGBImage {
        let format: ImageFormat
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            format = .png
        } else if bytes.starts(with: [0xFF, 0xD8, 0xFF]) {
            format = .jpeg
        } else {
            let start = Hex.string(bytes.prefix(8), separator: " ")
            throw ImageDecodingError.unknownFormat(file: name, found: start.isEmpty ? "nothing: the file is empty" : start)
        }
        var image = crnn_image()
        let data = bytes.bindMemory(to: UInt8.self).baseAddress
        let status = format == .png
            ? crnn_decode_png(data, bytes.count, maximumSide, &image)
            : crnn_decode_jpeg(data, bytes.count, maximumSide, &image)
        defer { crnn_image_free(&image) }
        let message = withUnsafeBytes(of: image.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        switch status {
        case CRNN_IMAGE_OK: break
        case CRNN_IMAGE_TOO_LARGE: throw ImageDecodingError.tooLarge(file: name, reason: message)
        case CRNN_IMAGE_UNSUPPORTED: throw ImageDecodingError.unsupported(file: name, reason: message)
        case CRNN_IMAGE_NO_MEMORY: throw ImageDecodingError.tooLarge(file: name, reason: message)
        default: throw ImageDecodingError.corrupt(file: name, format: format, reason: message.isEmpty ? "unreadable data" : message)
        }
        let width = Int(image.width)
        let height = Int(image.height)
        guard let pixels = image.pixels else { throw ImageDecodingError.corrupt(file: name, format: format, reason: "no pixels") }
        return try RGBImage(width: width, height: height,
                            pixels: Array(UnsafeBufferPointer(start: pixels, count: width * height * 3)))
    }
}
