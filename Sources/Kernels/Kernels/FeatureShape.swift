/// The shape of an NCHW float32 feature map: `batch` images of `channels`
/// planes of `height` x `width` values, stored row-major.
public struct FeatureShape: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// Images in the batch (N).
    public let batch: Int
    /// Planes per image (C).
    public let channels: Int
    /// Rows per plane (H).
    public let height: Int
    /// Columns per plane (W).
    public let width: Int

    /// A shape of positive sizes.
    /// - Throws: `KernelError.invalidParameter` for a size below 1,
    ///   `KernelError.sizeOverflow` when the element count does not fit in an `Int`.
    public init(batch: Int, channels: Int, height: Int, width: Int) throws {
        for (name, value) in [("batch", batch), ("channels", channels), ("height", height), ("width", width)]
        where value < 1 {
            throw KernelError.invalidParameter(operation: "feature map", name: name, value: value)
        }
        _ = try checkedProduct(batch, channels, height, width, operation: "feature map")
        self.batch = batch
        self.channels = channels
        self.height = height
        self.width = width
    }

    /// Elements per plane (H * W).
    public var planeCount: Int { height * width }
    /// Elements per image (C * H * W).
    public var imageCount: Int { channels * height * width }
    /// All elements (N * C * H * W).
    public var count: Int { batch * channels * height * width }

    public var description: String { "[\(batch), \(channels), \(height), \(width)]" }
}

/// PyTorch's output length of a sliding window: floor((n + 2p - k) / s) + 1,
/// or nil when the window never fits.
func slidingOutputLength(input n: Int, kernel k: Int, stride s: Int, padding p: Int) -> Int? {
    let span = n + 2 * p - k
    guard span >= 0 else { return nil }
    return span / s + 1
}
