import Kernels

/// The arithmetic of one forward pass, counted as PyTorch's layers do it:
/// two floating-point operations per multiply-add, convolutions and matrix
/// products only (batch norm, activations and pooling are comparatively free).
public struct CRNNCost: Sendable, Equatable {
    /// Operations in the convolution trunk and cn6.
    public let convolution: Int
    /// Operations in linear1, the GRU input products and linear2.
    public let recurrentInputs: Int
    /// Operations in the GRU hidden products (exactly zero work at batch one,
    /// where h = 0; counted because PyTorch performs them).
    public let recurrentHidden: Int
    /// All of them.
    public var total: Int { convolution + recurrentInputs + recurrentHidden }
    /// The convolutions' operations as this project's kernels perform them on
    /// the unit the cost was counted for: the 3x3 stride-1 ones by Winograd,
    /// F(2x2, 3x3) (16 products of [out x in] by [in x tiles] over ceil(H/2)
    /// * ceil(W/2) tiles, about 16/36 of the direct count) or F(4x4, 3x3)
    /// where `WinogradConvolution.outputTile` picks it (36 products over
    /// ceil(H/4) * ceil(W/4) tiles), the others directly.
    public let convolutionPerformed: Int
    /// What the kernels perform for one image at batch one: the Winograd
    /// count, the head's input products, no hidden-state products (h = 0).
    public var performed: Int { convolutionPerformed + recurrentInputs }

    /// The cost of one image of `height` x `width` under `configuration` on
    /// the vector unit `unit`, or `nil` when its trunk widths make no layer plan.
    public init?(configuration: CRNNConfiguration, height: Int, width: Int, unit: VectorUnit = .preferred) {
        guard let architecture = CRNNArchitecture(trunkWidths: configuration.trunkWidths) else { return nil }
        let (layers, _, steps) = architecture.convolutions(height: height, width: width)
        convolution = layers.reduce(0) { total, entry in
            let layer = entry.layer
            let outputs = layer.outputSize(entry.height) * layer.outputSize(entry.width)
            return total + 2 * layer.inChannels * layer.kernel * layer.kernel * layer.outChannels * outputs
        }
        convolutionPerformed = layers.reduce(0) { total, entry in
            let layer = entry.layer
            let (rows, columns) = (layer.outputSize(entry.height), layer.outputSize(entry.width))
            guard WinogradConvolution.supports(kernel: layer.kernel, stride: layer.stride, padding: layer.padding) else {
                return total + 2 * layer.inChannels * layer.kernel * layer.kernel * layer.outChannels * rows * columns
            }
            let tile = WinogradConvolution.outputTile(inChannels: layer.inChannels, outChannels: layer.outChannels, unit: unit)
            return total + WinogradConvolution.operations(
                inChannels: layer.inChannels, outChannels: layer.outChannels, outHeight: rows, outWidth: columns,
                outputTile: tile)
        }
        let channels = architecture.cn6.outChannels
        let hidden = configuration.hiddenSize
        let linear1 = 2 * channels * configuration.featureRows * configuration.rnnInputSize * steps
        let gruInputs = 2 * 2 * 3 * hidden * (configuration.rnnInputSize + hidden) * steps
        let linear2 = 2 * 2 * hidden * configuration.vocabularySize * steps
        recurrentInputs = linear1 + gruInputs + linear2
        recurrentHidden = 2 * 2 * 2 * 3 * hidden * hidden * steps
    }
}
