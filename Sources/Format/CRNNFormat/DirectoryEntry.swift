import TensorCore

/// One tensor directory entry: name, dtype, shape and where its data lies.
struct DirectoryEntry: Equatable {
    var name: String
    var dtype: DType
    var shape: [Int]
    var dataOffset: Int
    var byteLength: Int

    /// Appends the entry's bytes: name length, name, dtype code, rank, shape,
    /// offset, length.
    func encode(into out: inout ByteAppender) {
        let nameBytes = Array(name.utf8)
        out.append(UInt32(nameBytes.count))
        out.append(contentsOf: nameBytes)
        // The writer refused, before any byte was laid out, a dtype without a code.
        out.append(DTypeCode.code(for: dtype) ?? 0)
        out.append(UInt16(shape.count))
        for dimension in shape { out.append(UInt64(dimension)) }
        out.append(UInt64(dataOffset))
        out.append(UInt64(byteLength))
    }

    /// How many bytes `encode(into:)` appends.
    var encodedLength: Int { 4 + name.utf8.count + 2 + 2 + 8 * shape.count + 8 + 8 }

    /// Reads `count` entries from `directory`, checking every rule of the
    /// spec's step 9 for a file of `fileSize` bytes whose data may start at
    /// `dataStart`; floats must be `floatType`.
    /// - Throws: `CRNNFormatError` naming the first offending entry.
    static func decodeAll(
        _ directory: [UInt8], count: Int, dataStart: Int, fileSize: Int, floatType: DType, file: String
    ) throws(CRNNFormatError) -> [DirectoryEntry] {
        var cursor = ByteCursor(directory)
        var entries: [DirectoryEntry] = []
        var seen = Set<String>()
        var dataEnd = dataStart
        for index in 0..<count {
            let entry: DirectoryEntry
            do {
                entry = try decodeOne(&cursor, index: index, file: file)
            } catch let error as ByteCursor.OutOfBytes {
                throw .badDirectory(file: file, reason: "entry \(index) of \(count) needs \(error.needed) bytes at directory byte \(error.position), past its end")
            } catch let error as CRNNFormatError {
                throw error
            } catch {
                throw .badDirectory(file: file, reason: "entry \(index): \(error)")
            }
            guard seen.insert(entry.name).inserted else { throw .duplicateTensorName(file: file, name: entry.name) }
            if entry.dtype.isFloatingPoint && entry.dtype != floatType {
                throw .floatTypeMismatch(file: file, tensor: entry.name, found: entry.dtype, declared: floatType)
            }
            try entry.checkPlacement(after: dataEnd, fileSize: fileSize, file: file)
            dataEnd = entry.dataOffset + entry.byteLength  // cannot overflow: checked against fileSize
            entries.append(entry)
        }
        guard cursor.remaining == 0 else {
            throw .badDirectory(file: file, reason: "\(cursor.remaining) bytes left after \(count) entries")
        }
        return entries
    }

    /// One entry at the cursor; shape and byte length checked, placement not yet.
    private static func decodeOne(_ cursor: inout ByteCursor, index: Int, file: String) throws -> DirectoryEntry {
        let nameLength = Int(try cursor.u32())
        guard nameLength >= 1, nameLength <= FormatLimits.maxNameLength else {
            throw CRNNFormatError.badDirectory(file: file, reason: "entry \(index) has name length \(nameLength), allowed 1...\(FormatLimits.maxNameLength)")
        }
        guard let name = String(validating: try cursor.take(nameLength), as: UTF8.self) else {
            throw CRNNFormatError.badDirectory(file: file, reason: "entry \(index) has a name that is not valid UTF-8")
        }
        let code = try cursor.u16()
        guard let dtype = DTypeCode.dtype(for: code) else {
            throw CRNNFormatError.unsupportedDType(file: file, tensor: name, code: Int(code))
        }
        let rank = Int(try cursor.u16())
        guard rank <= FormatLimits.maxRank else {
            throw CRNNFormatError.badShape(file: file, tensor: name, shape: [], reason: "rank \(rank) exceeds \(FormatLimits.maxRank)")
        }
        var shape: [Int] = []
        for _ in 0..<rank {
            let raw = try cursor.u64()
            guard let dimension = Int(exactly: raw), dimension >= 0 else {
                throw CRNNFormatError.badShape(file: file, tensor: name, shape: shape, reason: "dimension \(raw) is too large")
            }
            shape.append(dimension)
        }
        let rawOffset = try cursor.u64()
        let rawLength = try cursor.u64()
        guard let offset = Int(exactly: rawOffset), let length = Int(exactly: rawLength),
              offset >= 0, length >= 0 else {
            throw CRNNFormatError.badOffset(file: file, tensor: name, offset: Int(truncatingIfNeeded: rawOffset),
                                            length: Int(truncatingIfNeeded: rawLength), reason: "offset or length is too large")
        }
        var expected = dtype.byteWidth
        for dimension in shape {
            let (product, overflow) = expected.multipliedReportingOverflow(by: dimension)
            guard !overflow else {
                throw CRNNFormatError.badShape(file: file, tensor: name, shape: shape, reason: "element count overflows")
            }
            expected = product
        }
        guard expected == length else {
            throw CRNNFormatError.badShape(file: file, tensor: name, shape: shape,
                                           reason: "needs \(expected) bytes of \(dtype.rawValue) but byte_length is \(length)")
        }
        return DirectoryEntry(name: name, dtype: dtype, shape: shape, dataOffset: offset, byteLength: length)
    }

    /// Checks alignment, order and that the data lies inside the file.
    private func checkPlacement(after previousEnd: Int, fileSize: Int, file: String) throws(CRNNFormatError) {
        guard dataOffset % FormatLimits.alignment == 0 else {
            throw .badOffset(file: file, tensor: name, offset: dataOffset, length: byteLength,
                             reason: "not a multiple of \(FormatLimits.alignment)")
        }
        guard dataOffset >= previousEnd else {
            throw .badOffset(file: file, tensor: name, offset: dataOffset, length: byteLength,
                             reason: "starts before byte \(previousEnd), the end of the directory or the previous tensor")
        }
        guard dataOffset <= fileSize, byteLength <= fileSize - dataOffset else {
            throw .badOffset(file: file, tensor: name, offset: dataOffset, length: byteLength,
                             reason: "reaches past the end of the \(fileSize)-byte file")
        }
    }
}
