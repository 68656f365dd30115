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
