import TensorCore
import TorchCheckpoint

/// Reads any PyTorch checkpoint (or, once converted, our `.bin`) and reports
/// what is inside. Without statistics no tensor data is read.
public enum Inspector {
    /// Inspects the file at `path`.
    /// - Parameters:
    ///   - statistics: also read every tensor and compute `TensorStatistics`.
    ///   - allowPickledModules: admit whole pickled modules (`torch.save(model)`).
    /// - Throws: the reader's error, which names the file and the problem.
    public static func inspect(path: String, statistics: Bool, allowPickledModules: Bool = false) throws -> InspectionReport {
        let checkpoint = try TorchCheckpoint.open(path: path, options: CheckpointOptions(allowPickledModules: allowPickledModules))
        return try report(for: checkpoint, statistics: statistics)
    }

    /// The report for an opened checkpoint.
    public static func report(for checkpoint: TorchCheckpoint, statistics: Bool) throws -> InspectionReport {
        let info = checkpoint.info
        var details: [(String, String)] = [("layout", info.layout == .zip ? "zip archive (PyTorch >= 1.6)" : "legacy pickle stream")]
        if let root = info.archiveRoot { details.append(("archive root", root + "/")) }
        if let version = info.formatVersion { details.append(("format version", version)) }
        if let protocolVersion = info.pickleProtocol { details.append(("pickle protocol", String(protocolVersion))) }
        details.append(("byte order", info.byteOrder))
        details.append(("state_dict", info.source.description))
        if let prefix = info.strippedPrefix { details.append(("prefix removed", prefix)) }
        details.append(("storages", String(info.storageCount)))
        details.append(("file size", String(info.fileSize)))
        var stats: [TensorStatistics]?
        if statistics {
            let stateDict = try checkpoint.loadStateDict()
            stats = stateDict.entries.map { TensorStatistics(of: $0.tensor) }
        }
        return InspectionReport(
            file: checkpoint.fileName, format: info.layout == .zip ? "pytorch-zip" : "pytorch-legacy", details: details,
            tensors: checkpoint.tensors.map { ($0.name, $0.record.dtype, $0.record.shape) }, statistics: stats)
    }
}
