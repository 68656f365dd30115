import CImageDecoders
import Foundation

/// Decodes PNG and JPEG files to RGB exactly as PIL's
/// `Image.open(path).convert('RGB')` does: alpha dropped (not composited),
/// grey replicated, palettes expanded, 16-bit samples cut to their high byte
/// (16-bit grey clipped to 255, as PIL's `I;16` conversion does), no gamma;
/// JPEG with libjpeg's ISLOW DCT and fancy upsampling. CMYK JPEGs are refused.
public enum ImageDecoder {
    /// The largest width or height accepted (checked before allocating pixels).
    public static let maximumSide: UInt32 = 16384

    /// Decodes the image at `path`; the format is taken from its signature.
    /// - Throws: `ImageIOError` naming the file.
    public static func decode(path: String) throws -> RGBImage {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe) } catch {
            throw ImageIOError.unreadable(file: path, reason: (error as NSError).localizedDescription)
        }
        return try decode(bytes: [UInt8](data), name: path)
    }

    /// Decodes image bytes; `name` is used in messages.
    /// - Throws: `ImageIOError` naming `name`.
    public static func decode(bytes: [UInt8], name: String) throws -> RGBImage {
        let format: ImageFormat
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            format = .png
        } else if bytes.starts(with: [0xFF, 0xD8, 0xFF]) {
            format = .jpeg
        } else {
            let start = bytes.prefix(8).map { String(format: "%02x", $0) }.joined(separator: " ")
            throw ImageIOError.unknownFormat(file: name, found: start.isEmpty ? "nothing: the file is empty" : start)
        }
        var image = crnn_image()
        let status = bytes.withUnsafeBufferPointer { buffer in
            format == .png
                ? crnn_decode_png(buffer.baseAddress, buffer.count, maximumSide, &image)
                : crnn_decode_jpeg(buffer.baseAddress, buffer.count, maximumSide, &image)
        }
        defer { crnn_image_free(&image) }
        let message = withUnsafeBytes(of: image.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        switch status {
        case CRNN_IMAGE_OK: break
        case CRNN_IMAGE_TOO_LARGE: throw ImageIOError.tooLarge(file: name, reason: message)
        case CRNN_IMAGE_UNSUPPORTED: throw ImageIOError.unsupported(file: name, reason: message)
        case CRNN_IMAGE_NO_MEMORY: throw ImageIOError.tooLarge(file: name, reason: message)
        default: throw ImageIOError.corrupt(file: name, format: format, reason: message.isEmpty ? "unreadable data" : message)
        }
        let width = Int(image.width)
        let height = Int(image.height)
        guard let pixels = image.pixels else { throw ImageIOError.corrupt(file: name, format: format, reason: "no pixels") }
        return try RGBImage(width: width, height: height,
                            pixels: Array(UnsafeBufferPointer(start: pixels, count: width * height * 3)))
    }
}
