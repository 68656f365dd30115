public import TensorCore

/// Summary statistics of a tensor's values, as `crnn-inspect --stats` shows
/// them. `min`, `max`, `mean` and `std` cover the finite values only (NaN and
/// infinities are counted apart); `std` is the sample standard deviation
/// (n - 1), as `torch.std` computes by default. They are `nil` when there are
/// no finite values (or, for `std`, fewer than two).
public struct TensorStatistics: Codable, Equatable, Sendable {
    public var min: Double?
    public var max: Double?
    public var mean: Double?
    public var std: Double?
    public var nanCount: Int
    public var infCount: Int

    /// Computes the statistics in one pass (Welford's method, in double precision).
    public init(of tensor: Tensor) {
        var count = 0
        var mean = 0.0
        var squares = 0.0
        var low = Double.infinity
        var high = -Double.infinity
        var nans = 0
        var infinities = 0
        tensor.forEachElement { value in
            if value.isNaN { nans += 1; return }
            if value.isInfinite { infinities += 1; return }
            count += 1
            let delta = value - mean
            mean += delta / Double(count)
            squares += delta * (value - mean)
            low = Swift.min(low, value)
            high = Swift.max(high, value)
        }
        self.min = count > 0 ? low : nil
        self.max = count > 0 ? high : nil
        self.mean = count > 0 ? mean : nil
        self.std = count > 1 ? (squares / Double(count - 1)).squareRoot() : nil
        nanCount = nans
        infCount = infinities
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
