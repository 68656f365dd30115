public import TensorCore

/// What a CRNN-BIN file says about its model besides the weights: the
/// metadata JSON object of `formats/CRNN-BIN.md`, one property per key.
///
/// Coding uses the documented snake_case keys (`hidden_size`, ...); decoding
/// ignores unknown keys.
public struct CRNNModelMetadata: Equatable, Sendable, Codable {
    /// Model family, e.g. `"crnn-resnet18-gru"`.
    public var architecture: String
    /// GRU hidden size.
    public var hiddenSize: Int
    /// Output classes including the CTC blank.
    public var vocabularySize: Int
    /// Channels of the trunk stages `[c1, c2, c3]`.
    public var trunkWidths: [Int]
    /// Features entering the first GRU.
    public var rnnInputSize: Int
    /// Rows of the feature map left by the trunk.
    public var featureRows: Int
    /// The non-blank classes' characters in class order: `vocabularySize - 1`
    /// Unicode scalars (a character is a scalar, not a grapheme cluster), no
    /// control characters.
    public var alphabet: String
    /// The CTC blank class (0 for the reference model).
    public var blankIndex: Int
    /// The input height the model was trained on.
    public var nominalInputHeight: Int
    /// The smallest input height the model accepts.
    public var minInputHeight: Int
    /// The largest input height the model accepts.
    public var maxInputHeight: Int
    /// File name (no folder) of the converted checkpoint.
    public var sourceFileName: String
    /// SHA-256 of the converted checkpoint, 64 lowercase hex digits, or
    /// `nil` when the converter was given no digest (JSON `null`).
    public var sourceSHA256: String?
    /// The program that wrote the file.
    public var converterName: String
    /// That program's version.
    public var converterVersion: String
    /// The dtype of every floating-point tensor in the file (float32 or float16).
    public var storedFloatType: DType

    /// Metadata with every field given.
    public init(
        architecture: String, hiddenSize: Int, vocabularySize: Int, trunkWidths: [Int], rnnInputSize: Int,
        featureRows: Int, alphabet: String, blankIndex: Int, nominalInputHeight: Int, minInputHeight: Int,
        maxInputHeight: Int, sourceFileName: String, sourceSHA256: String?, converterName: String,
        converterVersion: String, storedFloatType: DType
    ) {
        self.architecture = architecture
        self.hiddenSize = hiddenSize
        self.vocabularySize = vocabularySize
        self.trunkWidths = trunkWidths
        self.rnnInputSize = rnnInputSize
        self.featureRows = featureRows
        self.alphabet = alphabet
        self.blankIndex = blankIndex
        self.nominalInputHeight = nominalInputHeight
        self.minInputHeight = minInputHeight
        self.maxInputHeight = maxInputHeight
        self.sourceFileName = sourceFileName
        self.sourceSHA256 = sourceSHA256
        self.converterName = converterName
        self.converterVersion = converterVersion
        self.storedFloatType = storedFloatType
    }

    enum CodingKeys: String, CodingKey {
        case architecture
        case hiddenSize = "hidden_size"
        case vocabularySize = "vocabulary_size"
        case trunkWidths = "trunk_widths"
        case rnnInputSize = "rnn_input_size"
        case featureRows = "feature_rows"
        case alphabet
        case blankIndex = "blank_index"
        case nominalInputHeight = "nominal_input_height"
        case minInputHeight = "min_input_height"
        case maxInputHeight = "max_input_height"
        case sourceFileName = "source_file_name"
        case sourceSHA256 = "source_sha256"
        case converterName = "converter_name"
        case converterVersion = "converter_version"
        case storedFloatType = "stored_float_type"
    }

    /// Every key, `source_sha256` as `null` when there is no digest (the
    /// synthesized encoding would leave the key out).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(architecture, forKey: .architecture)
        try container.encode(hiddenSize, forKey: .hiddenSize)
        try container.encode(vocabularySize, forKey: .vocabularySize)
        try container.encode(trunkWidths, forKey: .trunkWidths)
        try container.encode(rnnInputSize, forKey: .rnnInputSize)
        try container.encode(featureRows, forKey: .featureRows)
        try container.encode(alphabet, forKey: .alphabet)
        try container.encode(blankIndex, forKey: .blankIndex)
        try container.encode(nominalInputHeight, forKey: .nominalInputHeight)
        try container.encode(minInputHeight, forKey: .minInputHeight)
        try container.encode(maxInputHeight, forKey: .maxInputHeight)
        try container.encode(sourceFileName, forKey: .sourceFileName)
        if let sourceSHA256 { try container.encode(sourceSHA256, forKey: .sourceSHA256) } else {
            try container.encodeNil(forKey: .sourceSHA256)
        }
        try container.encode(converterName, forKey: .converterName)
        try container.encode(converterVersion, forKey: .converterVersion)
        try container.encode(storedFloatType, forKey: .storedFloatType)
    }

    /// The first documented constraint these values break, or `nil` when
    /// they satisfy all of them (table "Metadata" of the spec).
    public var violation: String? {
        if architecture.isEmpty { return "architecture is empty" }
        if hiddenSize <= 0 { return "hidden_size \(hiddenSize) is not positive" }
        if vocabularySize < 2 { return "vocabulary_size \(vocabularySize) is below 2" }
        if trunkWidths.isEmpty || trunkWidths.contains(where: { $0 <= 0 }) {
            return "trunk_widths \(trunkWidths) must be a non-empty list of positive widths"
        }
        if rnnInputSize <= 0 { return "rnn_input_size \(rnnInputSize) is not positive" }
        if featureRows <= 0 { return "feature_rows \(featureRows) is not positive" }
        let characters = Array(alphabet.unicodeScalars)
        if characters.count != vocabularySize - 1 {
            return "alphabet has \(characters.count) characters (Unicode scalars) but vocabulary_size \(vocabularySize) needs \(vocabularySize - 1)"
        }
        if Set(characters).count != characters.count { return "alphabet repeats a character" }
        if let control = characters.first(where: { $0.properties.generalCategory == .control }) {
            return "alphabet holds the control character U+\(String(control.value, radix: 16, uppercase: true)), which would break FILE<TAB>TEXT output"
        }
        if blankIndex < 0 || blankIndex >= vocabularySize {
            return "blank_index \(blankIndex) is outside 0..<\(vocabularySize)"
        }
        if minInputHeight <= 0 || minInputHeight > nominalInputHeight || nominalInputHeight > maxInputHeight {
            return "input heights must satisfy 0 < min <= nominal <= max, found min \(minInputHeight), nominal \(nominalInputHeight), max \(maxInputHeight)"
        }
        let hexDigits = Set("0123456789abcdef".unicodeScalars)
        if let digest = sourceSHA256,
           digest.unicodeScalars.count != 64 || !digest.unicodeScalars.allSatisfy(hexDigits.contains) {
            return "source_sha256 must be 64 lowercase hex digits, or null"
        }
        if converterName.isEmpty { return "converter_name is empty" }
        if storedFloatType != .float32 && storedFloatType != .float16 {
            return "stored_float_type \(storedFloatType.rawValue) is not float32 or float16"
        }
        return nil
    }
}
