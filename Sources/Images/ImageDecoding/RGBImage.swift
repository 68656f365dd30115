/// 8-bit RGB pixels, row-major, interleaved R G B: what PIL's
/// `Image.open(p).convert('RGB')` gives.
public struct RGBImage: Equatable, Sendable {
    /// Pixels per row.
    public let width: Int
    /// Rows.
    public let height: Int
    /// `width * height * 3` bytes.
    public let pixels: [UInt8]

    /// An image of `pixels`.
    /// - Throws: `ImageDecodingError.badPixelCount` when the count is not `width * height * 3`.
    public init(width: Int, height: Int, pixels: [UInt8]) throws {
        let (area, o1) = width.multipliedReportingOverflow(by: height)
        let (count, o2) = area.multipliedReportingOverflow(by: 3)
        guard width >= 0, height >= 0, !o1, !o2, count == pixels.count else {
            throw ImageDecodingError.badPixelCount(width: width, height: height, count: pixels.count)
        }
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// The model's input, exactly as the reference notebook builds it:
    /// `[3, H, W]` channel planes of `Float(Double(byte) / 255)` (numpy divides
    /// in double precision, then the tensor is cast to float32).
    public func planarFloats() -> [Float] {
        let plane = width * height
        var planes = [Float](repeating: 0, count: plane * 3)
        planes.withUnsafeMutableBufferPointer { out in
            pixels.withUnsafeBufferPointer { source in
                for index in 0..<plane {
                    out[index] = RGBImage.scaled[Int(source[3 * index])]
                    out[plane + index] = RGBImage.scaled[Int(source[3 * index + 1])]
                    out[2 * plane + index] = RGBImage.scaled[Int(source[3 * index + 2])]
                }
            }
        }
        return planes
    }

    /// `Float(Double(b) / 255)` for every byte value.
    package static let scaled: [Float] = (0...255).map { Float(Double($0) / 255.0) }
}
