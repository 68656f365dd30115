import Dispatch

/// Control over OpenBLAS's own worker threads. The portable vector unit's
/// matrix products go through OpenBLAS when the system has it (else, or with
/// `CRNN_BLAS=builtin`, through `BuiltInProduct`; the AVX-512 and AVX2 units'
/// never do), so this
/// decides how many cores one of those products uses: set it to 1 when the
/// caller runs several images on its own threads.
public enum BLASThreads {
    /// Sets the number of threads OpenBLAS uses for each product (at least
    /// 1). Does nothing when OpenBLAS cannot be opened: the products then
    /// report `KernelError.blasUnavailable` themselves. Setting 1 before
    /// OpenBLAS is open does not open it (it starts with one thread).
    public static func setCount(_ count: Int) {
        if MatrixProduct.builtInRequested || (count <= 1 && !OpenBLAS.isOpen) { return }
        try? OpenBLAS.library().setThreads(count)
    }

    /// Starts opening OpenBLAS on a background thread (a few milliseconds:
    /// loading the library and choosing its kernels) when the preferred
    /// vector unit uses it, so that a caller who first builds a model does
    /// not wait for it at the first product.
    public static func preload() {
        guard VectorUnit.preferred == .portable, !MatrixProduct.builtInRequested else { return }
        DispatchQueue.global(qos: .userInitiated).async { _ = OpenBLAS.shared }
    }

    /// The number of threads OpenBLAS currently uses (0 when it cannot be
    /// opened, or is not used: `CRNN_BLAS=builtin`).
    public static var count: Int { MatrixProduct.builtInRequested ? 0 : (try? OpenBLAS.library().threads) ?? 0 }

    /// The kernel family OpenBLAS runs on this CPU ("SkylakeX", "Haswell",
    /// ...; see `OpenBLAS` for how it is chosen), or the reason it cannot be opened.
    public static var coreName: String {
        if MatrixProduct.builtInRequested { return "not used (CRNN_BLAS=builtin)" }
        switch OpenBLAS.shared {
        case .success(let blas): return blas.coreName
        case .failure(let error): return error.description
        }
    }
}
