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

    /// The cost of one image of `height` x `width` under `configuration`.
    public init(configuration: CRNNConfiguration, height: Int, width: Int) {
        func out(_ n: Int, kernel: Int, stride: Int, padding: Int) -> Int { (n + 2 * padding - kernel) / stride + 1 }
        var h = out(height, kernel: 7, stride: 2, padding: 3)
        var w = out(width, kernel: 7, stride: 2, padding: 3)
        let widths = configuration.trunkWidths.count == 3 ? configuration.trunkWidths : CRNNConfiguration.reference.trunkWidths
        var convolution = 2 * 3 * 49 * widths[0] * h * w
        h = out(h, kernel: 3, stride: 2, padding: 1)
        w = out(w, kernel: 3, stride: 2, padding: 1)
        var channels = widths[0]
        for (stage, planes) in widths.enumerated() {
            let stride = stage == 0 ? 1 : 2
            let (h1, w1) = (out(h, kernel: 3, stride: stride, padding: 1), out(w, kernel: 3, stride: stride, padding: 1))
            convolution += 2 * channels * 9 * planes * h1 * w1          // block 1 conv1
            convolution += 3 * 2 * planes * 9 * planes * h1 * w1       // block 1 conv2, block 2 conv1 and conv2
            if stride != 1 || channels != planes { convolution += 2 * channels * planes * h1 * w1 }  // downsample
            (h, w, channels) = (h1, w1, planes)
        }
        convolution += 2 * channels * 9 * channels * h * w            // cn6
        let steps = w
        let hidden = configuration.hiddenSize
        let linear1 = 2 * channels * configuration.featureRows * configuration.rnnInputSize * steps
        let gruInputs = 2 * 2 * 3 * hidden * (configuration.rnnInputSize + hidden) * steps
        let linear2 = 2 * 2 * hidden * configuration.vocabularySize * steps
        self.convolution = convolution
        recurrentInputs = linear1 + gruInputs + linear2
        recurrentHidden = 2 * 2 * 2 * 3 * hidden * hidden * steps
    }
}
