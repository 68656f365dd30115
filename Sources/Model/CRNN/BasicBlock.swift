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

/// `resnet18().children()[:-3]` as the CRNN's `resnet` Sequential: `resnet.0`
/// conv 7x7 s2 p3 (3 -> c1), `resnet.1` batch norm, (`.2` ReLU, `.3` max pool
/// 3x3 s2 p1: no weights), then `resnet.4`, `.5`, `.6`: two BasicBlocks each,
/// c1 -> c1 (stride 1), c1 -> c2 (stride 2), c2 -> c3 (stride 2).
public struct ResNetTrunk: Sendable {
    /// The stem convolution `resnet.0`.
    public let stem: Conv2d
    /// The stem batch norm `resnet.1`.
    public let stemNorm: BatchNorm2d
    /// `resnet.4.0`, `resnet.4.1`, `resnet.5.0`, ..., `resnet.6.1` in order.
    public let blocks: [BasicBlock]

    /// The trunk's keys and shapes, in state_dict order.
    public static func parameters(widths: [Int]) -> [ParameterSpec] {
        WeightReader.specs { _ = ResNetTrunk(widths: widths, reader: &$0) }
    }

    /// `widths` = [c1, c2, c3].
    init(widths: [Int], reader: inout WeightReader) {
        let c = widths.count == 3 ? widths : [64, 128, 256]
        stem = Conv2d(prefix: "resnet.0", outChannels: c[0], inChannels: 3, kernelSize: 7, stride: 2, padding: 3,
                      hasBias: false, reader: &reader)
        stemNorm = BatchNorm2d(prefix: "resnet.1", channels: c[0], reader: &reader)
        var blocks: [BasicBlock] = []
        for (layer, (inChannels, outChannels, stride)) in [(c[0], c[0], 1), (c[0], c[1], 2), (c[1], c[2], 2)].enumerated() {
            blocks.append(BasicBlock(prefix: "resnet.\(layer + 4).0", inChannels: inChannels, outChannels: outChannels,
                                     stride: stride, reader: &reader))
            blocks.append(BasicBlock(prefix: "resnet.\(layer + 4).1", inChannels: outChannels, outChannels: outChannels,
                                     stride: 1, reader: &reader))
        }
        self.blocks = blocks
    }
}

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
