package import TensorCore

extension CRNNFile {
    /// True when the file at `path` starts with the `CRNN-BIN` magic, or is
    /// 1 to 7 bytes of it (a cut-off file, which `open` reports as
    /// truncated); false for an empty file and any other content. Only the
    /// magic is read, as `ByteBuffer.reading(path:limit:)` reads (a FIFO,
    /// socket or device is refused, never waited on).
    /// - Throws: `CRNNFormatError.fileAccess` when the file cannot be read or
    ///   is not a regular file.
    package static func looksLikeCRNNFile(path: String) throws(CRNNFormatError) -> Bool {
        let start: [UInt8]
        do { start = try ByteBuffer.reading(path: path, limit: FileHeader.magic.count).slice.bytes } catch {
            throw .fileAccess(file: path, reason: (error as? TensorCoreError)?.fileReason ?? "\(error)")
        }
        // 1 to 7 bytes of the magic are a cut-off CRNN-BIN file (spec step 1): opening it says truncated.
        return !start.isEmpty && start == Array(FileHeader.magic.prefix(start.count))
    }
}

extension CRNNFileWriter {
    /// The value a float element becomes when stored as `floatType`
    /// (`.float32`, or `.float16` rounded to nearest-even straight from the
    /// source value), exactly as `write` stores it.
    package static func storedValue(_ value: Double, as floatType: DType) -> Double {
        switch floatType {
        case .float16: Double(float16Bits: HalfPrecision.bits(from: value))
        default: Double(Float(value))
        }
    }
}
