/// Bytes as hexadecimal text, for messages and digests.
public enum Hex {
    /// Each byte as two digits (lowercase unless `uppercase`), in order, joined
    /// by `separator`: `[0x50, 0x4B]` gives `"504b"`, or `"50 4b"` with a space.
    public static func string<Bytes: Sequence<UInt8>>(_ bytes: Bytes, separator: String = "", uppercase: Bool = false) -> String {
        let digits: [Character] = Array(uppercase ? "0123456789ABCDEF" : "0123456789abcdef")
        return bytes.map { byte in String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]]) }.joined(separator: separator)
    }

    /// A 32-bit value (a CRC-32) as `0x` and eight lowercase digits, most
    /// significant first: `0x0000beef`.
    public static func word(_ value: UInt32) -> String {
        "0x" + string(withUnsafeBytes(of: value.bigEndian) { Array($0) })
    }
}
