/// What a kernel refuses: sizes that do not fit together. Every case names the
/// operation and the numbers a caller needs to find the mistake.
public enum KernelError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A size parameter (kernel, stride, channels, ...) is zero or negative
    /// where it must be positive, or padding is negative.
    case invalidParameter(operation: String, name: String, value: Int)
    /// A weight or bias array has the wrong number of elements.
    case parameterCount(operation: String, name: String, expected: Int, found: Int)
    /// An input buffer holds fewer elements than its declared shape needs.
    case inputTooShort(operation: String, name: String, expected: Int, found: Int)
    /// The input's channel count differs from what the layer was built for.
    case channelMismatch(operation: String, expected: Int, found: Int)
    /// The input is too small for the kernel: the output would have no rows or columns.
    case emptyOutput(operation: String, height: Int, width: Int)
    /// Padding larger than half the pooling window (PyTorch refuses it too).
    case poolingPaddingTooLarge(kernel: Int, padding: Int)
    /// A size computation does not fit in an `Int`.
    case sizeOverflow(operation: String)
    /// The system OpenBLAS could not be opened (`reason` says why).
    case blasUnavailable(reason: String)
    /// A kernel was asked for a vector unit this CPU does not have.
    case vectorUnitUnavailable(unit: String)
    /// The environment variable `CRNN_VECTOR_UNIT` holds `value`, which
    /// names no vector unit.
    case unknownVectorUnit(value: String)
    /// The environment variable `CRNN_BLAS` holds `value`, which is neither
    /// `openblas` nor `builtin`.
    case unknownMatrixProduct(value: String)

    public var description: String {
        switch self {
        case let .invalidParameter(operation, name, value):
            "\(operation): \(name) must be positive (padding non-negative), got \(value)"
        case let .parameterCount(operation, name, expected, found):
            "\(operation): \(name) needs \(expected) values, got \(found)"
        case let .inputTooShort(operation, name, expected, found):
            "\(operation): \(name) needs \(expected) values for its shape, got \(found)"
        case let .channelMismatch(operation, expected, found):
            "\(operation): expects \(expected) input channels, got \(found)"
        case let .emptyOutput(operation, height, width):
            "\(operation): a \(height)x\(width) input is too small for the kernel (empty output)"
        case let .poolingPaddingTooLarge(kernel, padding):
            "max pool: padding \(padding) must be at most half the kernel size \(kernel)"
        case let .sizeOverflow(operation):
            "\(operation): sizes overflow"
        case let .blasUnavailable(reason):
            "cannot open OpenBLAS (\(reason)), which CRNN_BLAS=openblas requires; install it with scripts/install-deps.sh "
                + "(Debian: libopenblas0), or leave CRNN_BLAS unset to use the built-in product"
        case let .vectorUnitUnavailable(unit):
            "this CPU cannot run the \(unit) kernels; use VectorUnit.portable (or CRNN_VECTOR_UNIT=portable)"
        case let .unknownVectorUnit(value):
            "CRNN_VECTOR_UNIT is '\(value)', which names no vector unit; allowed values: "
                + VectorUnit.allCases.map(\.rawValue).joined(separator: ", ") + " (or leave it unset for the fastest this CPU has)"
        case let .unknownMatrixProduct(value):
            "CRNN_BLAS is '\(value)'; allowed values: " + MatrixProduct.choices.joined(separator: ", ")
                + " (or leave it unset: OpenBLAS when the system has it, else the built-in product)"
        }
    }
}

/// The product of `factors`, or `KernelError.sizeOverflow` when it does not fit.
func checkedProduct(_ factors: Int..., operation: String) throws -> Int {
    var product = 1
    for factor in factors {
        let (next, overflow) = product.multipliedReportingOverflow(by: factor)
        guard !overflow else { throw KernelError.sizeOverflow(operation: operation) }
        product = next
    }
    return product
}

/// The sum of `terms`, or `KernelError.sizeOverflow(operation:)` when it exceeds `Int`.
func checkedSum(_ terms: Int..., operation: String) throws -> Int {
    var sum = 0
    for term in terms {
        let (next, overflow) = sum.addingReportingOverflow(term)
        guard !overflow else { throw KernelError.sizeOverflow(operation: operation) }
        sum = next
    }
    return sum
}

/// Calls `body` with the address of `array`'s elements, or nil without an array.
@inline(__always)
func withOptionalBuffer<R>(_ array: [Float]?, _ body: (UnsafePointer<Float>?) throws -> R) rethrows -> R {
    guard let array else { return try body(nil) }
    return try array.withUnsafeBufferPointer { try body($0.baseAddress) }
}

/// Grows `buffer` to at least `count` elements (never shrinks it), so buffers
/// can be reused across calls without reallocating.
@inline(__always)
func ensureCapacity(_ buffer: inout [Float], _ count: Int) {
    if buffer.count < count { buffer = [Float](repeating: 0, count: count) }
}

/// Grows `buffer` to at least `count` elements like `ensureCapacity`, but
/// without zeroing the new storage: only for buffers whose first `count`
/// elements the caller then writes in full (a layer's output, its scratch),
/// where zeroing megabytes per image would be wasted work.
@inline(__always)
func growForOverwrite(_ buffer: inout [Float], _ count: Int) {
    if buffer.count < count { buffer = [Float](unsafeUninitializedCapacity: count) { _, initialized in initialized = count } }
}

/// `value` as the 32-bit size OpenBLAS takes.
/// - Throws: `KernelError.sizeOverflow` when it does not fit.
@inline(__always)
func blasSize(_ value: Int, operation: String) throws -> Int32 {
    guard let size = Int32(exactly: value) else { throw KernelError.sizeOverflow(operation: operation) }
    return size
}
