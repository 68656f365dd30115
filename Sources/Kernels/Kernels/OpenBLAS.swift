import SystemShim
import Synchronization

/// The system OpenBLAS, opened at first use rather than linked.
///
/// Why not linked: OpenBLAS picks its matrix-product kernels for the CPU in
/// a library initialiser, before `main` runs, and reads only the environment
/// variable `OPENBLAS_CORETYPE` to override the choice. Debian's 0.3.21 does
/// not know CPUs newer than itself (Sapphire/Emerald Rapids among them) and
/// falls back to its SSE3 "Prescott" kernels, about 4x slower than its
/// AVX-512 ones on the same core. Opening the library here lets
/// `CPUFeatures` name the right kernel family first. A user's own
/// `OPENBLAS_CORETYPE` always wins.
///
/// Only the three entry points this module needs are looked up. Sizes are
/// `Int32` (OpenBLAS's default 32-bit `blasint`).
struct OpenBLAS: @unchecked Sendable {
    /// CBLAS's storage-order and transpose codes (fixed by the CBLAS standard).
    enum Code {
        static let rowMajor: Int32 = 101
        static let noTranspose: Int32 = 111
        static let transpose: Int32 = 112
    }

    typealias SgemmFunction = @convention(c) (
        Int32, Int32, Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>?, Int32,
        UnsafePointer<Float>?, Int32, Float, UnsafeMutablePointer<Float>?, Int32) -> Void
    typealias SetThreadsFunction = @convention(c) (Int32) -> Void
    typealias GetIntFunction = @convention(c) () -> Int32
    typealias CoreNameFunction = @convention(c) () -> UnsafeMutablePointer<CChar>?

    /// The shared object names tried in order.
    static let libraryNames = ["libopenblas.so.0", "libopenblas.so", "libopenblas.dylib"]

    let sgemmFunction: SgemmFunction
    let setThreadsFunction: SetThreadsFunction
    let getThreadsFunction: GetIntFunction
    let coreNameFunction: CoreNameFunction?

    /// The library, opened once per process; the failure is kept and reported
    /// by every kernel that needs it.
    static let shared: Result<OpenBLAS, KernelError> = open()

    /// The opened library, or `KernelError.blasUnavailable`.
    static func library() throws -> OpenBLAS { try shared.get() }

    /// Whether the library has been opened in this process (its thread count
    /// then matters; before, it starts with `OPENBLAS_NUM_THREADS`, 1 by default).
    static var isOpen: Bool { opened.load(ordering: .acquiring) }
    private static let opened = Atomic<Bool>(false)

    private static func open() -> Result<OpenBLAS, KernelError> {
        defer { opened.store(true, ordering: .releasing) }
        CPUFeatures.current.chooseOpenBLASCore()
        CPUFeatures.current.startOpenBLASWithOneThread()
        var handle: UnsafeMutableRawPointer?
        var failures: [String] = []
        for name in libraryNames {
            handle = dlopen(name, RTLD_LAZY | RTLD_LOCAL)
            if handle != nil { break }
            failures.append(dlerror().map { String(cString: $0) } ?? name)
        }
        guard let handle else {
            return .failure(.blasUnavailable(reason: failures.joined(separator: "; ")))
        }
        func symbol<T>(_ name: String, as type: T.Type) -> T? {
            dlsym(handle, name).map { unsafeBitCast($0, to: type) }
        }
        guard let sgemm = symbol("cblas_sgemm", as: SgemmFunction.self),
              let setThreads = symbol("openblas_set_num_threads", as: SetThreadsFunction.self),
              let getThreads = symbol("openblas_get_num_threads", as: GetIntFunction.self)
        else {
            return .failure(.blasUnavailable(
                reason: "the library opened lacks cblas_sgemm or openblas_set_num_threads (not OpenBLAS?)"))
        }
        return .success(OpenBLAS(sgemmFunction: sgemm, setThreadsFunction: setThreads,
                                 getThreadsFunction: getThreads,
                                 coreNameFunction: symbol("openblas_get_corename", as: CoreNameFunction.self)))
    }

    /// Row-major C = alpha * op(A) * op(B) + beta * C, with op(A) `[m, k]`,
    /// op(B) `[k, n]` and C `[m, n]`; `lda`, `ldb`, `ldc` are row strides.
    /// Callers have checked that every size fits `Int32` (`blasSize`).
    func sgemm(transposeA: Bool = false, transposeB: Bool = false, m: Int32, n: Int32, k: Int32,
               alpha: Float = 1, a: UnsafePointer<Float>, lda: Int32, b: UnsafePointer<Float>, ldb: Int32,
               beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int32) {
        sgemmFunction(Code.rowMajor, transposeA ? Code.transpose : Code.noTranspose,
                      transposeB ? Code.transpose : Code.noTranspose, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    }

    /// Threads each product uses.
    var threads: Int { Int(getThreadsFunction()) }

    /// Sets the threads each product uses (at least 1).
    func setThreads(_ count: Int) { setThreadsFunction(Int32(clamping: max(1, count))) }

    /// The kernel family OpenBLAS chose ("SkylakeX", "Haswell", "Prescott", ...).
    var coreName: String {
        guard let name = coreNameFunction?() else { return "unknown" }
        return String(cString: name)
    }
}
