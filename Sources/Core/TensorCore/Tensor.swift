/// A strided view of little-endian elements in a byte storage, as PyTorch
/// describes a tensor: dtype, shape, strides and offset counted in elements.
///
/// The initializer proves that every element the view can address lies inside
/// its storage, so reading a `Tensor` never goes out of bounds.
public struct Tensor: Sendable {
    /// The element type.
    public let dtype: DType
    /// The size of each dimension; empty for a scalar.
    public let shape: [Int]
    /// Elements to step in storage per index of each dimension.
    public let strides: [Int]
    /// The first element's index in the storage.
    public let storageOffset: Int
    /// The storage's bytes (little-endian), shared with other views.
    public let storage: ByteSlice
    /// The number of elements, the product of `shape` (1 for a scalar).
    public let elementCount: Int

    /// A view of `storage` as `dtype` elements.
    /// - Throws: `TensorCoreError` when sizes are negative, overflow, or reach
    ///   past the storage.
    package init(dtype: DType, shape: [Int], strides: [Int], storageOffset: Int, storage: ByteSlice) throws {
        let count = try Tensor.validateView(shape: shape, strides: strides, storageOffset: storageOffset,
                                            storageElements: storage.count / dtype.byteWidth)
        self.dtype = dtype
        self.shape = shape
        self.strides = strides
        self.storageOffset = storageOffset
        self.storage = storage
        self.elementCount = count
    }

    /// The number of elements of `shape`, the product of its sizes, or `nil`
    /// when that product does not fit an `Int` (shapes read from a file).
    package static func elementCount(of shape: [Int]) -> Int? {
        var count = 1
        for size in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow else { return nil }
            count = product
        }
        return count
    }

    /// Checks that a view of `shape`, `strides` and `storageOffset` addresses
    /// only elements `0..<storageElements`, without touching any bytes.
    /// - Returns: the view's element count.
    /// - Throws: `TensorCoreError` when sizes are negative, overflow `Int`, or
    ///   reach past the storage.
    @discardableResult
    package static func validateView(shape: [Int], strides: [Int], storageOffset: Int, storageElements: Int) throws -> Int {
        guard shape.count == strides.count else { throw TensorCoreError.rankMismatch(shape: shape, strides: strides) }
        guard storageOffset >= 0, shape.allSatisfy({ $0 >= 0 }), strides.allSatisfy({ $0 >= 0 }) else {
            throw TensorCoreError.negativeDimension(shape: shape, strides: strides)
        }
        var count = 1
        var lastIndex = storageOffset
        for (size, stride) in zip(shape, strides) {
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow else { throw TensorCoreError.sizeOverflow(shape: shape, strides: strides) }
            count = product
            if size > 0 {
                let (reach, o1) = (size - 1).multipliedReportingOverflow(by: stride)
                let (sum, o2) = lastIndex.addingReportingOverflow(reach)
                guard !o1, !o2 else { throw TensorCoreError.sizeOverflow(shape: shape, strides: strides) }
                lastIndex = sum
            }
        }
        if count > 0 && lastIndex >= storageElements {
            throw TensorCoreError.outOfBounds(needed: lastIndex &+ 1, available: storageElements)
        }
        return count
    }

    /// A contiguous row-major tensor over `bytes` (copied).
    /// - Throws: `TensorCoreError` when `bytes` does not hold the shape.
    package init(dtype: DType, shape: [Int], bytes: some Collection<UInt8>) throws {
        try self.init(dtype: dtype, shape: shape, strides: Tensor.contiguousStrides(for: shape),
                      storageOffset: 0, storage: ByteSlice(copying: bytes))
    }

    /// A contiguous float32 tensor holding `values` in row-major order.
    /// - Throws: `TensorCoreError` when the count does not match the shape.
    package init(float32 values: [Float], shape: [Int]) throws {
        let bytes = values.withUnsafeBytes { Array($0) }
        try self.init(dtype: .float32, shape: shape, bytes: bytes)
        guard elementCount == values.count else {
            throw TensorCoreError.outOfBounds(needed: elementCount, available: values.count)
        }
    }

    /// Row-major strides for `shape`.
    public static func contiguousStrides(for shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var step = 1
        for axis in shape.indices.reversed() {
            strides[axis] = step
            step = step &* max(shape[axis], 1)
        }
        return strides
    }

    /// True when the elements sit in row-major order without gaps.
    public var isContiguous: Bool {
        var expected = 1
        for axis in shape.indices.reversed() where shape[axis] != 1 {
            if strides[axis] != expected { return false }
            expected *= shape[axis]
        }
        return true
    }

    /// Bytes the elements take when packed: `elementCount * dtype.byteWidth`.
    public var byteCount: Int { elementCount * dtype.byteWidth }

    /// Calls `body` with the storage index of every element, in row-major order.
    @inlinable
    public func forEachStorageIndex(_ body: (Int) throws -> Void) rethrows {
        guard elementCount > 0 else { return }
        let rank = shape.count
        if rank == 0 { try body(storageOffset); return }
        if isContiguous {
            for index in storageOffset..<(storageOffset + elementCount) { try body(index) }
            return
        }
        var position = [Int](repeating: 0, count: rank)
        var index = storageOffset
        let last = rank - 1
        while true {
            for i in 0..<shape[last] { try body(index + i * strides[last]) }
            var axis = last - 1
            while axis >= 0 {
                position[axis] += 1
                index += strides[axis]
                if position[axis] < shape[axis] { break }
                index -= position[axis] * strides[axis]
                position[axis] = 0
                axis -= 1
            }
            if axis < 0 { return }
        }
    }

    /// The elements' bytes packed in row-major order, in this tensor's dtype.
    public func contiguousBytes() -> [UInt8] {
        let width = dtype.byteWidth
        if isContiguous {
            return storage.withUnsafeBytes {
                Array($0[(storageOffset * width)..<((storageOffset + elementCount) * width)])
            }
        }
        var out = [UInt8](repeating: 0, count: byteCount)
        storage.withUnsafeBytes { source in
            out.withUnsafeMutableBytes { destination in
                var position = 0
                forEachStorageIndex { index in
                    let from = index * width
                    for b in 0..<width { destination[position + b] = source[from + b] }
                    position += width
                }
            }
        }
        return out
    }

    /// Calls `body` with the elements' bytes packed in row-major order, in this
    /// tensor's dtype: the storage's own bytes when the tensor is contiguous
    /// (no copy), else a packed copy (`contiguousBytes()`).
    public func withContiguousBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        guard isContiguous else { return try contiguousBytes().withUnsafeBytes(body) }
        let width = dtype.byteWidth
        return try storage.withUnsafeBytes {
            try body(UnsafeRawBufferPointer(rebasing: $0[(storageOffset * width)..<((storageOffset + elementCount) * width)]))
        }
    }

    /// The same elements packed contiguously, in their own new storage.
    public func contiguous() -> Tensor {
        if isContiguous && storageOffset == 0 && storage.count == byteCount { return self }
        // The copy holds exactly the shape's elements, so the view is valid.
        return (try? Tensor(dtype: dtype, shape: shape, bytes: contiguousBytes())) ?? self
    }

    /// Every element converted to `Double`, in row-major order: exact for
    /// every dtype except int64 values beyond 2^53.
    public func doubleValues() -> [Double] {
        var out = [Double]()
        out.reserveCapacity(elementCount)
        forEachElement { out.append($0) }
        return out
    }

    /// Every element converted to `Float`, in row-major order (rounded to
    /// nearest for float64 and large integers).
    public func floatValues() -> [Float] {
        if dtype == .float32 && isContiguous {
            // Stored little-endian like the host's Float: one block copy.
            return withContiguousBytes { raw in
                [Float](unsafeUninitializedCapacity: elementCount) { values, initialized in
                    UnsafeMutableRawBufferPointer(values).copyMemory(from: raw)
                    initialized = elementCount
                }
            }
        }
        var out = [Float]()
        out.reserveCapacity(elementCount)
        forEachElement { out.append(Float($0)) }
        return out
    }

    /// Calls `body` with every element as a `Double`, in row-major order; a
    /// complex element gives two numbers, its real then its imaginary part.
    /// uint64 values above 2^53 are rounded to the nearest `Double`.
    public func forEachElement(_ body: (Double) throws -> Void) rethrows {
        try storage.withUnsafeBytes { raw in
            let width = dtype.byteWidth
            switch dtype {
            case .complex64, .complex128:
                let part: DType = dtype == .complex64 ? .float32 : .float64
                try forEachStorageIndex { index in
                    try body(ElementDecoding.double(raw, byteOffset: index * width, dtype: part))
                    try body(ElementDecoding.double(raw, byteOffset: index * width + width / 2, dtype: part))
                }
            default:
                try forEachStorageIndex { index in
                    try body(ElementDecoding.double(raw, byteOffset: index * width, dtype: dtype))
                }
            }
        }
    }
}

/// Decodes one little-endian element of any dtype.
public enum ElementDecoding {
    /// The element of `dtype` at `byteOffset` of `raw`, as a `Double`; for a
    /// complex dtype, its real part (`Tensor.forEachElement` gives both).
    @inlinable
    public static func double(_ raw: UnsafeRawBufferPointer, byteOffset: Int, dtype: DType) -> Double {
        switch dtype {
        case .float32: Double(Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: byteOffset, as: UInt32.self))))
        case .float64: Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: byteOffset, as: UInt64.self)))
        case .float16: Double(float16Bits: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: byteOffset, as: UInt16.self)))
        case .bfloat16:
            Double(Float(bitPattern: UInt32(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: byteOffset, as: UInt16.self))) << 16))
        case .int64: Double(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: byteOffset, as: Int64.self)))
        case .int32: Double(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: byteOffset, as: Int32.self)))
        case .int16: Double(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: byteOffset, as: Int16.self)))
        case .int8: Double(raw.load(fromByteOffset: byteOffset, as: Int8.self))
        case .uint8: Double(raw[byteOffset])
        case .bool: raw[byteOffset] != 0 ? 1 : 0
        case .uint16: Double(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: byteOffset, as: UInt16.self)))
        case .uint32: Double(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: byteOffset, as: UInt32.self)))
        case .uint64: Double(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: byteOffset, as: UInt64.self)))
        case .complex64: double(raw, byteOffset: byteOffset, dtype: .float32)
        case .complex128: double(raw, byteOffset: byteOffset, dtype: .float64)
        case .float8_e4m3fn: Float8.value(raw[byteOffset], .e4m3fn)
        case .float8_e5m2: Float8.value(raw[byteOffset], .e5m2)
        case .float8_e4m3fnuz: Float8.value(raw[byteOffset], .e4m3fnuz)
        case .float8_e5m2fnuz: Float8.value(raw[byteOffset], .e5m2fnuz)
        case .qint8: Double(raw.load(fromByteOffset: byteOffset, as: Int8.self))
        case .quint8: Double(raw[byteOffset])
        case .qint32: Double(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: byteOffset, as: Int32.self)))
        }
    }
}

/// The four 8-bit float formats PyTorch saves (c10's Float8_e4m3fn,
/// Float8_e5m2, Float8_e4m3fnuz, Float8_e5m2fnuz; OCP 8-bit floats and
/// their "fnuz" variants): a sign bit, then exponent and mantissa bits.
public enum Float8 {
    /// One format's layout and special values.
    public enum Format: Sendable {
        /// 4 exponent bits (bias 7), 3 mantissa; no infinities; NaN is
        /// S.1111.111 (0x7F, 0xFF).
        case e4m3fn
        /// 5 exponent bits (bias 15), 2 mantissa, as IEEE 754: an all-ones
        /// exponent is infinity (mantissa 0) or NaN.
        case e5m2
        /// 4 exponent bits (bias 8), 3 mantissa; no infinities and no
        /// negative zero: 0x80 is the one NaN.
        case e4m3fnuz
        /// 5 exponent bits (bias 16), 2 mantissa; no infinities and no
        /// negative zero: 0x80 is the one NaN.
        case e5m2fnuz
    }

    /// The value of the bit pattern `bits` in `format`, exactly (every
    /// 8-bit float is a `Double`).
    @inlinable
    public static func value(_ bits: UInt8, _ format: Format) -> Double {
        let (exponentBits, bias): (Int, Int) = switch format {
        case .e4m3fn: (4, 7)
        case .e5m2: (5, 15)
        case .e4m3fnuz: (4, 8)
        case .e5m2fnuz: (5, 16)
        }
        let mantissaBits = 7 - exponentBits
        let negative = bits & 0x80 != 0
        let exponent = Int(bits >> mantissaBits) & ((1 << exponentBits) - 1)
        let mantissa = Int(bits) & ((1 << mantissaBits) - 1)
        switch format {
        case .e4m3fnuz, .e5m2fnuz:
            if bits == 0x80 { return .nan }
        case .e4m3fn:
            if bits & 0x7F == 0x7F { return .nan }
        case .e5m2:
            if exponent == 31 { return mantissa == 0 ? (negative ? -.infinity : .infinity) : .nan }
        }
        let magnitude = exponent == 0
            ? Double(mantissa) * Double(sign: .plus, exponent: 1 - bias - mantissaBits, significand: 1)
            : Double(mantissa + (1 << mantissaBits)) * Double(sign: .plus, exponent: exponent - bias - mantissaBits, significand: 1)
        return negative ? -magnitude : magnitude
    }
}

extension Double {
    /// The value of an IEEE 754 binary16 bit pattern, decoded without relying
    /// on a platform `Float16` type.
    @inlinable
    public init(float16Bits bits: UInt16) {
        let sign: Double = (bits & 0x8000) != 0 ? -1 : 1
        let exponent = Int((bits >> 10) & 0x1F)
        let fraction = Double(bits & 0x3FF)
        switch exponent {
        case 0: self = sign * fraction * 0x1p-24
        case 31: self = fraction == 0 ? sign * .infinity : .nan
        default: self = sign * (1 + fraction / 1024) * Double(sign: .plus, exponent: exponent - 15, significand: 1)
        }
    }
}
