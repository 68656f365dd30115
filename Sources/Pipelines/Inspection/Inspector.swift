import CRNN
package import CRNNFormat
public import Conversion
import TensorCore
public import TorchCheckpoint

/// Reads any PyTorch checkpoint (or, once converted, our `.bin`) and reports
/// what is inside. Without statistics no tensor data is read.
public enum Inspector {
    /// Inspects the file at `path`.
    /// - Parameters:
    ///   - statistics: also read every tensor and compute `TensorStatistics`.
    ///   - allowPickledModules: admit whole pickled modules (`torch.save(model)`).
    /// - Throws: `ConversionError`: `.checkpoint` with the reader's error or
    ///   `.format` with the `.bin` format's, each naming the file and the
    ///   problem; `.emptyModelFile` or `.unknownModelFormat` for a file that
    ///   is neither; `.notACRNN` or `.metadataContradictsTensors` for a
    ///   `.bin` whose description would be false.
    ///   - listingEveryTensor: also list every tensor in the file by its path
    ///     (`allTensors`), the state_dict's and the others.
    public static func inspect(
        path: String, statistics: Bool, allowPickledModules: Bool = false, listingEveryTensor: Bool = false
    ) throws(ConversionError) -> InspectionReport {
        do {
            return try inspectUnchecked(path: path, statistics: statistics, allowPickledModules: allowPickledModules,
                                        listingEveryTensor: listingEveryTensor)
        } catch {
            throw ConversionError.converted(error, file: path)
        }
    }

    private static func inspectUnchecked(
        path: String, statistics: Bool, allowPickledModules: Bool, listingEveryTensor: Bool
    ) throws -> InspectionReport {
        if try ConversionError.isCRNNFile(path) {
            let file = try CRNNFile.open(path: path)
            try checkMetadata(of: file)
            let report = report(for: file, statistics: statistics)
            try file.checkUnchanged()
            return report
        }
        let checkpoint: TorchCheckpoint
        do {
            checkpoint = try TorchCheckpoint.open(path: path, options: CheckpointOptions(allowPickledModules: allowPickledModules))
        } catch {
            throw ConversionError.namingTheBinAlternative(error)
        }
        return try report(for: checkpoint, statistics: statistics, listingEveryTensor: listingEveryTensor)
    }

    /// Refuses a `.bin` whose metadata contradicts its tensors (classes,
    /// alphabet length, hidden size, widths, rows, heights), as `crnn-predict`
    /// does when it opens one: the description a report would show is false.
    /// - Throws: `ConversionError.metadataContradictsTensors`, or
    ///   `ConversionError.notACRNN` when the tensors do not make a CRNN.
    static func checkMetadata(of file: CRNNFile) throws {
        let configuration: CRNNConfiguration
        do { configuration = try CRNNLayers.check(file.tensors) } catch let error as CRNNError {
            throw ConversionError.notACRNN(file: file.name, problems: error.summary)
        }
        if let contradiction = file.metadata.contradiction(with: configuration) {
            throw ConversionError.metadataContradictsTensors(file: file.name, contradiction: contradiction)
        }
    }

    /// The report for an opened checkpoint.
    /// - Parameter listingEveryTensor: also list every tensor in the file by its path.
    /// - Throws: `CheckpointError` when a tensor cannot be read (with
    ///   `statistics`) or a tensor outside the state_dict is malformed.
    public static func report(
        for checkpoint: TorchCheckpoint, statistics: Bool, listingEveryTensor: Bool = false
    ) throws(CheckpointError) -> InspectionReport {
        let info = checkpoint.info
        var details: [(String, String)] = [("layout", info.layout.summary)]
        if let root = info.archiveRoot { details.append(("archive root", root + "/")) }
        if let version = info.formatVersion { details.append(("format version", version)) }
        if let protocolVersion = info.pickleProtocol { details.append(("pickle protocol", String(protocolVersion))) }
        details.append(("byte order", info.byteOrder))
        details.append(("state_dict", info.source.description))
        if let prefix = info.strippedPrefix { details.append(("prefix removed", prefix)) }
        details.append(("storages", String(info.storageCount)))
        details.append(("file size", String(info.fileSize)))
        details += checkpoint.safetensorsMetadata.map { ("metadata \($0.key)", $0.value) }
        var stats: [TensorStatistics]?
        if statistics {
            let stateDict = try checkpoint.loadStateDict()
            stats = stateDict.entries.map { TensorStatistics(of: $0.tensor) }
            try checkpoint.checkUnchanged()
        }
        var report = InspectionReport(
            file: checkpoint.fileName, format: info.layout.formatName, details: details,
            tensors: checkpoint.tensors.map { ($0.name, $0.record.dtype, $0.record.shape) }, statistics: stats,
            extras: try checkpoint.tensors.map { entry throws(CheckpointError) in
                var extra = extra(for: entry.record)
                if let parameters = try checkpoint.channelQuantizationParameters(of: entry.record) {
                    extra.quantization?.scales = parameters.scales
                    extra.quantization?.zeroPoints = parameters.zeroPoints
                }
                return extra
            })
        let inventory = try checkpoint.inventory()
        if info.layout != .safetensors {
            report.outsideStateDict = InspectionReport.Outside(
                count: inventory.outsideCount,
                under: inventory.outsideUnder.map { InspectionReport.Outside.Place(key: $0.key, count: $0.count) })
        }
        report.passedOver = info.passedOver
        if listingEveryTensor {
            report.allTensors = inventory.all.map {
                InspectionReport.LocatedTensorSummary(path: $0.path, dtype: $0.dtype.rawValue, shape: $0.shape, inStateDict: $0.inStateDict)
            }
        }
        return report
    }

    /// The sparse layout or quantization a record adds to its summary.
    static func extra(for record: TensorRecord) -> InspectionReport.Extra {
        var extra = InspectionReport.Extra()
        if let sparse = record.sparse {
            extra.layout = sparse.layout
            extra.storedValues = sparse.storedValues
            extra.storedBytes = sparse.components.reduce(0) { $0 &+ $1.record.elementCount &* $1.record.dtype.byteWidth }
        }
        if let quantization = record.quantization {
            extra.quantization = InspectionReport.QuantizationSummary(
                scheme: quantization.scheme, scale: quantization.scale, zeroPoint: quantization.zeroPoint, axis: quantization.axis,
                scalesDType: quantization.channelParameters.first?.dtype.rawValue,
                zeroPointsDType: quantization.channelParameters.last?.dtype.rawValue)
        }
        return extra
    }

    /// The report for one of our `.bin` files, with its metadata as details.
    package static func report(for file: CRNNFile, statistics: Bool) -> InspectionReport {
        let meta = file.metadata
        let details: [(String, String)] = [
            ("format version", "\(file.formatVersion.major).\(file.formatVersion.minor)"),
            ("architecture", meta.architecture),
            ("trunk widths", meta.trunkWidths.map(String.init).joined(separator: ", ")),
            ("rnn input size", String(meta.rnnInputSize)),
            ("hidden size", String(meta.hiddenSize)),
            ("vocabulary size", String(meta.vocabularySize)),
            ("alphabet", meta.alphabet),
            ("blank index", String(meta.blankIndex)),
            ("input height", "\(meta.nominalInputHeight) (accepts \(meta.minInputHeight) to \(meta.maxInputHeight))"),
            ("feature rows", String(meta.featureRows)),
            ("stored float type", meta.storedFloatType.rawValue),
            ("source file", meta.sourceFileName),
            ("source sha256", meta.sourceSHA256 ?? "none (converted without a digest)"),
            ("converter", "\(meta.converterName) \(meta.converterVersion)"),
            ("checksum", "verified"),
            ("file size", String(file.fileSize)),
        ]
        let stats = statistics ? file.tensors.entries.map { TensorStatistics(of: $0.tensor) } : nil
        return InspectionReport(
            file: file.name, format: "crnn-bin", details: details,
            tensors: file.tensors.entries.map { ($0.name, $0.tensor.dtype, $0.tensor.shape) }, statistics: stats)
    }
}
