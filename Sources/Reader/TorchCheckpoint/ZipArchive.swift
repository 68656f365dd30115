import CDeflate
import CZip
import TensorCore

/// One entry of a zip archive, as its central directory lists it.
struct ZipEntry: Sendable {
    /// The entry's index in the archive.
    let index: UInt64
    /// The full name, e.g. `crnn/data/0`.
    let name: String
    /// Uncompressed size in bytes.
    let size: Int
    /// Compressed size in bytes.
    let compressedSize: Int
    /// True when the entry is stored without compression.
    let isStored: Bool
    /// True when the entry is encrypted (libzip then refuses to read it).
    let isEncrypted: Bool
    /// The CRC-32 of the uncompressed bytes, as the central directory records it.
    let crc: UInt32
    /// Where the bytes of a stored, unencrypted entry lie in the archive's
    /// buffer (from the directory walk); `nil` for any other entry.
    var storedData: Range<Int>?
}

/// A read-only zip archive over bytes already in memory (usually a memory map),
/// read through libzip. Entries are listed once; reads are bounded by the sizes
/// the central directory declares, checked against the file's size.
final class ZipArchive: @unchecked Sendable {
    private let archive: OpaquePointer
    private let buffer: ByteBuffer
    let fileName: String
    /// Every entry in directory order.
    let entries: [ZipEntry]
    private let entriesByName: [String: ZipEntry]

    /// True when `buffer` begins with a zip local file header (`PK\u{3}\u{4}`).
    private static func startsLikeAZipArchive(_ buffer: ByteBuffer) -> Bool {
        buffer.withUnsafeBytes { $0.starts(with: [0x50, 0x4B, 0x03, 0x04]) }
    }

    /// Opens `buffer` as a zip archive.
    /// - Throws: `CheckpointError.corruptZip` when libzip rejects the archive or
    ///   an entry's declared sizes are impossible for the file.
    init(buffer: ByteBuffer, fileName: String) throws {
        self.buffer = buffer
        self.fileName = fileName
        var error = zip_error_t()
        zip_error_init(&error)
        defer { zip_error_fini(&error) }
        guard let source = zip_source_buffer_create(buffer.baseAddress, UInt64(buffer.count), 0, &error) else {
            throw CheckpointError.corruptZip(file: fileName, reason: String(cString: zip_error_strerror(&error)))
        }
        let walked = buffer.withUnsafeBytes(ZipDirectory.records)
        guard let opened = zip_open_from_source(source, ZIP_RDONLY | ZIP_CHECKCONS, &error) else {
            zip_source_free(source)
            // libzip refuses a repeated name without saying which: the walk does.
            if zip_error_code_zip(&error) == ZIP_ER_EXISTS, let walked, let name = ZipDirectory.firstDuplicate(in: walked) {
                throw CheckpointError.duplicateRecord(file: fileName, record: name)
            }
            // libzip says "Not a zip archive" when it finds no end of central directory: for a
            // file that starts as a zip archive, that end was cut off.
            if zip_error_code_zip(&error) == ZIP_ER_NOZIP, ZipArchive.startsLikeAZipArchive(buffer) {
                throw CheckpointError.corruptZip(
                    file: fileName,
                    reason: "truncated: the file starts as a zip archive but its end (the central directory) is missing; copy or save the checkpoint again")
            }
            throw CheckpointError.corruptZip(file: fileName, reason: String(cString: zip_error_strerror(&error)))
        }
        archive = opened
        do {
            var listed = try ZipArchive.listEntries(opened, fileName: fileName, fileSize: buffer.count)
            try ZipArchive.checkPlacement(of: listed, walked: walked, fileName: fileName)
            // checkPlacement proved the walk lists the same records in the same order.
            for (index, record) in zip(listed.indices, walked ?? []) {
                let entry = listed[index]
                if entry.isStored && !entry.isEncrypted && record.data.count == entry.size {
                    listed[index].storedData = record.data
                }
            }
            entries = listed
            var byName = [String: ZipEntry]()
            for entry in listed {
                guard byName.updateValue(entry, forKey: entry.name) == nil else {
                    throw CheckpointError.duplicateRecord(file: fileName, record: entry.name)
                }
            }
            // Last: once every property is set, a throw would also run deinit (a second zip_discard).
            entriesByName = byName
        } catch {
            zip_discard(opened)
            throw error
        }
    }

    deinit { zip_discard(archive) }

    /// The entry called `name`, if present.
    func entry(named name: String) -> ZipEntry? { entriesByName[name] }

    /// Reads the whole of `entry`, refusing entries larger than `limit` bytes,
    /// and checks its bytes against the CRC-32 the central directory records
    /// before returning them. A stored entry (torch.save stores its records
    /// uncompressed) is a view of the archive's own bytes, not a copy; others
    /// are inflated by libzip.
    /// - Parameter tensors: the tensors stored in the entry, named by a
    ///   checksum error.
    /// - Throws: `CheckpointError.corruptZip` on a read error or a short
    ///   read; `CheckpointError.tooLarge` over the limit;
    ///   `CheckpointError.checksumMismatch` when the CRC-32 differs.
    func read(_ entry: ZipEntry, limit: Int, tensors: [String] = []) throws -> ByteSlice {
        let bytes = try readUnchecked(entry, limit: limit, tensors: tensors)
        let computed = bytes.withUnsafeBytes { raw in raw.baseAddress.map { libdeflate_crc32(0, $0, raw.count) } ?? 0 }
        guard computed == entry.crc else {
            throw CheckpointError.checksumMismatch(
                file: fileName, record: entry.name, tensors: tensors, stored: entry.crc, computed: computed)
        }
        return bytes
    }

    private func readUnchecked(_ entry: ZipEntry, limit: Int, tensors: [String]) throws -> ByteSlice {
        guard entry.size <= limit else {
            throw CheckpointError.tooLarge(file: fileName, what: "record '\(entry.name)'", size: entry.size, limit: limit)
        }
        if entry.size == 0 { return ByteSlice(copying: []) }
        if let data = entry.storedData {
            do { return try buffer.slice.slice(offset: data.lowerBound, count: data.count) } catch {
                // Unreachable: the walk bounds every record by the file's size.
                throw CheckpointError.corruptZip(file: fileName, reason: "record '\(entry.name)' lies outside the file")
            }
        }
        guard let file = zip_fopen_index(archive, entry.index, 0) else {
            throw CheckpointError.corruptZip(file: fileName, reason: "cannot open record '\(entry.name)': \(archiveError())")
        }
        defer { zip_fclose(file) }
        let memory = UnsafeMutableRawPointer.allocate(byteCount: entry.size, alignment: 64)
        var filled = 0
        while filled < entry.size {
            let got = zip_fread(file, memory + filled, UInt64(entry.size - filled))
            guard got > 0 else {
                memory.deallocate()
                // libzip checks a compressed record's CRC-32 itself as it inflates.
                if got < 0, zip_error_code_zip(zip_file_get_error(file)) == ZIP_ER_CRC {
                    throw CheckpointError.checksumMismatch(
                        file: fileName, record: entry.name, tensors: tensors, stored: entry.crc, computed: nil)
                }
                let reason = got < 0 ? String(cString: zip_file_strerror(file)) : "record ends early"
                throw CheckpointError.corruptZip(file: fileName, reason: "cannot read record '\(entry.name)': \(reason)")
            }
            filled += Int(got)
        }
        let address = Int(bitPattern: memory)
        return ByteBuffer(adopting: UnsafeRawPointer(memory), count: entry.size) {
            UnsafeMutableRawPointer(bitPattern: address)?.deallocate()
        }.slice
    }

    private func archiveError() -> String {
        guard let error = zip_get_error(archive) else { return "unknown error" }
        return String(cString: zip_error_strerror(error))
    }

    /// Checks that the directory walk found the records libzip lists, and that
    /// no two records share bytes.
    private static func checkPlacement(of entries: [ZipEntry], walked: [ZipDirectory.Record]?, fileName: String) throws {
        guard let walked, walked.map(\.name) == entries.map(\.name) else {
            throw CheckpointError.corruptZip(
                file: fileName, reason: "the central directory reads two ways (libzip and a direct walk list different records)")
        }
        if let (first, second) = ZipDirectory.firstOverlap(in: walked) {
            throw CheckpointError.overlappingRecords(file: fileName, first: first.name, second: second.name)
        }
    }

    private static func listEntries(_ archive: OpaquePointer, fileName: String, fileSize: Int) throws -> [ZipEntry] {
        let count = zip_get_num_entries(archive, 0)
        guard count >= 0 else { throw CheckpointError.corruptZip(file: fileName, reason: "unreadable central directory") }
        var entries = [ZipEntry]()
        for index in 0..<UInt64(count) {
            var info = zip_stat_t()
            zip_stat_init(&info)
            guard zip_stat_index(archive, index, ZIP_FL_ENC_RAW, &info) == 0, let rawName = info.name else {
                throw CheckpointError.corruptZip(file: fileName, reason: "unreadable directory entry \(index)")
            }
            let name = String(cString: rawName)
            let needed = UInt64(ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_COMP_METHOD | ZIP_STAT_CRC)
            guard info.valid & needed == needed else {
                throw CheckpointError.corruptZip(file: fileName, reason: "record '\(name)' has no sizes or CRC-32")
            }
            guard info.comp_size <= UInt64(fileSize), info.size <= UInt64(Int.max) else {
                throw CheckpointError.corruptZip(
                    file: fileName, reason: "record '\(name)' claims \(info.comp_size) bytes in a \(fileSize)-byte file")
            }
            let stored = info.comp_method == UInt16(ZIP_CM_STORE)
            let encrypted = info.valid & UInt64(ZIP_STAT_ENCRYPTION_METHOD) == 0 || info.encryption_method != UInt16(ZIP_EM_NONE)
            if stored && info.size != info.comp_size {
                throw CheckpointError.corruptZip(file: fileName, reason: "stored record '\(name)' has inconsistent sizes")
            }
            entries.append(ZipEntry(
                index: index, name: name, size: Int(info.size), compressedSize: Int(info.comp_size), isStored: stored,
                isEncrypted: encrypted, crc: info.crc))
        }
        return entries
    }
}
