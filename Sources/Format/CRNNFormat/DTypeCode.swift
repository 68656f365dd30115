import TensorCore

/// The numeric dtype codes of the tensor directory (table "Dtype codes").
enum DTypeCode {
    /// The code written for `dtype` (never 0), or `nil` for a dtype this
    /// version of the format does not hold.
    static func code(for dtype: DType) -> UInt16? {
        switch dtype {
        case .float32: 1
        case .float16: 2
        case .bfloat16: 3
        case .float64: 4
        case .int64: 5
        case .int32: 6
        case .int16: 7
        case .int8: 8
        case .uint8: 9
        case .bool: 10
        case .complex64, .complex128, .uint16, .uint32, .uint64,
             .float8_e4m3fn, .float8_e5m2, .float8_e4m3fnuz, .float8_e5m2fnuz, .qint8, .quint8, .qint32: nil
        }
    }

    /// The dtype of `code`, or `nil` for a code this version does not define.
    static func dtype(for code: UInt16) -> DType? {
        DType.allCases.first { self.code(for: $0) == code }
    }
}
