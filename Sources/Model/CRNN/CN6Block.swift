/// The notebook's `cn6` blockCNN: `cn6.conv` 3x3 pad 1 WITH bias, then
/// `cn6.bn`, then ReLU.
public struct CN6Block: Sendable {
    /// `cn6.conv`.
    public let conv: Conv2d
    /// `cn6.bn`.
    public let norm: BatchNorm2d

    /// The block's keys and shapes, in state_dict order.
    public static func parameters(channels: Int) -> [ParameterSpec] {
        WeightReader.specs { _ = CN6Block(channels: channels, reader: &$0) }
    }

    init(channels: Int, reader: inout WeightReader) {
        conv = Conv2d(prefix: "cn6.conv", outChannels: channels, inChannels: channels, kernelSize: 3, stride: 1,
                      padding: 1, hasBias: true, reader: &reader)
        norm = BatchNorm2d(prefix: "cn6.bn", channels: channels, reader: &reader)
    }
}
