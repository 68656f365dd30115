import Dispatch

/// Measures what OpenBLAS's single-precision matrix product achieves on this
/// machine: the arithmetic ceiling the benchmark compares the model with.
public enum BLASThroughput {
    /// GFLOP/s of `cblas_sgemm` on square `size` matrices with `threads`
    /// OpenBLAS threads (best of `repeats` after one warm-up), counting two
    /// operations per multiply-add.
    /// - Throws: `KernelError.blasUnavailable` when OpenBLAS cannot be opened.
    public static func sgemmGFLOPS(size: Int = 1024, threads: Int, repeats: Int = 5) throws -> Double {
        let blas = try OpenBLAS.library()
        let previous = BLASThreads.count
        BLASThreads.setCount(threads)
        defer { BLASThreads.setCount(previous) }
        let n = max(16, size)
        let a = [Float](repeating: 0.5, count: n * n)
        let b = [Float](repeating: 0.25, count: n * n)
        var c = [Float](repeating: 0, count: n * n)
        var best = Double.infinity
        for round in 0...repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            let size = Int32(clamping: n)
            c.withUnsafeMutableBufferPointer { cBuffer in
                blas.sgemm(m: size, n: size, k: size, a: a, lda: size, b: b, ldb: size,
                           beta: 0, c: cBuffer.baseAddress!, ldc: size)
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if round > 0 { best = min(best, seconds) }
        }
        return 2 * Double(n) * Double(n) * Double(n) / best / 1e9
    }
}
