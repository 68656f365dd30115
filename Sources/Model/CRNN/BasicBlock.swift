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

    /// The block `CRNNArchitecture` plans as `plan`.
    init(_ plan: CRNNArchitecture.Block, reader: inout WeightReader) {
        inChannels = plan.inChannels
        outChannels = plan.outChannels
        stride = plan.stride
        conv1 = Conv2d(plan.conv1, reader: &reader)
        bn1 = BatchNorm2d(prefix: plan.prefix + ".bn1", channels: plan.outChannels, reader: &reader)
        conv2 = Conv2d(plan.conv2, reader: &reader)
        bn2 = BatchNorm2d(prefix: plan.prefix + ".bn2", channels: plan.outChannels, reader: &reader)
        downsample = plan.downsample.map { conv in
            (Conv2d(conv, reader: &reader),
             BatchNorm2d(prefix: plan.prefix + ".downsample.1", channels: plan.outChannels, reader: &reader))
        }
    }
}
