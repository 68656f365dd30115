import Pickle
import TensorCore

/// Everything that can be wrong with a checkpoint file. Each case names the
/// file and says what was found and what was expected, in one line.
public enum CheckpointError: Error, Equatable, CustomStringConvertible {
    /// The file could not be opened or mapped.
    case unreadable(file: String, reason: String)
    /// Another process truncated or rewrote the file while it was read.
    case changedWhileRead(file: String)
    /// The file is empty.
    case empty(file: String)
    /// The bytes are neither a torch zip archive nor a legacy torch pickle.
    case unknownFormat(file: String, found: String)
    /// A format torch once wrote that this reader deliberately refuses.
    case unsupportedFormat(file: String, reason: String)
    /// libzip rejected the archive, or its records are inconsistent.
    case corruptZip(file: String, reason: String)
    /// Two records of the archive have the same name: readers may take
    /// either, so what one tool checks need not be what another loads.
    case duplicateRecord(file: String, record: String)
    /// Two records claim the same bytes of the file (the shape of a zip bomb
    /// made of overlapping records).
    case overlappingRecords(file: String, first: String, second: String)
    /// A zip record's bytes do not give the CRC-32 the central directory
    /// records for it; `tensors` are the tensors stored in it (none for the
    /// pickle and the small records); `computed` is `nil` for a compressed
    /// record, whose check libzip makes as it inflates.
    case checksumMismatch(file: String, record: String, tensors: [String], stored: UInt32, computed: UInt32?)
    /// A record the layout requires is absent.
    case missingRecord(file: String, record: String)
    /// The legacy stream is damaged (bad magic, version, storage table...).
    case corruptLegacy(file: String, reason: String)
    /// The pickle inside could not be read safely: damaged, over a limit, or
    /// naming a global outside the allowlist; `reason` says which, with the
    /// opcode and its byte offset.
    case pickle(file: String, part: String, reason: String)
    /// The pickle names a class that is neither a tensor nor a container type:
    /// most likely a whole pickled module or a config object, readable with consent.
    case classNotAllowed(file: String, global: String, offset: Int)
    /// The pickle is well formed but does not describe tensors as torch does.
    case malformed(file: String, reason: String)
    /// A tensor has a dtype this reader does not support.
    case unsupportedDType(file: String, tensor: String, dtype: String)
    /// A state_dict key is longer than `CheckpointOptions.maxTensorNameBytes`;
    /// `start` is its beginning, for the message.
    case tensorNameTooLong(file: String, start: String, bytes: Int, limit: Int)
    /// A storage declares more bytes than the file holds for it.
    case storageOutOfBounds(file: String, storage: String, needed: Int, available: Int)
    /// A tensor's view reaches outside its storage.
    case tensorOutOfBounds(file: String, tensor: String, reason: String)
    /// Something declares a size above the reader's limit.
    case tooLarge(file: String, what: String, size: Int, limit: Int)
    /// No dict of tensors was found; lists what the top level holds.
    case noStateDict(file: String, found: String)
    /// A safetensors header breaks the format (see `SafetensorsProblem`).
    case invalidSafetensors(file: String, problem: SafetensorsProblem)

    public var description: String {
        switch self {
        case let .unreadable(file, reason): "\(file): cannot read: \(reason)"
        case let .changedWhileRead(file): TensorCoreError.changedWhileRead(path: file).description
        case let .empty(file): "\(file): the file is empty; expected a PyTorch checkpoint"
        case let .unknownFormat(file, found):
            "\(file): unknown format, not a PyTorch checkpoint (starts with \(found)); expected a torch.save zip archive or legacy pickle, or a safetensors file"
        case let .unsupportedFormat(file, reason): "\(file): \(reason)"
        case let .corruptZip(file, reason): "\(file): damaged zip archive: \(reason)"
        case let .duplicateRecord(file, record):
            "\(file): the zip archive has two records named '\(record)', and readers may take either; refused as tampered or damaged: resave it with torch.save"
        case let .overlappingRecords(file, first, second):
            "\(file): zip records '\(first)' and '\(second)' share bytes of the file (overlapping records, as in a zip bomb); refused: resave it with torch.save"
        case let .checksumMismatch(file, record, tensors, stored, computed):
            "\(file): zip record '\(record)'\(Self.holding(tensors)) is damaged: its bytes \(computed.map { "give CRC-32 \(Hex.word($0))" } ?? "do not give the CRC-32") but the archive records \(Hex.word(stored)); copy or save the checkpoint again"
        case let .missingRecord(file, record): "\(file): the archive has no '\(record)' record, which torch.save always writes"
        case let .corruptLegacy(file, reason): "\(file): damaged legacy checkpoint: \(reason)"
        case let .pickle(file, part, reason): "\(file): \(part): \(reason)"
        case let .classNotAllowed(file, global, offset):
            "\(file): the pickle names \(global) (byte \(offset)), not a tensor or container type; if this is a whole pickled module (torch.save(model)) or config objects beside the weights (omegaconf, Enum, dataclass), allow pickled modules (crnn-inspect --allow-pickled-modules) to read them as inert data without running anything"
        case let .malformed(file, reason): "\(file): \(reason)"
        case let .unsupportedDType(file, tensor, dtype):
            "\(file): tensor '\(tensor)' has dtype \(dtype); supported: \(DType.allCases.map(\.rawValue).joined(separator: ", "))"
        case let .tensorNameTooLong(file, start, bytes, limit):
            "\(file): a tensor name of \(bytes) bytes (starting '\(start)...') is over the limit of \(limit) bytes, which keeps a hostile file from exhausting memory; refused"
        case let .storageOutOfBounds(file, storage, needed, available):
            "\(file): storage '\(storage)' needs \(needed) bytes but the file holds \(available) for it (truncated or corrupt)"
        case let .tensorOutOfBounds(file, tensor, reason): "\(file): tensor '\(tensor)': \(reason)"
        case let .tooLarge(file, what, size, limit): "\(file): \(what) declares \(size) bytes, over the limit of \(limit)"
        case let .noStateDict(file, found): "\(file): no state_dict (a dict of tensors) found; the file holds \(found)"
        case let .invalidSafetensors(file, problem): "\(file): invalid safetensors file: \(problem)"
        }
    }
}

extension CheckpointError {
    /// " (tensors 'a', 'b')" for a record's tensors, at most eight named; "" for none.
    private static func holding(_ tensors: [String]) -> String {
        guard !tensors.isEmpty else { return "" }
        let named = tensors.prefix(8).map { "'\($0)'" }.joined(separator: ", ")
        let more = tensors.count > 8 ? " and \(tensors.count - 8) more" : ""
        return " (\(tensors.count == 1 ? "tensor" : "tensors") \(named)\(more))"
    }

    /// The checkpoint error for a pickle error in `part` of `file`: a class
    /// outside the allowlist (not in a blocked module) gets a hint that it may
    /// be a pickled module.
    static func from(_ error: PickleError, file: String, part: String, modulesAllowed: Bool) -> CheckpointError {
        if !modulesAllowed, case let .forbiddenGlobal(module, name, offset) = error, !PicklePolicy.isBlocked(PickleGlobal(module, name)) {
            return .classNotAllowed(file: file, global: module + "." + name, offset: offset)
        }
        return .pickle(file: file, part: part, reason: error.description)
    }
}

extension CheckpointError {
    /// `error` as a `CheckpointError` about `file`, for the typed throws of
    /// the reader's public API: a `CheckpointError` is itself; a tensor
    /// view or file error of TensorCore becomes `.unreadable`,
    /// `.changedWhileRead` or `.malformed` with TensorCore's own words.
    package static func converted(_ error: any Error, file: String) -> CheckpointError {
        switch error {
        case let error as CheckpointError: return error
        case let error as TensorCoreError:
            switch error {
            case let .fileAccess(_, reason): return .unreadable(file: file, reason: reason)
            case .changedWhileRead: return .changedWhileRead(file: file)
            default: return .malformed(file: file, reason: error.description)
            }
        case let error as PickleError: return .pickle(file: file, part: "the pickle", reason: error.description)
        default: return .malformed(file: file, reason: String(describing: error))
        }
    }
}
