package import CRNN
public import CRNNFormat
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
public import Foundation
#endif
import SystemShim
public import TensorCore
public import TorchCheckpoint

/// Computes the SHA-256 of the checkpoint file at `path` as 64 lowercase hex
/// digits, for the metadata's `source_sha256`. Conversion has no hash function
/// of its own (a program that only converts in memory, like `crnn-predict`,
/// then links no cryptography): programs that write `.bin` files pass
/// `SourceHashing.sha256(path:)`.
public typealias SourceDigest = @Sendable (_ path: String) throws -> String

/// Options of a conversion.
public struct ConversionOptions: Sendable {
    /// The characters of classes 1..., overriding any stored or default alphabet.
    public var alphabet: String?
    /// How float tensors are stored: `.float32` (exact) or `.float16`.
    public var storedFloatType: DType
    /// The converter's name and version written into the file.
    public var converterVersion: String

    /// Options with the given values; the defaults convert exactly (float32)
    /// with the stored or default alphabet.
    public init(alphabet: String? = nil, storedFloatType: DType = .float32, converterVersion: String = Converter.version) {
        self.alphabet = alphabet
        self.storedFloatType = storedFloatType
        self.converterVersion = converterVersion
    }
}

/// What a conversion did, for the summary line and for tests.
public struct ConversionReport: Sendable {
    /// The metadata written.
    public let metadata: CRNNModelMetadata
    /// How the checkpoint was laid out and where the state_dict was.
    public let checkpointInfo: CheckpointInfo
    /// Tensors written.
    public let tensorCount: Int
    /// Distinct layers (name prefixes) written.
    public let layerCount: Int
    /// Elements over all tensors.
    public let parameterCount: Int
    /// The output file's size.
    public let outputBytes: Int
    /// With float16 storage: the largest absolute rounding error of any weight.
    public let largestRoundingError: Double
    /// The floating-point tensors holding a NaN or an infinity, in file order
    /// (converted as they are; a model with them predicts nonsense).
    public let nonFiniteTensors: [String]
    /// Wall-clock seconds from opening the input to verifying the output.
    public let seconds: Double
}

/// Turns a PyTorch CRNN checkpoint into our `.bin`: read, check every tensor
/// against the model's layers, write atomically, reopen and compare.
public enum Converter {
    /// This converter's version, written into every file.
    public static let version = "0.1.0"
    /// The architecture name written into every file.
    public static let architecture = "crnn-resnet18-gru"

    /// Converts `input` to `output`; `sourceDigest`, when given, gives the input's SHA-256
    /// for the metadata (computed on another core while the input is read).
    /// - Throws: `ConversionError`: `.checkpoint` with the reader's error,
    ///   `.notACRNN` for tensors that are not the model, `.format` when the
    ///   `.bin` cannot be written, `.sourceDigestFailed` for what
    ///   `sourceDigest` threw, or one of the converter's own cases; on any
    ///   error `output` is left as it was.
    @discardableResult
    public static func convert(
        input: String, output: String, options: ConversionOptions = ConversionOptions(), sourceDigest: SourceDigest? = nil
    ) throws(ConversionError) -> ConversionReport {
        do { return try convertUnchecked(input: input, output: output, options: options, sourceDigest: sourceDigest) } catch {
            throw ConversionError.converted(error, file: input)
        }
    }

    /// The SHA-256 that `digest` computed on another core for `path`.
    /// - Throws: `ConversionError.sourceDigestFailed` with what it threw.
    static func sha256(from digest: BackgroundWork<String>, of path: String) throws(ConversionError) -> String {
        do { return try digest.value() } catch { throw ConversionError.sourceDigestFailed(file: path, reason: String(describing: error)) }
    }

    private static func convertUnchecked(
        input: String, output: String, options: ConversionOptions, sourceDigest: SourceDigest?
    ) throws -> ConversionReport {
        let started = Date()
        guard !output.isEmpty else { throw ConversionError.emptyOutputPath }
        guard options.storedFloatType == .float32 || options.storedFloatType == .float16 else {
            throw ConversionError.unsupportedStoredType(options.storedFloatType.rawValue)
        }
        if outputReplacesInput(input, output) { throw ConversionError.wouldOverwriteInput(path: output) }
        if try ConversionError.isCRNNFile(input) { throw ConversionError.alreadyConverted(file: input) }
        let prepared = try prepare(path: input, options: options, sourceDigest: sourceDigest)
        var roundingError = 0.0
        // Verified in its temporary place (while it is synced to disk): a file
        // that does not read back as the source never replaces `output`.
        let summary = try CRNNFileWriter.write(
            metadata: prepared.metadata, tensors: prepared.stateDict.entries, floatType: options.storedFloatType,
            // A trailing '/' must reach the writer (which refuses it), not be dropped.
            to: URL(fileURLWithPath: output, isDirectory: output.hasSuffix("/"))
        ) { temporary in
            let written = try CRNNFile.open(path: temporary, name: output)
            roundingError = try verify(written, against: prepared.stateDict, floatType: options.storedFloatType)
            // What was written came from the source's bytes: they must still be the file's.
            try prepared.checkSourceUnchanged()
        }
        let names = prepared.stateDict.names
        return ConversionReport(
            metadata: prepared.metadata, checkpointInfo: prepared.info, tensorCount: names.count,
            layerCount: Set(names.map(layerName)).count,
            parameterCount: prepared.stateDict.entries.reduce(0) { $0 + $1.tensor.elementCount },
            outputBytes: summary.bytesWritten, largestRoundingError: roundingError,
            nonFiniteTensors: prepared.nonFiniteTensors, seconds: Date().timeIntervalSince(started))
    }

    /// A checkpoint read, checked against the CRNN layers and described.
    package struct PreparedModel: Sendable {
        /// The state_dict, names as the CRNN expects them.
        package let stateDict: StateDict
        /// The model's hyperparameters; the state_dict was strictly checked
        /// against the layers they give (`CRNNModel(stateDict:)` makes a
        /// runnable model of it).
        package let configuration: CRNNConfiguration
        /// What the `.bin` would say about it; `sourceSHA256` is `nil` when
        /// it was prepared without a `sourceDigest`.
        package let metadata: CRNNModelMetadata
        /// How the checkpoint was laid out.
        package let info: CheckpointInfo
        /// The floating-point tensors holding a NaN or an infinity, in state_dict order.
        package let nonFiniteTensors: [String]
        /// The checkpoint the state_dict's tensors view.
        let checkpoint: TorchCheckpoint

        /// Throws when the checkpoint file changed since it was read (the
        /// tensors view its bytes): call once done reading the tensors.
        /// - Throws: `CheckpointError.changedWhileRead`.
        package func checkSourceUnchanged() throws { try checkpoint.checkUnchanged() }
    }

    /// Reads the checkpoint at `path` and builds the model, without writing:
    /// what `crnn-predict` does with a `.pt` (without a digest: nothing there
    /// reads it). With `sourceDigest`, the file is hashed on another core
    /// meanwhile and the metadata carries its SHA-256.
    /// - Throws: the reader's or the model's error, a `ConversionError`
    ///   (`.sourceDigestFailed` for what `sourceDigest` threw).
    package static func prepare(
        path: String, options: ConversionOptions = ConversionOptions(), sourceDigest: SourceDigest? = nil
    ) throws -> PreparedModel {
        // The digest only goes into the metadata: compute it on the other core meanwhile.
        let digest = sourceDigest.map { hash in BackgroundWork { try hash(path) } }
        let checkpoint = try TorchCheckpoint.open(path: path, options: CheckpointOptions(allowPickledModules: true))
        try ConversionError.requireDense(checkpoint)
        let stateDict = try checkpoint.loadStateDict()
        // Every key, shape and dtype, without copying any values.
        let configuration: CRNNConfiguration
        do { configuration = try CRNNLayers.check(stateDict) } catch let error as CRNNError {
            throw ConversionError.notACRNN(file: path, problems: briefSummary(of: error))
        }
        let alphabet = try AlphabetResolver.resolve(
            explicit: options.alphabet, checkpoint: checkpoint, vocabularySize: configuration.vocabularySize)
        let heights = configuration.acceptedHeights
        let metadata = CRNNModelMetadata(
            architecture: architecture, hiddenSize: configuration.hiddenSize, vocabularySize: configuration.vocabularySize,
            trunkWidths: configuration.trunkWidths, rnnInputSize: configuration.rnnInputSize,
            featureRows: configuration.featureRows, alphabet: alphabet, blankIndex: 0,
            nominalInputHeight: 50, minInputHeight: heights.lowerBound, maxInputHeight: heights.upperBound,
            sourceFileName: URL(fileURLWithPath: path).lastPathComponent, sourceSHA256: try digest.map { try sha256(from: $0, of: path) },
            converterName: "crnn-convert", converterVersion: options.converterVersion,
            storedFloatType: options.storedFloatType)
        return PreparedModel(stateDict: stateDict, configuration: configuration, metadata: metadata,
                             info: checkpoint.info, nonFiniteTensors: nonFiniteTensors(of: stateDict), checkpoint: checkpoint)
    }

    /// The names of the floating-point tensors of `stateDict` with a NaN or
    /// an infinity among their values.
    static func nonFiniteTensors(of stateDict: StateDict) -> [String] {
        stateDict.entries.filter { entry in
            guard entry.tensor.dtype.isFloatingPoint else { return false }
            var finite = true
            entry.tensor.forEachElement { if !$0.isFinite { finite = false } }
            return !finite
        }.map(\.name)
    }

    /// The model's error in one readable line: every problem when there are
    /// few, else the counts by kind and the first few.
    static func briefSummary(of error: CRNNError, limit: Int = 8) -> String {
        guard case let .stateDictMismatch(problems) = error else { return error.summary }
        guard problems.count > limit else {
            return "state_dict does not match the CRNN: " + problems.map(\.description).joined(separator: "; ")
        }
        var missing = 0, unexpected = 0
        for problem in problems {
            switch problem {
            case .missing: missing += 1
            case .unexpected: unexpected += 1
            default: break
            }
        }
        let other = problems.count - missing - unexpected
        let first = problems.prefix(limit).map(\.description).joined(separator: "; ")
        let hint = missing > 0 && unexpected > 0 ? " (the state_dict of another model?)" : ""
        return "state_dict does not match the CRNN\(hint): \(missing) missing, \(unexpected) unexpected and \(other) mismatched tensors; "
            + "first: \(first); ..."
    }

    /// Compares every tensor of the file just written with the source, bit
    /// for bit after the stored type's rounding.
    /// - Returns: the largest absolute rounding error (0 for float32 storage).
    static func verify(_ file: CRNNFile, against source: StateDict, floatType: DType) throws -> Double {
        let output = file.name
        let written = file.tensors
        guard written.names == source.names else {
            throw ConversionError.verificationFailed(file: output, tensor: "(directory)", reason: "tensor names or order differ")
        }
        var largest = 0.0
        for (name, original) in source.entries {
            guard let stored = written[name] else { continue }
            guard stored.shape == original.shape else {
                throw ConversionError.verificationFailed(file: output, tensor: name, reason: "shape \(stored.shape) != \(original.shape)")
            }
            if stored.dtype == original.dtype && stored.hasSamePackedBytes(as: original) { continue }
            let expected = original.doubleValues()
            let actual = stored.doubleValues()
            for index in expected.indices {
                let want = original.dtype.isFloatingPoint ? CRNNFileWriter.storedValue(expected[index], as: floatType) : expected[index]
                let got = actual[index]
                guard want == got || (want.isNaN && got.isNaN) else {
                    throw ConversionError.verificationFailed(
                        file: output, tensor: name, reason: "element \(index) is \(got), expected \(want)")
                }
                if original.dtype.isFloatingPoint && expected[index].isFinite {
                    largest = max(largest, abs(got - expected[index]))
                }
            }
        }
        return largest
    }

    /// True when renaming a file over `output` would replace the input's
    /// bytes: `output` (itself, not what it may link to, since the rename
    /// replaces a link) is the file `input` reaches, links followed.
    static func outputReplacesInput(_ input: String, _ output: String) -> Bool {
        var source = stat(), destination = stat()
        guard stat(input, &source) == 0, lstat(output, &destination) == 0 else { return false }
        return source.st_dev == destination.st_dev && source.st_ino == destination.st_ino
    }

    private static func layerName(_ name: String) -> String {
        guard let dot = name.lastIndex(of: ".") else { return name }
        return String(name[..<dot])
    }
}
