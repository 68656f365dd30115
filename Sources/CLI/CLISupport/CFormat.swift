import SystemShim

extension String {
    /// `format` filled in by the C library's `vsnprintf`: for `%d`, `%.2f`,
    /// `%.2e`, `%.3g`, `%02x` and the like, the same text as Foundation's
    /// `String(format:)`, without linking full Foundation (about 6 MB of
    /// memory in every process). Numbers are written with the C locale's
    /// decimal point (no program here calls `setlocale`). Objects (`%@`) are
    /// not supported.
    public init(cFormat format: String, _ arguments: any CVarArg...) {
        // A va_list is read once: one for measuring, a fresh one for writing.
        let length = withVaList(arguments) { vsnprintf(nil, 0, format, $0) }
        guard length > 0 else {
            self = ""
            return
        }
        var bytes = [UInt8](repeating: 0, count: Int(length) + 1)
        bytes.withUnsafeMutableBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { text in
                _ = withVaList(arguments) { vsnprintf(text.baseAddress, text.count, format, $0) }
            }
        }
        self = String(decoding: bytes.dropLast(), as: UTF8.self)
    }
}
