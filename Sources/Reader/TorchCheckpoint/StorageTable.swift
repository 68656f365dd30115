import TensorCore

/// Where a storage's bytes are in the file.
enum StorageSource: Sendable {
    /// A record of a zip archive, read when the data is needed.
    case zipRecord(ZipEntry)
    /// A byte range of the (memory-mapped) file itself.
    case fileRange(offset: Int)
}

/// One storage the tensors use: how many bytes it holds and where they are.
struct StorageLocation: Sendable {
    let key: String
    /// Bytes available to tensors viewing this storage.
    let byteCount: Int
    let source: StorageSource
    /// The width used to byte-swap a big-endian zip storage.
    let elementWidth: Int
}

/// The storages of a checkpoint by key, with the bounds every tensor is
/// checked against before any byte is read.
struct StorageTable: Sendable {
    var locations: [String: StorageLocation] = [:]

    /// Checks that `record` lies inside its storage.
    func validate(_ record: TensorRecord, name: String, file: String) throws {
        // A sparse tensor's parts, and a per-channel quantized tensor's parameters, are tensors of their own.
        if let sparse = record.sparse {
            for component in sparse.components {
                try validate(component.record, name: "\(name) (\(component.role))", file: file)
            }
            return
        }
        for parameters in record.quantization?.channelParameters ?? [] { try validate(parameters, name: name, file: file) }
        guard let location = locations[record.storageKey] else {
            throw CheckpointError.malformed(file: file, reason: "tensor '\(name)' uses storage '\(record.storageKey)', which the file does not hold")
        }
        do {
            try Tensor.validateView(shape: record.shape, strides: record.strides, storageOffset: record.storageOffset,
                                    storageElements: location.byteCount / record.dtype.byteWidth)
        } catch let error as TensorCoreError {
            throw CheckpointError.tensorOutOfBounds(file: file, tensor: name, reason: error.description)
        }
    }
}
