/// The element types a checkpoint tensor can have, named as PyTorch names them
/// (`torch.float32` prints as `float32`).
public enum DType: String, CaseIterable, Sendable, Codable {
    case float32, float16, bfloat16, float64
    case int64, int32, int16, int8, uint8
    case bool

    /// Bytes per element.
    public var byteWidth: Int {
        switch self {
        case .float64, .int64: 8
        case .float32, .int32: 4
        case .float16, .bfloat16, .int16: 2
        case .int8, .uint8, .bool: 1
        }
    }

    /// True for the four floating-point types.
    public var isFloatingPoint: Bool {
        switch self {
        case .float32, .float16, .bfloat16, .float64: true
        default: false
        }
    }
}
