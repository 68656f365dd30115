#if canImport(Accelerate)
import Accelerate
#endif
import SystemShim

/// The portable unit's matrix product: on Apple platforms Accelerate's;
/// elsewhere OpenBLAS when the system has it (it is faster), else the
/// built-in Swift SIMD product, so that the portable unit runs on any
/// machine. `CRNN_BLAS=builtin` uses the built-in one and never opens
/// OpenBLAS; `CRNN_BLAS=openblas` requires OpenBLAS.
struct MatrixProduct: Sendable {
    /// Which product runs.
    enum Backend: Sendable {
        case openBLAS(OpenBLAS)
        case builtIn
        #if canImport(Accelerate)
        case accelerate
        #endif
    }

    /// The names `CRNN_BLAS` may hold.
    #if canImport(Accelerate)
    static let choices = ["openblas", "builtin", "accelerate"]
    #else
    static let choices = ["openblas", "builtin"]
    #endif

    let backend: Backend

    /// The product for this process, chosen once (see the type's documentation).
    static let shared: Result<MatrixProduct, KernelError> = {
        switch environmentValue {
        case "builtin": return .success(MatrixProduct(backend: .builtIn))
        case "openblas": return OpenBLAS.shared.map { MatrixProduct(backend: .openBLAS($0)) }
        default:
            #if canImport(Accelerate)
            return .success(MatrixProduct(backend: .accelerate))
            #else
            if case let .success(library) = OpenBLAS.shared { return .success(MatrixProduct(backend: .openBLAS(library))) }
            return .success(MatrixProduct(backend: .builtIn))
            #endif
        }
    }()

    /// The chosen product, or `KernelError.blasUnavailable` when
    /// `CRNN_BLAS=openblas` and OpenBLAS cannot be opened.
    static func current() throws -> MatrixProduct { try shared.get() }

    /// True when the built-in product was asked for: OpenBLAS is then never opened.
    static var builtInRequested: Bool { environmentValue == "builtin" }

    /// `CRNN_BLAS`, or `nil` when unset or empty.
    static var environmentValue: String? {
        guard let value = getenv("CRNN_BLAS").map({ String(cString: $0) }), !value.isEmpty else { return nil }
        return value
    }

    /// A name for reports: `OpenBLAS (SkylakeX)` or `built-in (Swift SIMD)`.
    var name: String {
        switch backend {
        case let .openBLAS(library): "OpenBLAS (\(library.coreName))"
        case .builtIn: "built-in (Swift SIMD)"
        #if canImport(Accelerate)
        case .accelerate: "Accelerate"
        #endif
        }
    }

    /// Row-major C = alpha * A * op(B) + beta * C, with A `[m, k]`, op(B)
    /// `[k, n]` and C `[m, n]`; `lda`, `ldb`, `ldc` are row strides.
    /// Callers have checked that every size fits `Int32` (`blasSize`).
    func sgemm(transposeB: Bool = false, m: Int32, n: Int32, k: Int32, alpha: Float = 1,
               a: UnsafePointer<Float>, lda: Int32, b: UnsafePointer<Float>, ldb: Int32,
               beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int32) {
        switch backend {
        case let .openBLAS(library):
            library.sgemm(transposeB: transposeB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                          beta: beta, c: c, ldc: ldc)
        case .builtIn:
            BuiltInProduct.sgemm(transposeB: transposeB, m: Int(m), n: Int(n), k: Int(k), alpha: alpha, a: a, lda: Int(lda),
                                 b: b, ldb: Int(ldb), beta: beta, c: c, ldc: Int(ldc))
        #if canImport(Accelerate)
        case .accelerate:
            cblas_sgemm(CblasRowMajor, CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb,
                        beta, c, ldc)
        #endif
        }
    }
}
