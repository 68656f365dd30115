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
        (stem, stemNorm) = Self.readStem(widths: widths, reader: &reader)
        blocks = Self.blockPlan(widths: widths).map {
            BasicBlock(prefix: $0.prefix, inChannels: $0.inChannels, outChannels: $0.outChannels, stride: $0.stride,
                       reader: &reader)
        }
    }

    /// `resnet.0` and `resnet.1`.
    static func readStem(widths: [Int], reader: inout WeightReader) -> (Conv2d, BatchNorm2d) {
        let c1 = plannedWidths(widths)[0]
        return (Conv2d(prefix: "resnet.0", outChannels: c1, inChannels: 3, kernelSize: 7, stride: 2, padding: 3,
                       hasBias: false, reader: &reader),
                BatchNorm2d(prefix: "resnet.1", channels: c1, reader: &reader))
    }

    /// The six BasicBlocks in order: their key prefixes, channels and strides.
    static func blockPlan(widths: [Int]) -> [(prefix: String, inChannels: Int, outChannels: Int, stride: Int)] {
        let c = plannedWidths(widths)
        return [(c[0], c[0], 1), (c[0], c[1], 2), (c[1], c[2], 2)].enumerated().flatMap { layer, plan in
            [("resnet.\(layer + 4).0", plan.0, plan.1, plan.2), ("resnet.\(layer + 4).1", plan.1, plan.1, 1)]
        }
    }

    private static func plannedWidths(_ widths: [Int]) -> [Int] { widths.count == 3 ? widths : [64, 128, 256] }
}
