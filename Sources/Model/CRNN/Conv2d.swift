/// PyTorch's `nn.Conv2d` as stored in a state_dict: `<prefix>.weight`
/// `[out, in, k, k]` and, when the layer has one, `<prefix>.bias` `[out]`.
/// Square kernels, equal stride and padding on both axes (all the CRNN uses).
public struct Conv2d: Sendable {
    /// Output channels.
    public let outChannels: Int
    /// Input channels.
    public let inChannels: Int
    /// Kernel side.
    public let kernelSize: Int
    /// Stride on both axes.
    public let stride: Int
    /// Zero padding on every side.
    public let padding: Int
    /// `[out, in, k, k]` row-major.
    public let weight: [Float]
    /// `[out]`, or nil for `bias=False`.
    public let bias: [Float]?

    /// The layer's keys and shapes, in state_dict order.
    public static func parameters(prefix: String, outChannels: Int, inChannels: Int, kernelSize: Int,
                                  hasBias: Bool) -> [ParameterSpec] {
        WeightReader.specs {
            _ = Conv2d(prefix: prefix, outChannels: outChannels, inChannels: inChannels, kernelSize: kernelSize,
                       stride: 1, padding: 0, hasBias: hasBias, reader: &$0)
        }
    }

    /// The convolution `CRNNArchitecture` plans as `layer`.
    init(_ layer: CRNNArchitecture.ConvolutionLayer, reader: inout WeightReader) {
        self.init(prefix: layer.prefix, outChannels: layer.outChannels, inChannels: layer.inChannels,
                  kernelSize: layer.kernel, stride: layer.stride, padding: layer.padding, hasBias: layer.hasBias,
                  reader: &reader)
    }

    init(prefix: String, outChannels: Int, inChannels: Int, kernelSize: Int, stride: Int, padding: Int,
         hasBias: Bool, reader: inout WeightReader) {
        self.outChannels = outChannels
        self.inChannels = inChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        weight = reader.floats(prefix + ".weight", shape: [outChannels, inChannels, kernelSize, kernelSize])
        bias = hasBias ? reader.floats(prefix + ".bias", shape: [outChannels]) : nil
    }
}
