/// The CRNN's `resnet` Sequential as `CRNNArchitecture` plans it: the stem
/// convolution and batch norm, then six BasicBlocks.
public struct ResNetTrunk: Sendable {
    /// The stem convolution `resnet.0`.
    public let stem: Conv2d
    /// The stem batch norm `resnet.1`.
    public let stemNorm: BatchNorm2d
    /// `resnet.4.0`, `resnet.4.1`, `resnet.5.0`, ..., `resnet.6.1` in order.
    public let blocks: [BasicBlock]

    /// The trunk's keys and shapes for `architecture`, in state_dict order.
    package static func parameters(_ architecture: CRNNArchitecture) -> [ParameterSpec] {
        WeightReader.specs { _ = ResNetTrunk(architecture, reader: &$0) }
    }

    init(_ architecture: CRNNArchitecture, reader: inout WeightReader) {
        (stem, stemNorm) = Self.readStem(architecture, reader: &reader)
        blocks = architecture.blocks.map { BasicBlock($0, reader: &reader) }
    }

    /// `resnet.0` and `resnet.1`.
    static func readStem(_ architecture: CRNNArchitecture, reader: inout WeightReader) -> (Conv2d, BatchNorm2d) {
        let stem = architecture.stem
        return (Conv2d(stem, reader: &reader), BatchNorm2d(prefix: "resnet.1", channels: stem.outChannels, reader: &reader))
    }
}
