package import Pickle
public import TensorCore

/// The two file layouts `torch.save` writes.
public enum CheckpointLayout: String, Sendable, Codable {
    /// A zip archive (PyTorch >= 1.6, the default).
    case zip
    /// The legacy stream of back-to-back pickles and raw storages.
    case legacy
    /// A safetensors file (a JSON header, then the tensors' bytes).
    case safetensors
}

/// How to read a checkpoint.
public struct CheckpointOptions: Sendable {
    /// Admit whole pickled modules (`torch.save(model)`): their classes become
    /// inert named objects whose parameters are read; nothing is ever called.
    public var allowPickledModules: Bool
    /// Bounds on the pickle machine (nesting, memo, values).
    package var pickleLimits: PickleLimits
    /// The longest tensor name (state_dict key, in UTF-8 bytes) accepted. Names
    /// go into messages, reports and `.bin` files, whose own limit is 1024;
    /// real ones are under 200.
    public var maxTensorNameBytes: Int
    /// Remove a prefix every name shares (`module.`, `_orig_mod.`); off to
    /// keep the names exactly as PyTorch's `state_dict()` gives them.
    public var stripsWrapperPrefixes: Bool

    /// Strict defaults: state_dicts and checkpoint dicts only; the pickle
    /// machine's bounds (nesting 200, a million memo entries, ten million
    /// values) protect memory and time from hostile files.
    public init(allowPickledModules: Bool = false, maxTensorNameBytes: Int = 1024, stripsWrapperPrefixes: Bool = true) {
        self.init(allowPickledModules: allowPickledModules, pickleLimits: PickleLimits(), maxTensorNameBytes: maxTensorNameBytes,
                  stripsWrapperPrefixes: stripsWrapperPrefixes)
    }

    /// Options with the pickle machine's bounds set (tests and the fuzz harness).
    package init(allowPickledModules: Bool = false, pickleLimits: PickleLimits, maxTensorNameBytes: Int = 1024,
                 stripsWrapperPrefixes: Bool = true) {
        self.allowPickledModules = allowPickledModules
        self.pickleLimits = pickleLimits
        self.maxTensorNameBytes = maxTensorNameBytes
        self.stripsWrapperPrefixes = stripsWrapperPrefixes
    }
}

/// What the reader found about the file itself.
public struct CheckpointInfo: Equatable, Sendable {
    /// zip or legacy.
    public var layout: CheckpointLayout
    /// The zip archive's root folder (`archive`, or the saved file's stem).
    public var archiveRoot: String?
    /// The pickle protocol of the object pickle.
    public var pickleProtocol: Int?
    /// `little` or `big`: how storages are stored.
    public var byteOrder: String
    /// The zip `version` record, or the legacy protocol version.
    public var formatVersion: String?
    /// How many distinct storages the tensors use.
    public var storageCount: Int
    /// Where the state_dict was found.
    public var source: StateDictSource
    /// The prefix removed from every name (`module.`), if any.
    public var strippedPrefix: String?
    /// The file's size in bytes.
    public var fileSize: Int
    /// Other dicts of tensors (or pickled modules) the file holds that could
    /// have been the state_dict and were not chosen, by path
    /// (`model_ema`): the choice was a guess among these.
    public var passedOver: [String] = []
}

/// A PyTorch checkpoint opened without Python: its state_dict's tensors as
/// descriptors, read from the pickle through an allowlist. Opening reads only
/// the pickle; tensor bytes are read by `loadStateDict()`.
public struct TorchCheckpoint: Sendable {
    /// The name used in messages (the path given).
    public let fileName: String
    /// Facts about the file.
    public let info: CheckpointInfo
    /// The state_dict's tensors in order, names after prefix removal.
    public let tensors: [(name: String, record: TensorRecord)]
    /// The whole unpickled object (for metadata beside the weights, such as an
    /// `alphabet` key of a checkpoint dict).
    package let root: PickleValue

    private let buffer: ByteBuffer
    private let storages: StorageTable
    /// True when the state_dict was found in a pickled object (`torch.save`,
    /// or a TorchScript archive's `data.pkl`), whose other tensors
    /// `inventory()` then lists; false for safetensors, whose tensors are
    /// all the state_dict.
    private var walksRoot = false
    private let zip: ZipContainer?
    private let recordLimit: Int

    /// Opens the checkpoint at `path` (memory-mapped, see
    /// `ByteBuffer.mapping(path:)`).
    /// - Throws: `CheckpointError` naming the file and what is wrong;
    ///   `.changedWhileRead` when another process changed it while it was
    ///   read (see `checkUnchanged()`).
    public static func open(path: String, options: CheckpointOptions = CheckpointOptions()) throws(CheckpointError) -> TorchCheckpoint {
        do { return try openUnchecked(path: path, options: options) } catch { throw CheckpointError.converted(error, file: path) }
    }

    private static func openUnchecked(path: String, options: CheckpointOptions) throws -> TorchCheckpoint {
        let buffer: ByteBuffer
        do { buffer = try ByteBuffer.mapping(path: path) } catch let error as TensorCoreError {
            switch error {
            case let .fileAccess(_, reason): throw CheckpointError.unreadable(file: path, reason: reason)
            case .changedWhileRead: throw CheckpointError.changedWhileRead(file: path)
            default: throw CheckpointError.unreadable(file: path, reason: error.description)
            }
        }
        let checkpoint: TorchCheckpoint
        do { checkpoint = try TorchCheckpoint(buffer: buffer, fileName: path, options: options) } catch {
            try checkUnchanged(buffer, file: path)
            throw error
        }
        try checkpoint.checkUnchanged()
        return checkpoint
    }

    /// Throws when the mapped file changed since it was opened (truncated or
    /// rewritten by another process): what was read from it, the tensors of
    /// `loadStateDict()` included, may then not be the file's. Callers that
    /// read tensors check once they are done. A checkpoint read from bytes in
    /// memory never throws.
    /// - Throws: `CheckpointError.changedWhileRead`.
    public func checkUnchanged() throws(CheckpointError) { try Self.checkUnchanged(buffer, file: fileName) }

    private static func checkUnchanged(_ buffer: ByteBuffer, file: String) throws(CheckpointError) {
        do { try buffer.checkUnchanged() } catch { throw CheckpointError.changedWhileRead(file: file) }
    }

    /// Reads a checkpoint from bytes in memory; `fileName` is used in messages.
    /// - Throws: `CheckpointError` naming the file and what is wrong.
    public init(buffer: ByteBuffer, fileName: String, options: CheckpointOptions = CheckpointOptions()) throws(CheckpointError) {
        do { try self.init(unchecked: buffer, fileName: fileName, options: options) } catch {
            throw CheckpointError.converted(error, file: fileName)
        }
    }

    private init(unchecked buffer: ByteBuffer, fileName: String, options: CheckpointOptions) throws {
        self.buffer = buffer
        self.fileName = fileName
        let file = fileName
        guard buffer.count > 0 else { throw CheckpointError.empty(file: file) }
        // Compressed records may not inflate past a small multiple of the file.
        recordLimit = buffer.count.multipliedReportingOverflow(by: 8).overflow ? Int.max : buffer.count * 8 + (64 << 20)
        var unpickler = Unpickler(policy: TorchAllowlist.policy(allowingModules: options.allowPickledModules, limits: options.pickleLimits))
        var info: CheckpointInfo
        var kind = FormatSniffer.sniff(buffer)
        if case .unknown = kind, file.lowercased().hasSuffix(".safetensors") { kind = .safetensors }
        var readyStateDict: LocatedStateDict?
        var declarations: TorchScriptDeclarations?
        switch kind {
        case .zip:
            let container = try ZipContainer(buffer: buffer, file: file, recordLimit: recordLimit)
            if container.isTorchScript {
                unpickler = Unpickler(policy: TorchAllowlist.policy(
                    allowingModules: options.allowPickledModules, torchScript: true, limits: options.pickleLimits))
                declarations = try TorchScriptDeclarations(archive: container.archive, root: container.root, file: file, limit: recordLimit)
            }
            root = try container.pickle.withUnsafeBytes { bytes in
                do {
                    let (value, used) = try unpickler.load(bytes)
                    guard used == bytes.count else {
                        throw CheckpointError.malformed(file: file, reason: "data.pkl has \(bytes.count - used) bytes after its STOP opcode")
                    }
                    return value
                } catch let error as PickleError {
                    throw CheckpointError.from(error, file: file, part: "data.pkl", modulesAllowed: options.allowPickledModules)
                }
            }
            storages = try container.storageTable(for: TorchCheckpoint.storageReferences(in: root, file: file), file: file)
            zip = container
            let protocolByte = container.pickle.withUnsafeBytes { $0.count > 1 && $0[0] == 0x80 ? Int($0[1]) : nil }
            info = CheckpointInfo(layout: .zip, archiveRoot: container.root, pickleProtocol: protocolByte,
                                  byteOrder: container.bigEndian ? "big" : "little", formatVersion: container.version,
                                  storageCount: 0, source: .topLevel, strippedPrefix: nil, fileSize: buffer.count)
        case .legacy:
            let (container, table) = try buffer.withUnsafeBytes { bytes in
                let container = try LegacyContainer(bytes: bytes, file: file, unpickler: unpickler, modulesAllowed: options.allowPickledModules)
                let found = try TorchCheckpoint.storageReferences(in: container.root, file: file)
                return (container, try container.storageTable(for: found, bytes: bytes, file: file))
            }
            root = container.root
            storages = table
            zip = nil
            info = CheckpointInfo(layout: .legacy, archiveRoot: nil, pickleProtocol: container.pickleProtocol,
                                  byteOrder: "little", formatVersion: String(LegacyContainer.protocolVersion),
                                  storageCount: 0, source: .topLevel, strippedPrefix: nil, fileSize: buffer.count)
        case .safetensors:
            let container = try SafetensorsContainer(buffer: buffer, file: file, options: options)
            root = container.root
            storages = container.storages
            zip = nil
            readyStateDict = container.located
            info = CheckpointInfo(layout: .safetensors, archiveRoot: nil, pickleProtocol: nil, byteOrder: "little",
                                  formatVersion: nil, storageCount: 0, source: .topLevel, strippedPrefix: nil, fileSize: buffer.count)
        case let .refused(reason):
            throw CheckpointError.unsupportedFormat(file: file, reason: reason)
        case .unknown:
            throw CheckpointError.unknownFormat(file: file, found: buffer.withUnsafeBytes(FormatSniffer.describeStart))
        }
        let located: LocatedStateDict
        if let readyStateDict {
            located = readyStateDict
        } else if let declarations {
            located = try TorchScriptState.locate(root, declarations: declarations, file: file, maxNameBytes: options.maxTensorNameBytes)
        } else {
            located = try StateDictLocator.locate(root, file: file, maxNameBytes: options.maxTensorNameBytes,
                                                  stripsPrefixes: options.stripsWrapperPrefixes)
        }
        for (name, record) in located.entries { try storages.validate(record, name: name, file: file) }
        tensors = located.entries
        info.source = located.source
        info.strippedPrefix = located.strippedPrefix
        info.passedOver = located.passedOver
        walksRoot = readyStateDict == nil
        info.storageCount = Set(located.entries.map(\.record.storageKey)).count
        self.info = info
    }

    /// Every tensor in the file, the state_dict's and any others (an
    /// optimizer's state, an EMA copy, tensors in lists or config objects),
    /// by path; reads no tensor data.
    /// - Throws: `CheckpointError.malformed` for a tensor outside the
    ///   state_dict whose rebuild arguments are malformed.
    public func inventory() throws(CheckpointError) -> TensorInventory {
        let chosen = tensors.map(\.record)
        guard walksRoot else {
            return TensorWalk.inventory(all: tensors.map { (path: $0.name, record: $0.record) }, chosen: chosen)
        }
        do {
            return TensorWalk.inventory(all: try TensorWalk.tensors(in: root, file: fileName), chosen: chosen)
        } catch { throw CheckpointError.converted(error, file: fileName) }
    }

    /// The value stored under `key` when the file's object is a dict.
    package func topLevelValue(forKey key: String) -> PickleValue? {
        guard case let .dict(dict) = root else { return nil }
        return dict[key]
    }

    /// Reads every tensor's bytes and returns the state_dict. Legacy storages
    /// are views into the file's bytes; zip records are read once each, and
    /// each record's CRC-32 is checked before any tensor uses its bytes.
    /// The tensors view the file's bytes: call `checkUnchanged()` once done
    /// reading them.
    /// - Throws: `CheckpointError` when a record cannot be read;
    ///   `.checksumMismatch` naming the record and its tensors when its
    ///   CRC-32 differs from the archive's; `.changedWhileRead` when the file
    ///   changed meanwhile.
    public func loadStateDict() throws(CheckpointError) -> StateDict {
        // A file changed meanwhile is reported as that, not as the damage it seemed to have.
        do {
            let stateDict = try loadStorages()
            try checkUnchanged()
            return stateDict
        } catch {
            try checkUnchanged()
            throw CheckpointError.converted(error, file: fileName)
        }
    }

    private func loadStorages() throws -> StateDict {
        var loaded = [String: ByteSlice]()
        var result = StateDict()
        for (name, described) in tensors {
            // A sparse tensor's entry is its stored values.
            let record = described.storedElements
            let storage: ByteSlice
            if let cached = loaded[record.storageKey] {
                storage = cached
            } else {
                storage = try loadStorage(record.storageKey)
                loaded[record.storageKey] = storage
            }
            do {
                result[name] = try Tensor(dtype: record.dtype, shape: record.shape, strides: record.strides,
                                          storageOffset: record.storageOffset, storage: storage)
            } catch let error as TensorCoreError {
                throw CheckpointError.tensorOutOfBounds(file: fileName, tensor: name, reason: error.description)
            }
        }
        return result
    }

    /// The scales and zero points of a per-channel quantized tensor (read
    /// from the small tensors that hold them), as numbers; `nil` for any
    /// other tensor.
    /// - Throws: `CheckpointError` when their records cannot be read.
    public func channelQuantizationParameters(of record: TensorRecord) throws(CheckpointError) -> (scales: [Double], zeroPoints: [Double])? {
        guard let parameters = record.quantization?.channelParameters, parameters.count == 2 else { return nil }
        do {
            let values = try parameters.map { parameter in
                try Tensor(dtype: parameter.dtype, shape: parameter.shape, strides: parameter.strides,
                           storageOffset: parameter.storageOffset, storage: try loadStorage(parameter.storageKey)).doubleValues()
            }
            try checkUnchanged()
            return (values[0], values[1])
        } catch {
            try checkUnchanged()
            throw CheckpointError.converted(error, file: fileName)
        }
    }

    private func loadStorage(_ key: String) throws -> ByteSlice {
        guard let location = storages.locations[key] else {
            throw CheckpointError.malformed(file: fileName, reason: "storage '\(key)' is not in the file")
        }
        do {
            switch location.source {
            case let .fileRange(offset):
                return try ByteSlice(buffer: buffer, offset: offset, count: location.byteCount)
            case let .zipRecord(entry):
                guard let zip else { throw CheckpointError.malformed(file: fileName, reason: "no archive for storage '\(key)'") }
                let stored = tensors.filter { $0.record.storageKey == key }.map(\.name)
                let record = try zip.archive.read(entry, limit: recordLimit, tensors: stored)
                let bytes = zip.bigEndian ? ByteOrder.swapped(record, width: location.elementWidth) : record
                return try bytes.slice(offset: 0, count: location.byteCount)
            }
        } catch let error as TensorCoreError {
            throw CheckpointError.malformed(file: fileName, reason: "storage '\(key)': \(error.description)")
        }
    }

    /// Every storage reference in the object, in pickle order.
    static func storageReferences(in value: PickleValue, file: String) throws -> [StorageReference] {
        var found = [StorageReference]()
        try collect(value, into: &found, file: file)
        return found
    }

    private static func collect(_ value: PickleValue, into found: inout [StorageReference], file: String) throws {
        switch value {
        case let .persistent(id):
            if let reference = try StorageReference.parse(id, file: file) { found.append(reference) }
        case let .tuple(items), let .list(items), let .set(items):
            for item in items { try collect(item, into: &found, file: file) }
        case let .dict(dict):
            for entry in dict.entries {
                try collect(entry.key, into: &found, file: file)
                try collect(entry.value, into: &found, file: file)
            }
            if let attributes = dict.attributes { try collect(attributes, into: &found, file: file) }
        case let .call(_, arguments, state), let .object(_, arguments, state):
            for argument in arguments { try collect(argument, into: &found, file: file) }
            if let state { try collect(state, into: &found, file: file) }
        default:
            break
        }
    }
}

/// Byte swapping for storages written on big-endian machines.
enum ByteOrder {
    /// A copy of `buffer` with every `width`-byte element reversed.
    static func swapped(_ buffer: ByteSlice, width: Int) -> ByteSlice {
        guard width > 1 else { return buffer }
        var bytes = buffer.bytes
        var start = 0
        while start + width <= bytes.count {
            bytes[start..<(start + width)].reverse()
            start += width
        }
        return ByteSlice(copying: bytes)
    }
}

/// Tells the layouts apart from the first bytes.
enum FormatSniffer {
    enum Kind { case zip, legacy, safetensors, refused(String), unknown }

    static func sniff(_ buffer: ByteBuffer) -> Kind {
        buffer.withUnsafeBytes { bytes in
            if bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) || bytes.starts(with: [0x50, 0x4B, 0x05, 0x06]) { return .zip }
            if bytes.starts(with: Array("PYTORCH1".utf8)) {
                return .refused("a PYTORCH1 file from a pre-release PyTorch; load and resave it with a current PyTorch")
            }
            if bytes.count > 262, Array(bytes[257..<262]) == Array("ustar".utf8) {
                return .refused("a tar checkpoint from PyTorch before 0.4; load and resave it with a current PyTorch")
            }
            // safetensors: an 8-byte little-endian header length, then the JSON header's '{'
            // (asked first: a length such as 0x280 starts with the 0x80 of a pickle; a legacy
            // file's magic-number pickle never has '{' at byte 8).
            if bytes.count > 8 && bytes[8] == UInt8(ascii: "{") { return .safetensors }
            return LegacyContainer.looksLegacy(bytes) ? .legacy : .unknown
        }
    }

    /// The first bytes in hex, for messages.
    static func describeStart(_ bytes: UnsafeRawBufferPointer) -> String {
        Hex.string(bytes.prefix(8), separator: " ")
    }
}
