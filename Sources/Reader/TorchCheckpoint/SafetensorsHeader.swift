package import TensorCore

/// The element types the safetensors format defines, by their header names
/// (`F32`, `BF16`, ...), with their sizes in bits.
package enum SafetensorsDType: String, CaseIterable, Sendable {
    // Each case is the format's name for it; `bitWidth` gives its size.
    case bool = "BOOL", f4 = "F4", f6E2M3 = "F6_E2M3", f6E3M2 = "F6_E3M2", u8 = "U8", i8 = "I8"
    case f8E5M2 = "F8_E5M2", f8E4M3 = "F8_E4M3", f8E8M0 = "F8_E8M0", f8E4M3FNUZ = "F8_E4M3FNUZ", f8E5M2FNUZ = "F8_E5M2FNUZ"
    case i16 = "I16", u16 = "U16", f16 = "F16", bf16 = "BF16", i32 = "I32", u32 = "U32", f32 = "F32"
    case c64 = "C64", f64 = "F64", i64 = "I64", u64 = "U64"

    /// Bits per element (4 and 6 for the sub-byte float types).
    package var bitWidth: Int {
        switch self {
        case .f4: 4
        case .f6E2M3, .f6E3M2: 6
        case .bool, .u8, .i8, .f8E5M2, .f8E4M3, .f8E8M0, .f8E4M3FNUZ, .f8E5M2FNUZ: 8
        case .i16, .u16, .f16, .bf16: 16
        case .i32, .u32, .f32: 32
        case .c64, .f64, .i64, .u64: 64
        }
    }

    /// The PyTorch dtype this reader and the tensors use (as
    /// `safetensors.torch` maps them), or `nil` for a type PyTorch has no
    /// dtype for (F8_E8M0 and the 4- and 6-bit floats).
    package var dtype: DType? {
        switch self {
        case .bool: .bool
        case .u8: .uint8
        case .i8: .int8
        case .i16: .int16
        case .f16: .float16
        case .bf16: .bfloat16
        case .i32: .int32
        case .f32: .float32
        case .f64: .float64
        case .i64: .int64
        case .u16: .uint16
        case .u32: .uint32
        case .u64: .uint64
        case .c64: .complex64
        case .f8E4M3: .float8_e4m3fn
        case .f8E5M2: .float8_e5m2
        case .f8E4M3FNUZ: .float8_e4m3fnuz
        case .f8E5M2FNUZ: .float8_e5m2fnuz
        case .f4, .f6E2M3, .f6E3M2, .f8E8M0: nil
        }
    }

    /// The safetensors name of a PyTorch dtype, or `nil` for complex128 and
    /// the quantized types, which the format has no type for.
    package init?(_ dtype: DType) {
        switch dtype {
        case .bool: self = .bool
        case .uint8: self = .u8
        case .int8: self = .i8
        case .int16: self = .i16
        case .float16: self = .f16
        case .bfloat16: self = .bf16
        case .int32: self = .i32
        case .float32: self = .f32
        case .float64: self = .f64
        case .int64: self = .i64
        case .uint16: self = .u16
        case .uint32: self = .u32
        case .uint64: self = .u64
        case .complex64: self = .c64
        case .complex128, .qint8, .quint8, .qint32: return nil
        case .float8_e4m3fn: self = .f8E4M3
        case .float8_e5m2: self = .f8E5M2
        case .float8_e4m3fnuz: self = .f8E4M3FNUZ
        case .float8_e5m2fnuz: self = .f8E5M2FNUZ
        }
    }
}

/// A safetensors header, validated as the format requires before any tensor
/// byte is touched: the length field within the 100 MB limit and the file,
/// UTF-8 JSON starting with `{` (trailing whitespace allowed), no duplicate
/// keys, every dtype known, every byte size equal to the shape's, and the
/// data offsets, sorted, contiguous from 0 to exactly the end of the file.
package struct SafetensorsHeader: Sendable {
    /// The format's limit on the header length.
    package static let maxHeaderBytes = 100_000_000
    /// This reader's limit on a tensor's rank (PyTorch's own is 64).
    package static let maxRank = 1024

    /// One tensor as the header describes it.
    package struct Entry: Sendable, Equatable {
        /// The tensor's name (the header key).
        package let name: String
        /// The element type.
        package let dtype: SafetensorsDType
        /// The shape, row-major.
        package let shape: [Int]
        /// The bytes, relative to the start of the data buffer.
        package let dataRange: Range<Int>
    }

    /// The tensors in header order.
    package let entries: [Entry]
    /// `__metadata__` in header order (empty when absent).
    package let metadata: [(key: String, value: String)]
    /// Where the data buffer starts in the file (8 + the header length).
    package let dataStart: Int

    /// Validates the header of the safetensors file in `file`.
    /// - Throws: `SafetensorsProblem` for anything the format forbids.
    package init(file: UnsafeRawBufferPointer) throws(SafetensorsProblem) {
        guard file.count >= 8 else { throw .tooSmall(size: file.count) }
        var length: UInt64 = 0
        for index in (0..<8).reversed() { length = length << 8 | UInt64(file[index]) }
        guard length <= UInt64(Self.maxHeaderBytes) else { throw .headerTooLarge(declared: length, limit: Self.maxHeaderBytes) }
        let headerLength = Int(length)
        guard headerLength <= file.count - 8 else { throw .headerPastEnd(declared: headerLength, available: file.count - 8) }
        let header = UnsafeRawBufferPointer(rebasing: file[8..<(8 + headerLength)])
        if let bad = Self.firstInvalidUTF8(header) { throw .headerNotUTF8(offset: bad) }
        guard header.first == UInt8(ascii: "{") else { throw .headerStart(found: header.first) }
        dataStart = 8 + headerLength

        var scanner = SafetensorsJSONScanner(header)
        var entries = [Entry]()
        var metadata = [(key: String, value: String)]()
        try scanner.object { scanner, key throws(SafetensorsProblem) in
            if key == "__metadata__" {
                try scanner.object { scanner, name throws(SafetensorsProblem) in
                    guard scanner.peek() == UInt8(ascii: "\"") else { throw .badMetadata(reason: "value of '\(name)' is not a string") }
                    metadata.append((name, try scanner.string()))
                }
            } else {
                entries.append(try Self.entry(named: key, &scanner))
            }
        }
        guard scanner.atEnd() else { throw scanner.failure("bytes after the header object") }
        try Self.checkLayout(entries, bufferSize: file.count - dataStart)
        self.entries = entries
        self.metadata = metadata
    }

    /// Reads one tensor's `{"dtype", "shape", "data_offsets"}`.
    private static func entry(named name: String, _ scanner: inout SafetensorsJSONScanner) throws(SafetensorsProblem) -> Entry {
        guard scanner.peek() == UInt8(ascii: "{") else { throw .badEntry(tensor: name, reason: "the value is not an object") }
        var dtype: SafetensorsDType?
        var shape: [Int]?
        var offsets: [Int]?
        try scanner.object { scanner, field throws(SafetensorsProblem) in
            switch field {
            case "dtype":
                guard scanner.peek() == UInt8(ascii: "\"") else { throw .badEntry(tensor: name, reason: "dtype is not a string") }
                let text = try scanner.string()
                guard let known = SafetensorsDType(rawValue: text) else { throw .unknownDType(tensor: name, dtype: text) }
                dtype = known
            case "shape":
                guard let values = try scanner.integerArray(limit: maxRank) else {
                    throw .badEntry(tensor: name, reason: "shape is not an array of non-negative integers")
                }
                shape = values
            case "data_offsets":
                guard let values = try scanner.integerArray(limit: 2), values.count == 2 else {
                    throw .badEntry(tensor: name, reason: "data_offsets is not two non-negative integers")
                }
                offsets = values
            default:
                throw .badEntry(tensor: name, reason: "unknown field '\(field)'")
            }
        }
        guard let dtype else { throw .badEntry(tensor: name, reason: "no dtype") }
        guard let shape else { throw .badEntry(tensor: name, reason: "no shape") }
        guard let offsets else { throw .badEntry(tensor: name, reason: "no data_offsets") }
        let (begin, end) = (offsets[0], offsets[1])
        guard begin <= end else { throw .offsetsNotContiguous(tensor: name, begin: begin, end: end, expected: begin) }
        let range = begin..<end
        guard let elements = Tensor.elementCount(of: shape) else { throw .sizeOverflow(tensor: name) }
        let (bits, overflow) = elements.multipliedReportingOverflow(by: dtype.bitWidth)
        guard !overflow, bits % 8 == 0 else { throw .sizeOverflow(tensor: name) }
        guard bits / 8 == range.count else {
            throw .sizeMismatch(tensor: name, dtype: dtype.rawValue, shape: shape, needed: bits / 8, declared: range.count)
        }
        return Entry(name: name, dtype: dtype, shape: shape, dataRange: range)
    }

    /// Sorted by offsets, the tensors must follow each other from 0 and end
    /// exactly at the end of the buffer.
    private static func checkLayout(_ entries: [Entry], bufferSize: Int) throws(SafetensorsProblem) {
        let sorted = entries.sorted { ($0.dataRange.lowerBound, $0.dataRange.upperBound) < ($1.dataRange.lowerBound, $1.dataRange.upperBound) }
        var next = 0
        for entry in sorted {
            guard entry.dataRange.lowerBound == next else {
                throw .offsetsNotContiguous(tensor: entry.name, begin: entry.dataRange.lowerBound, end: entry.dataRange.upperBound, expected: next)
            }
            next = entry.dataRange.upperBound
        }
        guard next == bufferSize else { throw .bufferNotCovered(covered: next, bufferSize: bufferSize) }
    }

    /// The offset of the first byte that breaks UTF-8 (overlong forms,
    /// surrogates and values past U+10FFFF included), or `nil`.
    static func firstInvalidUTF8(_ bytes: UnsafeRawBufferPointer) -> Int? {
        var index = 0
        let count = bytes.count
        while index < count {
            let lead = bytes[index]
            if lead < 0x80 { index += 1; continue }
            let length: Int
            var low: UInt8 = 0x80, high: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; low = 0xA0
            case 0xE1...0xEC, 0xEE, 0xEF: length = 3
            case 0xED: length = 3; high = 0x9F
            case 0xF0: length = 4; low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; high = 0x8F
            default: return index
            }
            guard index + length <= count else { return index }
            for position in 1..<length {
                let byte = bytes[index + position]
                let (minimum, maximum) = position == 1 ? (low, high) : (0x80, 0xBF)
                guard byte >= minimum && byte <= maximum else { return index }
            }
            index += length
        }
        return nil
    }
}
