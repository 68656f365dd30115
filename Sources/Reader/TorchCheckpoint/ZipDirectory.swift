/// A second, independent reading of a zip archive's central directory: where
/// each record's local header and data lie in the file, which libzip does not
/// tell. Used to refuse archives whose records share bytes (overlapping
/// records make a small file expand many times over) and archives that this
/// walk and libzip read differently. Every read is bounds-checked; any
/// inconsistency gives `nil`.
enum ZipDirectory {
    /// One record: its name and the bytes it occupies, local header to the end
    /// of its data.
    struct Record: Equatable {
        let name: String
        let range: Range<Int>
        /// Where its (possibly compressed) data lies: after the local header,
        /// to the end of `range`.
        let data: Range<Int>
    }

    /// The records in central-directory order, or `nil` when the directory
    /// cannot be walked. Candidates for the end-of-central-directory record
    /// are tried from the end of the file backwards (16 at most); the first
    /// that walks wins.
    static func records(in bytes: UnsafeRawBufferPointer) -> [Record]? {
        var at = bytes.count - 22
        let lowest = max(0, bytes.count - 22 - 0xFFFF)
        var tries = 0
        while at >= lowest, tries < 16 {
            if read32(bytes, at) == 0x0605_4B50 {
                if let found = walk(bytes, endRecord: at) { return found }
                tries += 1
            }
            at -= 1
        }
        return nil
    }

    /// The first name that two records share, if any.
    static func firstDuplicate(in records: [Record]) -> String? {
        var seen = Set<String>()
        return records.first { !seen.insert($0.name).inserted }?.name
    }

    /// The first two records (in file order) whose byte ranges intersect.
    static func firstOverlap(in records: [Record]) -> (Record, Record)? {
        let ordered = records.sorted { $0.range.lowerBound < $1.range.lowerBound }
        for (earlier, later) in zip(ordered, ordered.dropFirst()) where later.range.lowerBound < earlier.range.upperBound {
            return (earlier, later)
        }
        return nil
    }

    private static func walk(_ bytes: UnsafeRawBufferPointer, endRecord: Int) -> [Record]? {
        guard var count = read16(bytes, endRecord + 10).map(UInt64.init),
              var offset = read32(bytes, endRecord + 16).map(UInt64.init) else { return nil }
        // A zip64 locator right before the end record points at the zip64 end record.
        if endRecord >= 20, read32(bytes, endRecord - 20) == 0x0706_4B50 {
            guard let zip64At = read64(bytes, endRecord - 12).flatMap(index),
                  read32(bytes, zip64At) == 0x0606_4B50,
                  let count64 = read64(bytes, zip64At + 32), let offset64 = read64(bytes, zip64At + 48) else { return nil }
            count = count64
            offset = offset64
        }
        guard count <= UInt64(bytes.count / 46), var cursor = index(offset) else { return nil }
        var records = [Record]()
        for _ in 0..<count {
            guard read32(bytes, cursor) == 0x0201_4B50,
                  let compressed32 = read32(bytes, cursor + 20), let uncompressed32 = read32(bytes, cursor + 24),
                  let nameLength = read16(bytes, cursor + 28), let extraLength = read16(bytes, cursor + 30),
                  let commentLength = read16(bytes, cursor + 32), let local32 = read32(bytes, cursor + 42),
                  let name = slice(bytes, cursor + 46, Int(nameLength)),
                  let extra = slice(bytes, cursor + 46 + Int(nameLength), Int(extraLength)) else { return nil }
            var compressed = UInt64(compressed32)
            var local = UInt64(local32)
            if compressed32 == 0xFFFF_FFFF || local32 == 0xFFFF_FFFF {
                guard let wide = zip64Fields(extra, uncompressed: uncompressed32 == 0xFFFF_FFFF,
                                             compressed: compressed32 == 0xFFFF_FFFF, offset: local32 == 0xFFFF_FFFF)
                else { return nil }
                compressed = wide.compressed ?? compressed
                local = wide.offset ?? local
            }
            guard let header = index(local), read32(bytes, header) == 0x0403_4B50,
                  let localName = read16(bytes, header + 26), let localExtra = read16(bytes, header + 28),
                  let size = index(compressed) else { return nil }
            let dataStart = header + 30 + Int(localName) + Int(localExtra)
            let (end, overflow) = dataStart.addingReportingOverflow(size)
            guard !overflow, end <= bytes.count else { return nil }
            records.append(Record(name: String(decoding: name, as: UTF8.self), range: header..<end, data: dataStart..<end))
            cursor += 46 + Int(nameLength) + Int(extraLength) + Int(commentLength)
        }
        return records
    }

    /// The zip64 extended-information extra field (id 1): its 8-byte values
    /// appear only for the fields whose 32-bit slot holds 0xFFFFFFFF, in this order.
    private static func zip64Fields(_ extra: UnsafeRawBufferPointer, uncompressed: Bool, compressed: Bool, offset: Bool)
        -> (compressed: UInt64?, offset: UInt64?)? {
        var at = 0
        while at + 4 <= extra.count {
            guard let id = read16(extra, at), let length = read16(extra, at + 2),
                  let body = slice(extra, at + 4, Int(length)) else { return nil }
            if id == 1 {
                // The present values in order: uncompressed size, compressed size, offset.
                let present = [uncompressed, compressed, offset]
                var values = [UInt64?](repeating: nil, count: 3)
                var field = 0
                for (slot, isPresent) in present.enumerated() where isPresent {
                    guard let value = read64(body, field) else { return nil }
                    values[slot] = value
                    field += 8
                }
                return (values[1], values[2])
            }
            at += 4 + Int(length)
        }
        return nil
    }

    private static func index(_ value: UInt64) -> Int? { value <= UInt64(Int.max) ? Int(value) : nil }

    private static func slice(_ bytes: UnsafeRawBufferPointer, _ at: Int, _ count: Int) -> UnsafeRawBufferPointer? {
        guard at >= 0, count >= 0, at <= bytes.count, count <= bytes.count - at else { return nil }
        return UnsafeRawBufferPointer(rebasing: bytes[at..<(at + count)])
    }

    private static func read16(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> UInt16? {
        slice(bytes, at, 2).map { UInt16(littleEndian: $0.loadUnaligned(as: UInt16.self)) }
    }

    private static func read32(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> UInt32? {
        slice(bytes, at, 4).map { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) }
    }

    private static func read64(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> UInt64? {
        slice(bytes, at, 8).map { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
    }
}
