public import TensorCore

/// Summary statistics of a tensor's values, as `crnn-inspect --stats` shows
/// them. `min`, `max`, `mean` and `std` cover the finite values only (NaN and
/// infinities are counted apart); `std` is the sample standard deviation
/// (n - 1), as `torch.std` computes by default. They are `nil` when there are
/// no finite values (or, for `std`, fewer than two).
public struct TensorStatistics: Codable, Equatable, Sendable {
    /// The smallest finite value.
    public var min: Double?
    /// The largest finite value.
    public var max: Double?
    /// The mean of the finite values.
    public var mean: Double?
    /// The sample standard deviation (n - 1) of the finite values.
    public var std: Double?
    /// How many values are NaN.
    public var nanCount: Int
    /// How many values are infinite (either sign).
    public var infCount: Int

    /// Computes the statistics in one pass (Welford's method, in double
    /// precision); a second pass over the values scaled by the largest
    /// magnitude when the squares overflow (values near 1e300), so `std`
    /// is finite whenever the true standard deviation is.
    public init(of tensor: Tensor) {
        var pass = Welford(tensor, scale: 1)
        if !pass.squares.isFinite, pass.count > 1 {
            let largest = Swift.max(abs(pass.low), abs(pass.high))
            let scaled = Welford(tensor, scale: largest)
            pass.squares = scaled.squares
            self.std = largest * (scaled.squares / Double(pass.count - 1)).squareRoot()
        } else {
            self.std = pass.count > 1 ? (pass.squares / Double(pass.count - 1)).squareRoot() : nil
        }
        self.min = pass.count > 0 ? pass.low : nil
        self.max = pass.count > 0 ? pass.high : nil
        self.mean = pass.count > 0 ? pass.mean : nil
        nanCount = pass.nans
        infCount = pass.infinities
    }

    /// One pass of Welford's method over the finite values divided by `scale`
    /// (`low`, `high` and `mean` unscaled only when `scale` is 1).
    private struct Welford {
        var count = 0, mean = 0.0, squares = 0.0
        var low = Double.infinity, high = -Double.infinity
        var nans = 0, infinities = 0

        init(_ tensor: Tensor, scale: Double) {
            tensor.forEachElement { raw in
                if raw.isNaN { nans += 1; return }
                if raw.isInfinite { infinities += 1; return }
                let value = raw / scale
                count += 1
                let delta = value - mean
                mean += delta / Double(count)
                squares += delta * (value - mean)
                low = Swift.min(low, value)
                high = Swift.max(high, value)
            }
        }
    }

    enum CodingKeys: String, CodingKey {
        case min, max, mean, std, nanCount, infCount
    }

    /// Every field, undefined ones as JSON `null` (the README's schema), not
    /// left out as the synthesized encoding would.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        for (key, value) in [(CodingKeys.min, min), (.max, max), (.mean, mean), (.std, std)] {
            if let value { try container.encode(value, forKey: key) } else { try container.encodeNil(forKey: key) }
        }
        try container.encode(nanCount, forKey: .nanCount)
        try container.encode(infCount, forKey: .infCount)
    }
}
