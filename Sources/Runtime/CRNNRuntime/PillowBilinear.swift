/// Resizes 8-bit RGB pixels exactly as Pillow's `Image.resize(size,
/// Image.BILINEAR)` does for an RGB image (Pillow's `libImaging/Resample.c`:
/// a triangle filter widened by the scale when shrinking, weights
/// normalised per output pixel and rounded to 22-bit fixed point, a
/// horizontal pass to 8 bits, then a vertical pass over only the rows it
/// needs). Pillow's resampling is deterministic integer arithmetic after the
/// weights, so the bytes match Pillow's exactly.
enum PillowBilinear {
    /// Bits of the fixed-point weights: 32 - 8 (the pixel) - 2 (headroom).
    private static let precisionBits = 22

    /// One output pixel's source range and fixed-point weights along one axis.
    struct Taps {
        /// First source index per output index.
        var first: [Int] = []
        /// Number of source indices per output index.
        var count: [Int] = []
        /// `ksize` weights per output index (unused ones zero).
        var weights: [Int] = []
        /// Weights stored per output index.
        var stride = 0
    }

    /// The taps that map `inSize` samples onto `outSize` (both at least 1),
    /// as Pillow's `precompute_coeffs` and `normalize_coeffs_8bpc` compute them.
    static func taps(inSize: Int, outSize: Int) -> Taps {
        let scale = Double(Float(inSize)) / Double(outSize)  // Pillow: (double)(in1 - in0) / outSize, in floats
        let filterScale = max(scale, 1.0)
        let support = 1.0 * filterScale  // the bilinear filter's support is 1
        let ksize = Int(support.rounded(.up)) * 2 + 1
        var taps = Taps(first: [], count: [], weights: [Int](repeating: 0, count: outSize * ksize), stride: ksize)
        let inverse = 1.0 / filterScale
        for out in 0..<outSize {
            let center = (Double(out) + 0.5) * scale
            let low = max(0, Int(center - support + 0.5))  // C's (int) truncates toward zero, as Int() does
            let high = min(inSize, Int(center + support + 0.5))
            let count = max(0, high - low)
            var raw = [Double](repeating: 0, count: count)
            var total = 0.0
            for x in 0..<count {
                let distance = abs((Double(x + low) - center + 0.5) * inverse)
                let weight = distance < 1 ? 1 - distance : 0
                raw[x] = weight
                total += weight
            }
            for x in 0..<count {
                let normalised = total != 0 ? raw[x] / total : raw[x]
                let fixed = normalised * Double(1 << precisionBits)
                taps.weights[out * ksize + x] = normalised < 0 ? Int(-0.5 + fixed) : Int(0.5 + fixed)
            }
            taps.first.append(low)
            taps.count.append(count)
        }
        return taps
    }

    /// A fixed-point sum back to a byte, as Pillow's `clip8`.
    @inline(__always)
    private static func clip(_ sum: Int) -> UInt8 { UInt8(clamping: sum >> precisionBits) }

    /// `pixels` (`width * height * 3` bytes of RGB, rows packed) resized to
    /// `newWidth` x `newHeight` (each at least 1).
    static func resize(rgb pixels: [UInt8], width: Int, height: Int, newWidth: Int, newHeight: Int) -> [UInt8] {
        let vertical = taps(inSize: height, outSize: newHeight)
        var source = pixels, sourceWidth = width, rowOffset = 0
        if newWidth != width {
            // Only the source rows the vertical pass reads are resampled horizontally.
            let firstRow = vertical.first[0]
            let endRow = vertical.first[newHeight - 1] + vertical.count[newHeight - 1]
            let horizontal = taps(inSize: width, outSize: newWidth)
            var temporary = [UInt8](repeating: 0, count: max(0, endRow - firstRow) * newWidth * 3)
            for y in firstRow..<max(firstRow, endRow) {
                let input = y * width * 3, output = (y - firstRow) * newWidth * 3
                for x in 0..<newWidth {
                    var sums = (1 << (precisionBits - 1), 1 << (precisionBits - 1), 1 << (precisionBits - 1))
                    let first = horizontal.first[x], weights = x * horizontal.stride
                    for tap in 0..<horizontal.count[x] {
                        let at = input + (first + tap) * 3, weight = horizontal.weights[weights + tap]
                        sums.0 += Int(pixels[at]) * weight
                        sums.1 += Int(pixels[at + 1]) * weight
                        sums.2 += Int(pixels[at + 2]) * weight
                    }
                    temporary[output + 3 * x] = clip(sums.0)
                    temporary[output + 3 * x + 1] = clip(sums.1)
                    temporary[output + 3 * x + 2] = clip(sums.2)
                }
            }
            source = temporary
            sourceWidth = newWidth
            rowOffset = firstRow
        }
        guard newHeight != height else { return source }
        var output = [UInt8](repeating: 0, count: newWidth * newHeight * 3)
        let rowBytes = sourceWidth * 3
        for y in 0..<newHeight {
            let first = vertical.first[y] - rowOffset, weights = y * vertical.stride
            for column in 0..<rowBytes {
                var sum = 1 << (precisionBits - 1)
                for tap in 0..<vertical.count[y] {
                    sum += Int(source[(first + tap) * rowBytes + column]) * vertical.weights[weights + tap]
                }
                output[y * rowBytes + column] = clip(sum)
            }
        }
        return output
    }
}
