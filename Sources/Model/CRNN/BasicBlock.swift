/// torchvision's `BasicBlock`: `conv1` 3x3 (stride s) -> `bn1` -> ReLU ->
/// `conv2` 3x3 -> `bn2` -> + identity (or `downsample.0` 1x1 conv (stride s) ->
/// `downsample.1` batch norm) -> ReLU. Convolutions have no bias.
public struct BasicBlock: Sendable {
    /// Input channels.
    public let inChannels: Int
    /// Output channels.
    public let outChannels: Int
    /// Stride of `conv1` and of the downsample path.
    public let stride: Int
    /// `conv1` 3x3.
    public let conv1: Conv2d
    /// `bn1`.
    public let bn1: BatchNorm2d
    /// `conv2` 3x3.
    public let conv2: Conv2d
    /// `bn2`.
    public let bn2: BatchNorm2d
    /// `downsample.0` and `downsample.1`, present when the stride is not 1 or
    /// the channel count changes (torchvision's rule).
    public let downsample: (conv: Conv2d, norm: BatchNorm2d)?

    /// True when torchvision gives the block a downsample path.
    public static func needsDownsample(inChannels: Int, outChannels: Int, stride: Int) -> Bool {
        stride != 1 || inChannels != outChannels
    }

    /// The block's keys and shapes, in state_dict order.
    public static func parameters(prefix: String, inChannels: Int, outChannels: Int, stride: Int) -> [ParameterSpec] {
        WeightReader.specs {
            _ = BasicBlock(prefix: prefix, inChannels: inChannels, outChannels: outChannels, stride: stride, reader: &$0)
        }
    }

    init(prefix: String, inChannels: Int, outChannels: Int, stride: Int, reader: inout WeightReader) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.stride = stride
        conv1 = Conv2d(prefix: prefix + ".conv1", outChannels: outChannels, inChannels: inChannels, kernelSize: 3,
                       stride: stride, padding: 1, hasBias: false, reader: &reader)
        bn1 = BatchNorm2d(prefix: prefix + ".bn1", channels: outChannels, reader: &reader)
        conv2 = Conv2d(prefix: prefix + ".conv2", outChannels: outChannels, inChannels: outChannels, kernelSize: 3,
                       stride: 1, padding: 1, hasBias: false, reader: &reader)
        bn2 = BatchNorm2d(prefix: prefix + ".bn2", channels: outChannels, reader: &reader)
        if Self.needsDownsample(inChannels: inChannels, outChannels: outChannels, stride: stride) {
            let conv = Conv2d(prefix: prefix + ".downsample.0", outChannels: outChannels, inChannels: inChannels,
                              kernelSize: 1, stride: stride, padding: 0, hasBias: false, reader: &reader)
            downsample = (conv, BatchNorm2d(prefix: prefix + ".downsample.1", channels: outChannels, reader: &reader))
        } else {
            downsample = nil
        }
    }
}
