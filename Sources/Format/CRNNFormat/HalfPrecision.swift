/// IEEE 754 binary16 encoding without relying on a platform `Float16`.
enum HalfPrecision {
    /// The binary16 bit pattern nearest to `value`, ties to even, computed
    /// straight from the binary64 value (no double rounding through float32);
    /// overflow gives infinity, NaN gives a quiet NaN of the same sign.
    static func bits(from value: Double) -> UInt16 {
        let raw = value.bitPattern
        let sign = UInt16(truncatingIfNeeded: raw >> 48) & 0x8000
        let exponentField = Int((raw >> 52) & 0x7FF)
        let fraction = raw & 0x000F_FFFF_FFFF_FFFF
        if exponentField == 0x7FF { return sign | (fraction == 0 ? 0x7C00 : 0x7E00) }
        if exponentField == 0 { return sign }  // zero or a float64 subnormal, far below half's range
        let exponent = exponentField - 1023
        if exponent >= 16 { return sign | 0x7C00 }
        let significand = fraction | (1 << 52)  // 53 bits with the implicit one
        if exponent >= -14 {
            // Normal half: keep 10 fraction bits, round on the 42 dropped ones.
            let kept = UInt64(exponent + 15) << 10 | (fraction >> 42)
            let rounded = roundShifted(kept, dropped: fraction & ((1 << 42) - 1), shift: 42)
            return sign | UInt16(truncatingIfNeeded: min(rounded, 0x7C00))  // a carry past 0x7BFF is infinity
        }
        // Subnormal half: units of 2^-24, value = significand * 2^(exponent - 52).
        let shift = 28 - exponent  // >= 43
        if shift >= 55 { return sign }  // below half the smallest subnormal
        let kept = significand >> UInt64(shift)
        let rounded = roundShifted(kept, dropped: significand & ((1 << UInt64(shift)) - 1), shift: shift)
        return sign | UInt16(truncatingIfNeeded: rounded)  // 0x400 is the smallest normal, as it should be
    }

    /// `kept` rounded up when the `shift` dropped bits are over half, or
    /// exactly half and `kept` is odd.
    private static func roundShifted(_ kept: UInt64, dropped: UInt64, shift: Int) -> UInt64 {
        let half: UInt64 = 1 << UInt64(shift - 1)
        if dropped > half || (dropped == half && kept & 1 == 1) { return kept + 1 }
        return kept
    }
}
