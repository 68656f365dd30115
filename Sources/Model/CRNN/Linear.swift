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
