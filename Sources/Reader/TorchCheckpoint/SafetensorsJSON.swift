import TensorCore

/// A strict reader of the JSON subset a safetensors header uses: objects,
/// arrays, strings and non-negative integers, read in the order the header
/// schema expects them (no general document tree is built, so a hostile
/// header costs no more memory than its tensors' names and shapes).
///
/// Strings follow RFC 8259: no raw control characters, every escape
/// checked, `\u` surrogates paired. Numbers must be plain non-negative
/// integers (`12`, never `012`, `-1`, `1.0` or `1e3`) that fit an `Int`.
/// The bytes must already be valid UTF-8 (`SafetensorsHeader` checks).
struct SafetensorsJSONScanner {
    private let bytes: UnsafeRawBufferPointer
    /// The next byte to read.
    private(set) var position = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// The byte at the current position, after skipping whitespace.
    mutating func peek() -> UInt8? {
        skipWhitespace()
        return position < bytes.count ? bytes[position] : nil
    }

    /// True when only whitespace is left.
    mutating func atEnd() -> Bool { peek() == nil }

    /// Skips whitespace, then requires `byte` (`expected` describes it).
    mutating func expect(_ byte: UInt8, _ expected: String) throws(SafetensorsProblem) {
        guard peek() == byte else { throw failure("expected \(expected), found \(found())") }
        position += 1
    }

    /// Skips whitespace and takes `byte` if it is next.
    mutating func take(_ byte: UInt8) -> Bool {
        guard peek() == byte else { return false }
        position += 1
        return true
    }

    /// Calls `member(key)` for every member of the object that starts here,
    /// `member` reading the value. Duplicate keys are refused.
    mutating func object(_ member: (inout SafetensorsJSONScanner, String) throws(SafetensorsProblem) -> Void) throws(SafetensorsProblem) {
        try expect(UInt8(ascii: "{"), "'{'")
        if take(UInt8(ascii: "}")) { return }
        var seen = Set<String>()
        repeat {
            guard peek() == UInt8(ascii: "\"") else { throw failure("expected a string key, found \(found())") }
            let key = try string()
            guard seen.insert(key).inserted else { throw .duplicateKey(key: key) }
            try expect(UInt8(ascii: ":"), "':'")
            try member(&self, key)
        } while take(UInt8(ascii: ","))
        try expect(UInt8(ascii: "}"), "',' or '}'")
    }

    /// The elements of an array of non-negative integers, at most `limit` of
    /// them (`nil` when the value is not such an array).
    mutating func integerArray(limit: Int) throws(SafetensorsProblem) -> [Int]? {
        guard take(UInt8(ascii: "[")) else { return nil }
        var values = [Int]()
        if take(UInt8(ascii: "]")) { return values }
        repeat {
            guard values.count < limit else { throw failure("an array longer than \(limit) elements") }
            guard let value = try integer() else { return nil }
            values.append(value)
        } while take(UInt8(ascii: ","))
        try expect(UInt8(ascii: "]"), "',' or ']'")
        return values
    }

    /// A non-negative integer, or `nil` when the value here is not one
    /// (the position is then unchanged).
    mutating func integer() throws(SafetensorsProblem) -> Int? {
        guard let first = peek(), first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") else { return nil }
        let start = position
        var value = 0
        while position < bytes.count, bytes[position] >= UInt8(ascii: "0"), bytes[position] <= UInt8(ascii: "9") {
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times.addingReportingOverflow(Int(bytes[position] - UInt8(ascii: "0")))
            guard !o1, !o2 else { throw failure("an integer too large for this reader", at: start) }
            value = sum
            position += 1
        }
        if first == UInt8(ascii: "0") && position - start > 1 { throw failure("a number with a leading zero", at: start) }
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") || bytes[position] | 0x20 == UInt8(ascii: "e") {
            position = start
            return nil
        }
        return value
    }

    /// The string that starts here, escapes decoded.
    mutating func string() throws(SafetensorsProblem) -> String {
        try expect(UInt8(ascii: "\""), "a string")
        var scalars = String.UnicodeScalarView()
        var runStart = position
        let all = bytes
        func flushRun(_ end: Int) {
            if end > runStart {
                scalars.append(contentsOf: String(decoding: UnsafeRawBufferPointer(rebasing: all[runStart..<end]), as: UTF8.self).unicodeScalars)
            }
        }
        while true {
            guard position < bytes.count else { throw failure("a string without its closing quote") }
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                flushRun(position)
                position += 1
                return String(scalars)
            case UInt8(ascii: "\\"):
                flushRun(position)
                position += 1
                scalars.append(try escape())
                runStart = position
            case 0..<0x20:
                throw failure("a raw control character (0x\(Hex.string([byte]))) in a string")
            default:
                position += 1
            }
        }
    }

    /// The character of the escape after a backslash.
    private mutating func escape() throws(SafetensorsProblem) -> Unicode.Scalar {
        guard position < bytes.count else { throw failure("a string ending in a backslash") }
        let letter = bytes[position]
        position += 1
        switch letter {
        case UInt8(ascii: "\""): return "\""
        case UInt8(ascii: "\\"): return "\\"
        case UInt8(ascii: "/"): return "/"
        case UInt8(ascii: "b"): return "\u{8}"
        case UInt8(ascii: "f"): return "\u{C}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"):
            let start = position - 2
            let high = try hexQuad()
            if (0xDC00...0xDFFF).contains(high) { throw failure("a lone low surrogate escape", at: start) }
            guard (0xD800...0xDBFF).contains(high) else {
                guard let scalar = Unicode.Scalar(high) else { throw failure("an invalid \\u escape", at: start) }
                return scalar
            }
            guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u") else {
                throw failure("a high surrogate escape without its low half", at: start)
            }
            position += 2
            let low = try hexQuad()
            guard (0xDC00...0xDFFF).contains(low),
                  let scalar = Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)) else {
                throw failure("a high surrogate escape without its low half", at: start)
            }
            return scalar
        default:
            throw failure("an unknown escape '\\\(Unicode.Scalar(letter))'", at: position - 2)
        }
    }

    private mutating func hexQuad() throws(SafetensorsProblem) -> UInt32 {
        guard position + 4 <= bytes.count else { throw failure("a \\u escape cut short") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw failure("a \\u escape with a non-hex digit")
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }

    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    /// What is at the current position, for messages.
    private func found() -> String {
        guard position < bytes.count else { return "the end of the header" }
        let byte = bytes[position]
        return byte >= 0x20 && byte < 0x7F ? "'\(Unicode.Scalar(byte))'" : "byte 0x\(Hex.string([byte]))"
    }

    /// A JSON problem at `offset` (default: the current position).
    func failure(_ reason: String, at offset: Int? = nil) -> SafetensorsProblem {
        .json(offset: offset ?? position, reason: reason)
    }
}
