import TensorCore

/// The CRNN's hyperparameters, all read from the state_dict's shapes.
public struct CRNNConfiguration: Equatable, Sendable, Codable {
    /// Channels after layer1, layer2, layer3: [c1, c2, c3] (reference [64, 128, 256]).
    public let trunkWidths: [Int]
    /// Rows of the trunk's output that `linear1` flattens (reference 4).
    public let featureRows: Int
    /// `linear1`'s output and the first GRU's input size (reference 256).
    public let rnnInputSize: Int
    /// Hidden size of each GRU direction.
    public let hiddenSize: Int
    /// Classes per time step, the CTC blank included (reference 37).
    public let vocabularySize: Int

    /// A configuration from explicit values.
    public init(trunkWidths: [Int], featureRows: Int, rnnInputSize: Int, hiddenSize: Int, vocabularySize: Int) {
        self.trunkWidths = trunkWidths
        self.featureRows = featureRows
        self.rnnInputSize = rnnInputSize
        self.hiddenSize = hiddenSize
        self.vocabularySize = vocabularySize
    }

    /// The reference model of the notebook.
    public static let reference = CRNNConfiguration(
        trunkWidths: [64, 128, 256], featureRows: 4, rnnInputSize: 256, hiddenSize: 256, vocabularySize: 37)

    /// Image heights that give `featureRows` rows after the trunk: each of
    /// its four stride-2 stages maps n to ceil(n / 2), so rows = ceil(H / 16).
    /// A configuration with fewer than one row (or absurdly many) accepts only 0...0.
    public var acceptedHeights: ClosedRange<Int> {
        guard featureRows >= 1, featureRows <= 1 << 40 else { return 0...0 }
        return (16 * (featureRows - 1) + 1)...(16 * featureRows)
    }

    /// Time steps for an image `width` wide: ceil(width / 16) (0 for width < 1).
    public func timeSteps(forWidth width: Int) -> Int { width < 1 ? 0 : (width - 1) / 16 + 1 }

    /// Every key and shape of a state_dict for this configuration, in PyTorch's order.
    public var expectedParameters: [ParameterSpec] {
        WeightReader.specs { _ = CRNNLayers(configuration: self, reader: &$0) }
    }

    /// Reads the hyperparameters from the shapes of `stateDict`, each from the
    /// first of several keys that is present with the right rank (so one bad
    /// key does not hide the others; where a bias and a weight both give a
    /// size, the bias is asked first and the weight is checked against it). A hyperparameter no key gives takes the
    /// reference value; problems go to `reader` and surface with the rest.
    static func infer(from stateDict: StateDict, reader: inout WeightReader) -> CRNNConfiguration {
        func dimension(_ candidates: [(key: String, rank: Int, axis: Int, divisor: Int)], fallback: Int) -> Int {
            for candidate in candidates {
                // a non-empty tensor's sizes are bounded by its storage, so products of them cannot overflow
                guard let tensor = stateDict[candidate.key], tensor.shape.count == candidate.rank,
                      tensor.elementCount > 0 else { continue }
                let size = tensor.shape[candidate.axis]
                if size >= 1, size % candidate.divisor == 0 { return size / candidate.divisor }
            }
            return fallback
        }
        let reference = CRNNConfiguration.reference
        let c1 = dimension([("resnet.0.weight", 4, 0, 1), ("resnet.1.weight", 1, 0, 1),
                            ("resnet.4.0.conv1.weight", 4, 0, 1)], fallback: reference.trunkWidths[0])
        let c2 = dimension([("resnet.5.0.conv1.weight", 4, 0, 1), ("resnet.5.0.bn1.weight", 1, 0, 1),
                            ("resnet.5.1.conv1.weight", 4, 0, 1)], fallback: reference.trunkWidths[1])
        let c3 = dimension([("resnet.6.0.conv1.weight", 4, 0, 1), ("cn6.conv.weight", 4, 0, 1),
                            ("cn6.conv.bias", 1, 0, 1)], fallback: reference.trunkWidths[2])
        let rnnInput = dimension([("linear1.weight", 2, 0, 1), ("linear1.bias", 1, 0, 1),
                                  ("gru1.gru.weight_ih_l0", 2, 1, 1)], fallback: reference.rnnInputSize)
        let hidden = dimension([("gru1.gru.weight_hh_l0", 2, 1, 1), ("gru1.gru.weight_ih_l0", 2, 0, 3),
                                ("linear2.weight", 2, 1, 2)], fallback: reference.hiddenSize)
        let vocabulary = dimension([("linear2.bias", 1, 0, 1), ("linear2.weight", 2, 0, 1)],
                                   fallback: reference.vocabularySize)
        var rows = reference.featureRows
        if let linear1 = stateDict["linear1.weight"], linear1.shape.count == 2, linear1.elementCount > 0 {
            let features = linear1.shape[1]
            if features >= c3, features % c3 == 0 {
                rows = features / c3
            } else {
                reader.report(.inconsistent(
                    key: "linear1.weight",
                    detail: "\(features) input features is not a positive multiple of the trunk's \(c3) channels"))
            }
        }
        return CRNNConfiguration(trunkWidths: [c1, c2, c3], featureRows: rows, rnnInputSize: rnnInput,
                                 hiddenSize: hidden, vocabularySize: vocabulary)
    }
}
