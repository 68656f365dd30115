import CRNN
import ImageDecoding

/// Pixels in memory -> the model's input: three planes of byte / 255
/// floats, as the reference notebook builds them from PIL's RGB image,
/// read straight from the caller's buffer (resized first only when asked).
enum InputPreparation {
    /// The model's input for the image in `pixels`.
    /// - Throws: `RecognitionError.invalidPixels` when the buffer does not
    ///   hold the image, `.unsupportedImageSize` for a height the model does
    ///   not read (unless resizing is asked for).
    static func input(pixels: UnsafeRawBufferPointer, width: Int, height: Int, bytesPerRow: Int?,
                      format: PixelFormat, name: String, model: ModelDescription,
                      options: RecognitionOptions) throws(RecognitionError) -> CRNNInput {
        let stride = bytesPerRow ?? width &* format.bytesPerPixel
        try PixelGeometry.check(width: width, height: height, format: format, bytesPerRow: stride,
                                available: pixels.count, image: name)
        guard let base = pixels.baseAddress else {
            throw .invalidPixels(image: name, message: "the pixel buffer has no memory")
        }
        let planes: [Float], size: (width: Int, height: Int)
        if model.acceptedHeights.contains(height) {
            planes = planar(base, width: width, height: height, bytesPerRow: stride, format: format)
            size = (width, height)
        } else if options.resizesToModelHeight {
            let target = model.nominalHeight
            let newWidth = max(1, Int((Double(width) * Double(target) / Double(height) + 0.5).rounded(.down)))
            let rgb = packedRGB(base, width: width, height: height, bytesPerRow: stride, format: format)
            let resized = PillowBilinear.resize(rgb: rgb, width: width, height: height, newWidth: newWidth, newHeight: target)
            planes = resized.withUnsafeBytes { raw in
                // A packed RGB buffer of at least one pixel always has an address.
                planar(raw.baseAddress!, width: newWidth, height: target, bytesPerRow: newWidth * 3, format: .rgb8)
            }
            size = (newWidth, target)
        } else {
            throw .unsupportedImageSize(image: name, width: width, height: height, acceptedHeights: model.acceptedHeights)
        }
        do {
            return try CRNNInput(height: size.height, width: size.width, planes: planes)
        } catch {
            throw .invalidPixels(image: name, message: "\(error)")
        }
    }

    /// `[3, height, width]` planes of scaled bytes, read row by row from `base`.
    private static func planar(_ base: UnsafeRawPointer, width: Int, height: Int, bytesPerRow: Int,
                               format: PixelFormat) -> [Float] {
        let plane = width * height, step = format.bytesPerPixel
        let (red, green, blue) = format.channelOffsets
        return [Float](unsafeUninitializedCapacity: 3 * plane) { out, initialized in
            RGBImage.scaled.withUnsafeBufferPointer { table in
                for y in 0..<height {
                    let row = base.advanced(by: y * bytesPerRow).assumingMemoryBound(to: UInt8.self)
                    let at = y * width
                    for x in 0..<width {
                        let pixel = row + x * step
                        out[at + x] = table[Int(pixel[red])]
                        out[plane + at + x] = table[Int(pixel[green])]
                        out[2 * plane + at + x] = table[Int(pixel[blue])]
                    }
                }
            }
            initialized = 3 * plane
        }
    }

    /// The pixels as packed RGB bytes (what PIL's `convert('RGB')` holds).
    private static func packedRGB(_ base: UnsafeRawPointer, width: Int, height: Int, bytesPerRow: Int,
                                  format: PixelFormat) -> [UInt8] {
        let step = format.bytesPerPixel
        let (red, green, blue) = format.channelOffsets
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            let row = base.advanced(by: y * bytesPerRow).assumingMemoryBound(to: UInt8.self)
            for x in 0..<width {
                let pixel = row + x * step, at = 3 * (y * width + x)
                rgb[at] = pixel[red]
                rgb[at + 1] = pixel[green]
                rgb[at + 2] = pixel[blue]
            }
        }
        return rgb
    }

    /// `body` over the bytes of `array`, with its typed error kept.
    static func withBytes<R>(of array: [UInt8],
                             _ body: (UnsafeRawBufferPointer) throws(RecognitionError) -> R) throws(RecognitionError) -> R {
        let result = array.withUnsafeBytes { raw in Result { () throws(RecognitionError) in try body(raw) } }
        return try result.get()
    }
}
