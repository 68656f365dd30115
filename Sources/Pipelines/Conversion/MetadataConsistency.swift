package import CRNN
import CRNNFormat

extension CRNNModelMetadata {
    /// The first of this metadata's statements about the model that the
    /// tensors' shapes (`configuration`, read from them by
    /// `CRNNLayers.check`) contradict, or `nil` when all agree: classes,
    /// alphabet length, hidden size, trunk widths, GRU input size, feature
    /// rows, input heights.
    package func contradiction(with configuration: CRNNConfiguration) -> MetadataContradiction? {
        let heights = configuration.acceptedHeights
        let scalars = alphabet.unicodeScalars.count
        let checks: [(agrees: Bool, field: String, stated: String, found: String)] = [
            (vocabularySize == configuration.vocabularySize, "vocabulary_size", "\(vocabularySize)",
             "\(configuration.vocabularySize) classes (linear2)"),
            (scalars == configuration.vocabularySize - 1, "alphabet", "\(scalars) characters",
             "\(configuration.vocabularySize - 1) non-blank classes (linear2)"),
            (hiddenSize == configuration.hiddenSize, "hidden_size", "\(hiddenSize)", "\(configuration.hiddenSize) (the GRUs)"),
            (trunkWidths == configuration.trunkWidths, "trunk_widths", "\(trunkWidths)",
             "\(configuration.trunkWidths) (the ResNet trunk)"),
            (rnnInputSize == configuration.rnnInputSize, "rnn_input_size", "\(rnnInputSize)",
             "\(configuration.rnnInputSize) (linear1)"),
            (featureRows == configuration.featureRows, "feature_rows", "\(featureRows)",
             "\(configuration.featureRows) (linear1's input features)"),
            (minInputHeight == heights.lowerBound, "min_input_height", "\(minInputHeight)",
             "\(heights.lowerBound) (for \(configuration.featureRows) feature rows)"),
            (maxInputHeight == heights.upperBound, "max_input_height", "\(maxInputHeight)",
             "\(heights.upperBound) (for \(configuration.featureRows) feature rows)"),
        ]
        return checks.first { !$0.agrees }.map { MetadataContradiction(field: $0.field, stated: $0.stated, tensors: $0.found) }
    }
}

/// A metadata field that the tensors of the same file contradict.
public struct MetadataContradiction: Equatable, Sendable, CustomStringConvertible {
    /// The metadata key, as stored (`vocabulary_size`, ...).
    public let field: String
    /// What the metadata says.
    public let stated: String
    /// What the tensors' shapes give.
    public let tensors: String

    public var description: String { "the metadata says \(field) \(stated) but the tensors give \(tensors)" }
}
