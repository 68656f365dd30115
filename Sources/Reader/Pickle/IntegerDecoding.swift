/// Integer decoding for LONG1/LONG4 (two's-complement bytes) and the
/// protocol-0 INT/LONG opcodes (decimal text). Pure functions, no state.
enum IntegerDecoding {
    /// The value of little-endian two's-complement `bytes`: `.int` when it
    /// fits, otherwise `.bigInt` with redundant sign bytes removed.
    static func fromTwosComplement<C: Collection<UInt8>>(_ bytes: C) -> PickleValue {
        var trimmed = Array(bytes)
        guard let last = trimmed.last else { return .int(0) }
        let negative = last & 0x80 != 0
        let filler: UInt8 = negative ? 0xFF : 0x00
        // Drop a top byte while it only repeats the sign of the byte below it.
        while trimmed.count > 1, trimmed[trimmed.count - 1] == filler,
              (trimmed[trimmed.count - 2] & 0x80 != 0) == negative {
            trimmed.removeLast()
        }
        guard trimmed.count <= 8 else { return .bigInt(trimmed) }
        var bits: UInt64 = negative ? UInt64.max : 0
        for (index, byte) in trimmed.enumerated() {
            let shift = UInt64(index * 8)
            bits &= ~(UInt64(0xFF) << shift)
            bits |= UInt64(byte) << shift
        }
        return .int(Int(truncatingIfNeeded: Int64(bitPattern: bits)))
    }

    /// Parses Python `int()` decimal text: optional surrounding ASCII
    /// whitespace, an optional sign, then digits (single underscores allowed
    /// between digits). Returns nil for anything else or more than `maxDigits` digits.
    static func fromDecimal(_ text: [UInt8], maxDigits: Int) -> PickleValue? {
        var start = 0
        var end = text.count
        while start < end, isSpace(text[start]) { start += 1 }
        while end > start, isSpace(text[end - 1]) { end -= 1 }
        var negative = false
        if start < end, text[start] == UInt8(ascii: "-") || text[start] == UInt8(ascii: "+") {
            negative = text[start] == UInt8(ascii: "-")
            start += 1
        }
        var digits: [UInt8] = []
        var previousWasDigit = false
        for index in start..<end {
            let c = text[index]
            if c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") {
                digits.append(c - UInt8(ascii: "0"))
                previousWasDigit = true
                if digits.count > maxDigits { return nil }
            } else if c == UInt8(ascii: "_") && previousWasDigit && index + 1 < end {
                previousWasDigit = false
            } else {
                return nil
            }
        }
        guard !digits.isEmpty, previousWasDigit else { return nil }
        // Magnitude in 32-bit limbs, least significant first: limbs = limbs * 10 + d.
        var limbs: [UInt32] = [0]
        for digit in digits {
            var carry = UInt64(digit)
            for i in limbs.indices {
                let product = UInt64(limbs[i]) * 10 + carry
                limbs[i] = UInt32(truncatingIfNeeded: product)
                carry = product >> 32
            }
            if carry != 0 { limbs.append(UInt32(truncatingIfNeeded: carry)) }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(limbs.count * 4 + 1)
        for limb in limbs {
            for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: limb >> UInt32(shift))) }
        }
        bytes.append(0)  // room for the sign bit
        if negative {
            // Two's complement: invert, then add one.
            var carry = true
            for i in bytes.indices {
                let inverted = ~bytes[i]
                if carry {
                    let (sum, overflow) = inverted.addingReportingOverflow(1)
                    bytes[i] = sum
                    carry = overflow
                } else {
                    bytes[i] = inverted
                }
            }
        }
        return fromTwosComplement(bytes)
    }

    private static func isSpace(_ c: UInt8) -> Bool {
        c == 0x20 || (c >= 0x09 && c <= 0x0D)
    }
}
