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

/// PyTorch's `nn.BatchNorm2d` in eval mode: `weight` (gamma), `bias` (beta),
/// `running_mean`, `running_var` `[channels]` and the int64 scalar
/// `num_batches_tracked`, which inference ignores but the state_dict carries.
public struct BatchNorm2d: Sendable {
    /// The epsilon PyTorch's default `BatchNorm2d` uses.
    public static let epsilon: Float = 1e-5
    /// Channels normalised.
    public let channels: Int
    /// Scale (gamma).
    public let weight: [Float]
    /// Shift (beta).
    public let bias: [Float]
    /// Running mean.
    public let runningMean: [Float]
    /// Running variance.
    public let runningVar: [Float]

    /// The layer's keys and shapes, in state_dict order.
    public static func parameters(prefix: String, channels: Int) -> [ParameterSpec] {
        WeightReader.specs { _ = BatchNorm2d(prefix: prefix, channels: channels, reader: &$0) }
    }

    init(prefix: String, channels: Int, reader: inout WeightReader) {
        self.channels = channels
        weight = reader.floats(prefix + ".weight", shape: [channels])
        bias = reader.floats(prefix + ".bias", shape: [channels])
        runningMean = reader.floats(prefix + ".running_mean", shape: [channels])
        runningVar = reader.floats(prefix + ".running_var", shape: [channels])
        reader.counter(prefix + ".num_batches_tracked")
    }
}

/// PyTorch's `nn.Linear`: `<prefix>.weight [out, in]`, `<prefix>.bias [out]`.
public struct Linear: Sendable {
    /// Input features.
    public let inFeatures: Int
    /// Output features.
    public let outFeatures: Int
    /// `[out, in]` row-major.
    public let weight: [Float]
    /// `[out]`.
    public let bias: [Float]

    /// The layer's keys and shapes, in state_dict order.
    public static func parameters(prefix: String, inFeatures: Int, outFeatures: Int) -> [ParameterSpec] {
        WeightReader.specs { _ = Linear(prefix: prefix, inFeatures: inFeatures, outFeatures: outFeatures, reader: &$0) }
    }

    init(prefix: String, inFeatures: Int, outFeatures: Int, reader: inout WeightReader) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        weight = reader.floats(prefix + ".weight", shape: [outFeatures, inFeatures])
        bias = reader.floats(prefix + ".bias", shape: [outFeatures])
    }
}

/// A one-layer bidirectional `nn.GRU`: for the forward direction
/// `weight_ih_l0 [3H, I]`, `weight_hh_l0 [3H, H]`, `bias_ih_l0 [3H]`,
/// `bias_hh_l0 [3H]`, then the same four with suffix `_reverse`.
public struct BidirectionalGRU: Sendable {
    /// One direction's four tensors, row blocks in the order r, z, n.
    public struct Direction: Sendable {
        /// `[3H, I]`.
        public let weightIH: [Float]
        /// `[3H, H]`.
        public let weightHH: [Float]
        /// `[3H]`.
        public let biasIH: [Float]
        /// `[3H]`.
        public let biasHH: [Float]
    }

    /// Input features (I).
    public let inputSize: Int
    /// Hidden features per direction (H).
    public let hiddenSize: Int
    /// The direction that runs from the first step to the last.
    public let forward: Direction
    /// The `_reverse` direction.
    public let backward: Direction

    /// The layer's keys and shapes, in state_dict order.
    public static func parameters(prefix: String, inputSize: Int, hiddenSize: Int) -> [ParameterSpec] {
        WeightReader.specs {
            _ = BidirectionalGRU(prefix: prefix, inputSize: inputSize, hiddenSize: hiddenSize, reader: &$0)
        }
    }

    init(prefix: String, inputSize: Int, hiddenSize: Int, reader: inout WeightReader) {
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        func direction(_ suffix: String, _ reader: inout WeightReader) -> Direction {
            Direction(
                weightIH: reader.floats(prefix + ".weight_ih_l0" + suffix, shape: [3 * hiddenSize, inputSize]),
                weightHH: reader.floats(prefix + ".weight_hh_l0" + suffix, shape: [3 * hiddenSize, hiddenSize]),
                biasIH: reader.floats(prefix + ".bias_ih_l0" + suffix, shape: [3 * hiddenSize]),
                biasHH: reader.floats(prefix + ".bias_hh_l0" + suffix, shape: [3 * hiddenSize]))
        }
        forward = direction("", &reader)
        backward = direction("_reverse", &reader)
    }
}
