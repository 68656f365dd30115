import Pickle
import TensorCore

/// The legacy layout of `torch.save` (PyTorch < 1.6, or
/// `_use_new_zipfile_serialization=False`): pickles of the magic number, the
/// protocol version, sys_info, the object and the sorted storage keys, then
/// each storage as an int64 element count and its little-endian bytes.
struct LegacyContainer {
    /// `0x1950a86a20f9469cfc6c` as LONG1 stores it (little-endian).
    static let magicBytes: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]
    static let protocolVersion = 1001

    let root: PickleValue
    let storageKeys: [String]
    /// Where the raw storage data starts (after the key list pickle).
    let dataOffset: Int
    let pickleProtocol: Int?

    /// True when `bytes` start like a legacy torch file (a pickle of the magic number).
    static func looksLegacy(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x80
    }

    init(bytes: UnsafeRawBufferPointer, file: String, unpickler: Unpickler, modulesAllowed: Bool) throws {
        var offset = 0
        func next(_ part: String) throws -> PickleValue {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
            do {
                let (value, used) = try unpickler.load(rest)
                offset += used
                return value
            } catch let error as PickleError {
                throw CheckpointError.from(error, file: file, part: part, modulesAllowed: modulesAllowed)
            }
        }
        let magic: PickleValue
        do { magic = try next("magic number") } catch {
            throw CheckpointError.unknownFormat(file: file, found: FormatSniffer.describeStart(bytes))
        }
        guard case let .bigInt(digits) = magic, digits == LegacyContainer.magicBytes else {
            throw CheckpointError.corruptLegacy(file: file, reason: "invalid magic number \(PickleText.brief(magic)); expected 0x1950a86a20f9469cfc6c")
        }
        let version = try next("protocol version")
        guard version == .int(LegacyContainer.protocolVersion) else {
            throw CheckpointError.corruptLegacy(file: file, reason: "protocol version \(PickleText.brief(version)); expected 1001")
        }
        let sysInfo = try next("sys_info")
        if case let .dict(info) = sysInfo, info["little_endian"] == .bool(false) {
            throw CheckpointError.unsupportedFormat(file: file, reason: "saved on a big-endian machine by legacy torch.save; resave it on a little-endian one")
        }
        pickleProtocol = bytes.count > offset + 1 && bytes[offset] == 0x80 ? Int(bytes[offset + 1]) : nil
        root = try next("object pickle")
        let keys = try next("storage key list")
        guard case let .list(items) = keys else {
            throw CheckpointError.corruptLegacy(file: file, reason: "the storage key list is \(PickleText.brief(keys)), not a list")
        }
        var parsed = [String]()
        for item in items {
            guard let key = PickleText.string(item) ?? PickleText.integerKey(item) else {
                throw CheckpointError.corruptLegacy(file: file, reason: "a storage key is \(PickleText.brief(item)), not a string")
            }
            parsed.append(key)
        }
        storageKeys = parsed
        dataOffset = offset
    }

    /// Walks the storage data in key order, checking each declared count
    /// against the references and the bytes present.
    func storageTable(for references: [StorageReference], bytes: UnsafeRawBufferPointer, file: String) throws -> StorageTable {
        var firstReference = [String: StorageReference]()
        for reference in references where firstReference[reference.key] == nil { firstReference[reference.key] = reference }
        var table = StorageTable()
        var offset = dataOffset
        for key in storageKeys {
            guard let reference = firstReference[key], let dtype = reference.dtype else {
                throw CheckpointError.corruptLegacy(file: file, reason: "storage '\(key)' is listed but no tensor names it")
            }
            guard bytes.count - offset >= 8 else {
                throw CheckpointError.storageOutOfBounds(file: file, storage: key, needed: 8, available: bytes.count - offset)
            }
            let count = Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: Int64.self))
            offset += 8
            let (size, overflow) = Int(clamping: count).multipliedReportingOverflow(by: dtype.byteWidth)
            guard count >= 0, !overflow, size <= bytes.count - offset else {
                throw CheckpointError.storageOutOfBounds(
                    file: file, storage: key, needed: overflow || count < 0 ? Int.max : size, available: bytes.count - offset)
            }
            guard count == reference.elementCount else {
                throw CheckpointError.corruptLegacy(
                    file: file, reason: "storage '\(key)' holds \(count) elements but the pickle declares \(reference.elementCount)")
            }
            table.locations[key] = StorageLocation(key: key, byteCount: size, source: .fileRange(offset: offset), elementWidth: dtype.byteWidth)
            offset += size
        }
        for reference in references {
            guard let rootLocation = table.locations[reference.key] else {
                throw CheckpointError.malformed(file: file, reason: "storage '\(reference.key)' is not in the storage list")
            }
            guard let view = reference.view, table.locations[view.key] == nil,
                  case let .fileRange(rootOffset) = rootLocation.source else { continue }
            let width = rootLocation.elementWidth
            let (start, o1) = view.offset.multipliedReportingOverflow(by: width)
            let (length, o2) = view.size.multipliedReportingOverflow(by: width)
            guard !o1, !o2, start <= rootLocation.byteCount, length <= rootLocation.byteCount - start else {
                throw CheckpointError.storageOutOfBounds(file: file, storage: view.key, needed: Int.max, available: rootLocation.byteCount)
            }
            table.locations[view.key] = StorageLocation(
                key: view.key, byteCount: length, source: .fileRange(offset: rootOffset + start), elementWidth: width)
        }
        return table
    }
}
