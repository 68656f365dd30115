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
