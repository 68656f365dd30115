import Pickle
import TensorCore

/// The zip layout of `torch.save` (PyTorch >= 1.6): `<root>/data.pkl`, the
/// storages as `<root>/data/<key>`, `<root>/byteorder`, `<root>/version`.
struct ZipContainer {
    let archive: ZipArchive
    let root: String
    let pickle: ByteSlice
    let bigEndian: Bool
    let version: String?
    /// True for a TorchScript archive (`torch.jit.save`): it has `constants.pkl` or `code/`.
    let isTorchScript: Bool

    /// Finds the records and reads `data.pkl`; notes whether it is a TorchScript archive.
    init(buffer: ByteBuffer, file: String, recordLimit: Int) throws {
        archive = try ZipArchive(buffer: buffer, fileName: file)
        guard let first = archive.entries.first, let slash = first.name.firstIndex(of: "/") else {
            throw CheckpointError.missingRecord(file: file, record: "<root>/data.pkl")
        }
        let root = String(first.name[..<slash])
        if let stray = archive.entries.first(where: { !$0.name.hasPrefix(root + "/") }) {
            throw CheckpointError.corruptZip(file: file, reason: "record '\(stray.name)' lies outside the root folder '\(root)/'")
        }
        isTorchScript = archive.entry(named: root + "/constants.pkl") != nil
            || archive.entries.contains(where: { $0.name.hasPrefix(root + "/code/") })
        guard let pickleEntry = archive.entry(named: root + "/data.pkl") else {
            throw CheckpointError.missingRecord(file: file, record: root + "/data.pkl")
        }
        self.root = root
        pickle = try archive.read(pickleEntry, limit: recordLimit)
        if let entry = archive.entry(named: root + "/byteorder") {
            let text = try ZipContainer.text(archive.read(entry, limit: 16))
            guard text == "little" || text == "big" else {
                throw CheckpointError.corruptZip(file: file, reason: "byteorder record says '\(text.prefix(16))'; expected 'little' or 'big'")
            }
            bigEndian = text == "big"
        } else {
            bigEndian = false
        }
        if let entry = archive.entry(named: root + "/version") ?? archive.entry(named: root + "/.data/version") {
            version = try ZipContainer.text(archive.read(entry, limit: 64))
        } else {
            version = nil
        }
    }

    /// Locates the storage each reference names; every reference must fit its record.
    func storageTable(for references: [StorageReference], file: String) throws -> StorageTable {
        var table = StorageTable()
        for reference in references {
            guard let bytes = reference.byteCount else {
                throw CheckpointError.tooLarge(file: file, what: "storage '\(reference.key)'", size: Int.max, limit: Int.max)
            }
            let name = root + "/data/" + reference.key
            guard let entry = archive.entry(named: name) else { throw CheckpointError.missingRecord(file: file, record: name) }
            guard bytes <= entry.size else {
                throw CheckpointError.storageOutOfBounds(file: file, storage: reference.key, needed: bytes, available: entry.size)
            }
            if let known = table.locations[reference.key], known.byteCount >= bytes { continue }
            table.locations[reference.key] = StorageLocation(
                key: reference.key, byteCount: bytes, source: .zipRecord(entry), elementWidth: reference.dtype?.byteWidth ?? 1)
        }
        return table
    }

    private static func text(_ buffer: ByteSlice) -> String {
        let text = buffer.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
        return String(text.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
