/// The element types a checkpoint tensor can have, named as PyTorch names them
/// (`torch.float32` prints as `float32`).
public enum DType: String, CaseIterable, Sendable, Codable {
    case float32, float16, bfloat16, float64
    case int64, int32, int16, int8, uint8
    case bool
    /// Complex numbers: two float32 (complex64) or float64 (complex128)
    /// parts, real first.
    case complex64, complex128
    /// Unsigned integers wider than a byte (PyTorch 2.3 and later).
    case uint16, uint32, uint64
    /// 8-bit floats: 4 exponent and 3 mantissa bits or 5 and 2; `fn`
    /// finite (no infinities), `fnuz` also without negative zero (one NaN,
    /// 0x80).
    case float8_e4m3fn, float8_e5m2, float8_e4m3fnuz, float8_e5m2fnuz
    /// The stored integers of a quantized tensor (`torch.quantize_per_tensor`,
    /// `quantize_per_channel`); the value is `(q - zero_point) * scale`.
    case qint8, quint8, qint32

    /// Bytes per element (both parts of a complex number).
    public var byteWidth: Int {
        switch self {
        case .float64, .int64, .uint64, .complex64: 8
        case .complex128: 16
        case .float32, .int32, .uint32, .qint32: 4
        case .float16, .bfloat16, .int16, .uint16: 2
        case .int8, .uint8, .bool, .float8_e4m3fn, .float8_e5m2, .float8_e4m3fnuz, .float8_e5m2fnuz, .qint8, .quint8: 1
        }
    }

    /// True for the four floating-point types a model's weights are kept in
    /// (float32, float16, bfloat16, float64); not for float8 or complex.
    public var isFloatingPoint: Bool {
        switch self {
        case .float32, .float16, .bfloat16, .float64: true
        default: false
        }
    }

    /// True for the stored integers of a quantized tensor.
    public var isQuantized: Bool { self == .qint8 || self == .quint8 || self == .qint32 }

    /// True for complex64 and complex128, whose elements are two numbers.
    public var isComplex: Bool { self == .complex64 || self == .complex128 }

}
