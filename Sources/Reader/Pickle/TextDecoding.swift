/// Text decoding for the string opcodes. Pure functions, no state.
enum TextDecoding {
    /// Strict UTF-8, or nil.
    static func utf8<C: Collection<UInt8>>(_ bytes: C) -> String? {
        String(validating: bytes, as: UTF8.self)
    }

    /// Latin-1: every byte is the code point of the same value. Never fails.
    static func latin1<C: Collection<UInt8>>(_ bytes: C) -> String {
        var scalars = String.UnicodeScalarView()
        scalars.append(contentsOf: bytes.map { Unicode.Scalar($0) })
        return String(scalars)
    }

    /// A Python 2 `str` (STRING, BINSTRING, SHORT_BINSTRING). `torch.load`
    /// reads these with `encoding='utf-8'` by default, so valid UTF-8 is
    /// decoded as UTF-8; anything else is decoded as Latin-1, which is what
    /// `torch.load(..., encoding='latin1')` gives, instead of failing.
    static func python2String<C: Collection<UInt8>>(_ bytes: C) -> String {
        utf8(bytes) ?? latin1(bytes)
    }

    /// Python's `codecs.escape_decode`, as the protocol-0 STRING opcode uses
    /// it: `\\ \' \" \a \b \f \n \r \t \v`, `\ooo`, `\xhh`, backslash-newline
    /// (dropped); any other backslash is kept. Nil for a bad `\x` escape or a
    /// trailing lone backslash.
    static func escapeDecode(_ bytes: [UInt8]) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            let c = bytes[i]
            i += 1
            guard c == UInt8(ascii: "\\") else { out.append(c); continue }
            guard i < bytes.count else { return nil }
            let e = bytes[i]
            i += 1
            switch e {
            case UInt8(ascii: "\n"): break
            case UInt8(ascii: "\\"), UInt8(ascii: "'"), UInt8(ascii: "\""): out.append(e)
            case UInt8(ascii: "a"): out.append(0x07)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "v"): out.append(0x0B)
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                var value = Int(e - UInt8(ascii: "0"))
                var taken = 1
                while taken < 3, i < bytes.count, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "7") {
                    value = value * 8 + Int(bytes[i] - UInt8(ascii: "0"))
                    i += 1
                    taken += 1
                }
                out.append(UInt8(truncatingIfNeeded: value))
            case UInt8(ascii: "x"):
                guard i + 1 < bytes.count, let high = hexValue(bytes[i]), let low = hexValue(bytes[i + 1]) else { return nil }
                out.append(UInt8(high * 16 + low))
                i += 2
            default:
                out.append(UInt8(ascii: "\\"))
                out.append(e)
            }
        }
        return out
    }

    /// Python's `raw-unicode-escape` decoding, as the protocol-0 UNICODE opcode
    /// uses it: bytes are Latin-1 code points, except that `\uXXXX` and
    /// `\UXXXXXXXX` after an odd run of backslashes are escapes. Nil for a bad
    /// escape or a code point Swift strings cannot hold (lone surrogates).
    static func rawUnicodeEscapeDecode(_ bytes: [UInt8]) -> String? {
        var scalars = String.UnicodeScalarView()
        var i = 0
        while i < bytes.count {
            let c = bytes[i]
            guard c == UInt8(ascii: "\\") else {
                scalars.append(Unicode.Scalar(c))
                i += 1
                continue
            }
            var run = 0
            while i < bytes.count, bytes[i] == UInt8(ascii: "\\") {
                run += 1
                i += 1
            }
            let escapes = run % 2 == 1 && i < bytes.count
                && (bytes[i] == UInt8(ascii: "u") || bytes[i] == UInt8(ascii: "U"))
            let literal = escapes ? run - 1 : run
            for _ in 0..<literal { scalars.append("\\") }
            guard escapes else { continue }
            let width = bytes[i] == UInt8(ascii: "u") ? 4 : 8
            i += 1
            guard width <= bytes.count - i else { return nil }
            var value: UInt32 = 0
            for k in 0..<width {
                guard let h = hexValue(bytes[i + k]) else { return nil }
                value = value * 16 + UInt32(h)
            }
            i += width
            guard let scalar = Unicode.Scalar(value) else { return nil }
            scalars.append(scalar)
        }
        return String(scalars)
    }

    private static func hexValue(_ c: UInt8) -> Int? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return Int(c - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return Int(c - UInt8(ascii: "a")) + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return Int(c - UInt8(ascii: "A")) + 10
        default: return nil
        }
    }
}
