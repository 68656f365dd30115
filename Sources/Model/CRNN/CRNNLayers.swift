import TensorCore

/// Every layer of the CRNN as the state_dict holds it (batch norm not yet folded).
public struct CRNNLayers: Sendable {
    /// The hyperparameters the shapes give.
    public let configuration: CRNNConfiguration
    /// `resnet.*`.
    public let trunk: ResNetTrunk
    /// `cn6.*`.
    public let cn6: CN6Block
    /// `linear1`: c3 * rows -> rnnInputSize.
    public let linear1: Linear
    /// `gru1.gru`: rnnInputSize -> hidden, bidirectional, halves summed.
    public let gru1: BidirectionalGRU
    /// `gru2.gru`: hidden -> hidden, bidirectional, halves concatenated.
    public let gru2: BidirectionalGRU
    /// `linear2`: 2 * hidden -> vocabulary.
    public let linear2: Linear

    /// Builds every layer from `stateDict`, strictly: all keys present, no
    /// others, every shape as the inferred configuration requires, float dtypes
    /// (float16, bfloat16 and float64 are converted to float32).
    /// - Throws: `CRNNError.stateDictMismatch` listing every problem at once.
    public init(stateDict: StateDict) throws {
        var reader = WeightReader(stateDict)
        let configuration = CRNNConfiguration.infer(from: stateDict, reader: &reader)
        self.init(configuration: configuration, reader: &reader)
        try reader.finish()
    }

    /// The checks of `init(stateDict:)` (every key, shape and dtype, nothing
    /// missing or extra) without copying any values.
    /// - Returns: the configuration the shapes give.
    /// - Throws: `CRNNError.stateDictMismatch` listing every problem at once.
    public static func check(_ stateDict: StateDict) throws -> CRNNConfiguration {
        var reader = WeightReader(stateDict, checkingOnly: true)
        let configuration = CRNNConfiguration.infer(from: stateDict, reader: &reader)
        _ = CRNNLayers(configuration: configuration, reader: &reader)
        try reader.finish()
        return configuration
    }

    /// Shapes use wrapping arithmetic: a configuration decoded from a hostile
    /// file may hold absurd sizes, which must give mismatches, never a trap.
    init(configuration: CRNNConfiguration, reader: inout WeightReader) {
        self.configuration = configuration
        let architecture = Self.architecture(of: configuration, reader: &reader)
        trunk = ResNetTrunk(architecture, reader: &reader)
        (cn6, linear1, gru1, gru2, linear2) = Self.readHead(configuration: configuration, architecture: architecture,
                                                            reader: &reader)
    }

    /// The layer plan of `configuration`; where its widths make none (only a
    /// hand-made configuration can), a problem for `reader` to report.
    static func architecture(of configuration: CRNNConfiguration, reader: inout WeightReader) -> CRNNArchitecture {
        if let architecture = CRNNArchitecture(trunkWidths: configuration.trunkWidths) { return architecture }
        reader.report(.inconsistent(key: "resnet", detail: "trunk widths \(configuration.trunkWidths) are not three positive channel counts"))
        return .placeholder
    }

    /// Everything after the trunk, in state_dict order.
    static func readHead(configuration: CRNNConfiguration, architecture: CRNNArchitecture, reader: inout WeightReader)
        -> (CN6Block, Linear, BidirectionalGRU, BidirectionalGRU, Linear) {
        let c3 = architecture.cn6.outChannels
        let h = configuration.hiddenSize
        return (CN6Block(architecture, reader: &reader),
                Linear(prefix: "linear1", inFeatures: c3 &* configuration.featureRows,
                       outFeatures: configuration.rnnInputSize, reader: &reader),
                BidirectionalGRU(prefix: "gru1.gru", inputSize: configuration.rnnInputSize, hiddenSize: h, reader: &reader),
                BidirectionalGRU(prefix: "gru2.gru", inputSize: h, hiddenSize: h, reader: &reader),
                Linear(prefix: "linear2", inFeatures: 2 &* h, outFeatures: configuration.vocabularySize, reader: &reader))
    }
}
