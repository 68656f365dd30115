/// The notebook's `cn6` blockCNN: `cn6.conv` 3x3 pad 1 WITH bias, then
/// `cn6.bn`, then ReLU.
public struct CN6Block: Sendable {
    /// `cn6.conv`.
    public let conv: Conv2d
    /// `cn6.bn`.
    public let norm: BatchNorm2d

    /// `cn6.conv` as `CRNNArchitecture` plans it, and `cn6.bn`.
    init(_ architecture: CRNNArchitecture, reader: inout WeightReader) {
        conv = Conv2d(architecture.cn6, reader: &reader)
        norm = BatchNorm2d(prefix: "cn6.bn", channels: architecture.cn6.outChannels, reader: &reader)
    }
}
