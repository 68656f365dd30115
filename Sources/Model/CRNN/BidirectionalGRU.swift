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
                weightIH: reader.floats(prefix + ".weight_ih_l0" + suffix, shape: [3 &* hiddenSize, inputSize]),
                weightHH: reader.floats(prefix + ".weight_hh_l0" + suffix, shape: [3 &* hiddenSize, hiddenSize]),
                biasIH: reader.floats(prefix + ".bias_ih_l0" + suffix, shape: [3 &* hiddenSize]),
                biasHH: reader.floats(prefix + ".bias_hh_l0" + suffix, shape: [3 &* hiddenSize]))
        }
        forward = direction("", &reader)
        backward = direction("_reverse", &reader)
    }
}
