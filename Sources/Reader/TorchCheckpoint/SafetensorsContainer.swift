import Pickle
import TensorCore

/// A safetensors file as the checkpoint reader sees it: each tensor its own
/// storage (a byte range of the mapped file), the state_dict in header
/// order, and `__metadata__` as the file's object (a dict of strings, so an
/// `alphabet` entry is found as in a checkpoint dict).
struct SafetensorsContainer {
    let header: SafetensorsHeader
    let storages: StorageTable
    let located: LocatedStateDict
    let root: PickleValue

    /// Validates the header of `buffer` and describes its tensors; no tensor
    /// byte is read.
    /// - Throws: `CheckpointError.invalidSafetensors` for a header the format
    ///   forbids, `.unsupportedDType` for a format dtype this reader lacks,
    ///   `.tensorNameTooLong` for a name over the limit.
    init(buffer: ByteBuffer, file: String, options: CheckpointOptions) throws {
        do {
            header = try buffer.withUnsafeBytes { bytes in try SafetensorsHeader(file: bytes) }
        } catch let problem as SafetensorsProblem {
            throw CheckpointError.invalidSafetensors(file: file, problem: problem)
        }
        let names = NameCheck(file: file, limit: options.maxTensorNameBytes)
        var table = StorageTable()
        var entries = [(name: String, record: TensorRecord)]()
        for (index, entry) in header.entries.enumerated() {
            let name = try names.checked(entry.name)
            guard let dtype = entry.dtype.dtype else {
                throw CheckpointError.unsupportedDType(file: file, tensor: name, dtype: entry.dtype.rawValue)
            }
            let key = "safetensors/\(index)"
            let count = entry.dataRange.count
            table.locations[key] = StorageLocation(
                key: key, byteCount: count, source: .fileRange(offset: header.dataStart + entry.dataRange.lowerBound),
                elementWidth: dtype.byteWidth)
            let storage = StorageReference(key: key, dtype: dtype, elementCount: count / dtype.byteWidth, view: nil)
            let record = TensorRecord(dtype: dtype, shape: entry.shape, strides: Tensor.contiguousStrides(for: entry.shape),
                                      storageOffset: 0, storageKey: key, storage: storage)
            entries.append((name, record))
        }
        var found = LocatedStateDict(entries: entries, source: .topLevel, strippedPrefix: nil)
        if options.stripsWrapperPrefixes { StateDictLocator.stripWrapperPrefixes(&found) }
        located = found
        storages = table
        root = .dict(PickleDict(entries: header.metadata.map { (PickleValue.string($0.key), PickleValue.string($0.value)) }))
    }
}

extension TorchCheckpoint {
    /// A safetensors file's `__metadata__`, in header order; empty for other
    /// layouts and for a file without one.
    public var safetensorsMetadata: [(key: String, value: String)] {
        guard info.layout == .safetensors, case let .dict(dict) = root else { return [] }
        return dict.entries.compactMap { entry in
            guard case let .string(key) = entry.key, case let .string(value) = entry.value else { return nil }
            return (key, value)
        }
    }
}
