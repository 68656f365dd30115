import TensorCore
#if canImport(Glibc)
import Glibc
#endif

extension CRNNFile {
    /// True when the file at `path` starts with the `CRNN-BIN` magic, or is
    /// 1 to 7 bytes of it (a cut-off file, which `open` reports as
    /// truncated); false for an empty file and any other content.
    /// - Throws: `CRNNFormatError.fileAccess` when the file cannot be read.
    public static func looksLikeCRNNFile(path: String) throws(CRNNFormatError) -> Bool {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw CRNNFormatError.fileAccess(file: path, reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var start = [UInt8](repeating: 0, count: FileHeader.magic.count)
        let got = start.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        // 1 to 7 bytes of the magic are a cut-off CRNN-BIN file (spec step 1): opening it says truncated.
        return got >= 1 && start.prefix(got) == FileHeader.magic.prefix(got)
    }
}

extension CRNNFileWriter {
    /// The value a float element becomes when stored as `floatType`
    /// (`.float32`, or `.float16` rounded to nearest-even straight from the
    /// source value), exactly as `write` stores it.
    public static func storedValue(_ value: Double, as floatType: DType) -> Double {
        switch floatType {
        case .float16: Double(float16Bits: HalfPrecision.bits(from: value))
        default: Double(Float(value))
        }
    }
}
