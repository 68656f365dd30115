import SystemShim

/// Which implementation runs the convolutions' inner loops (the Winograd
/// transforms and products, and the im2col products).
///
/// Swift compiles this package for the baseline of its architecture
/// (SSE2 on x86-64) and cannot compile one function for a newer
/// instruction set, so the vector loops sit in the small C target
/// `CVectorKernels`, written once and compiled twice (for AVX-512F and for
/// AVX2 with FMA) function by function, and called only when this CPU has
/// the instruction set. Every unit computes the same sums in the same order
/// per output value, up to float rounding of the products (the tests run
/// every convolution in each against PyTorch and against the others).
public enum VectorUnit: String, Sendable, CaseIterable {
    /// AVX-512F C loops, with weights packed at load for their products.
    case avx512
    /// AVX2 + FMA C loops (8 lanes, tiles for 16 registers), the same
    /// packed layout as `.avx512`: for x86-64 CPUs without AVX-512.
    case avx2
    /// Portable Swift loops, with OpenBLAS for the products.
    case portable

    /// Whether this machine can run `self`.
    public var isAvailable: Bool {
        switch self {
        case .portable: true
        case .avx512:
            #if arch(x86_64)
            CPUFeatures.current.flags.contains("avx512f")
            #else
            false
            #endif
        case .avx2:
            #if arch(x86_64)
            CPUFeatures.current.flags.isSuperset(of: ["avx2", "fma"])
            #else
            false
            #endif
        }
    }

    /// Refuses a unit this machine cannot run (every kernel's init asks).
    /// - Throws: `KernelError.vectorUnitUnavailable`.
    func checkAvailable() throws(KernelError) {
        guard isAvailable else { throw KernelError.vectorUnitUnavailable(unit: rawValue) }
    }

    /// The unit kernels use unless told otherwise: `.avx512` where available,
    /// else `.avx2` where available, or what the environment variable
    /// `CRNN_VECTOR_UNIT` names (`portable`, `avx2` or `avx512`; a unit this
    /// CPU lacks falls back to portable). A value naming no unit is taken as
    /// unset here; programs call `checkEnvironment()` first to refuse it.
    public static let preferred: VectorUnit = {
        if let name = environmentValue, let unit = VectorUnit(rawValue: name) {
            return unit.isAvailable ? unit : .portable
        }
        return VectorUnit.avx512.isAvailable ? .avx512 : VectorUnit.avx2.isAvailable ? .avx2 : .portable
    }()

    /// `CRNN_VECTOR_UNIT`, or `nil` when it is unset or empty.
    private static var environmentValue: String? {
        guard let value = getenv("CRNN_VECTOR_UNIT").map({ String(cString: $0) }), !value.isEmpty else { return nil }
        return value
    }

    /// Refuses a `CRNN_VECTOR_UNIT` that names no unit, so that a misspelt
    /// setting is not silently replaced by the default.
    /// - Throws: `KernelError.unknownVectorUnit` naming the value.
    /// Refuses a `CRNN_BLAS` other than `openblas` or `builtin` likewise.
    /// - Throws: `KernelError.unknownVectorUnit` or `.unknownMatrixProduct` naming the value.
    public static func checkEnvironment() throws(KernelError) {
        if let value = environmentValue, VectorUnit(rawValue: value) == nil { throw .unknownVectorUnit(value: value) }
        if let value = MatrixProduct.environmentValue, !MatrixProduct.choices.contains(value) {
            throw .unknownMatrixProduct(value: value)
        }
    }
}
