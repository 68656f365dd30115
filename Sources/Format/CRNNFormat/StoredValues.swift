import TensorCore
#if canImport(Glibc)
import Glibc
#endif

extension CRNNFile {
    /// True when the file at `path` starts with the `CRNN-BIN` magic; false for
    /// any other content, including a file shorter than the magic.
    /// - Throws: `CRNNFormatError.fileAccess` when the file cannot be read.
    public static func looksLikeCRNNFile(path: String) throws(CRNNFormatError) -> Bool {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw CRNNFormatError.fileAccess(file: path, reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var start = [UInt8](repeating: 0, count: FileHeader.magic.count)
        let got = start.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        return got == FileHeader.magic.count && start == FileHeader.magic
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
