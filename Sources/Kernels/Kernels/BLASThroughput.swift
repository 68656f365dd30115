import COpenBLAS
import Dispatch

/// Measures what OpenBLAS's single-precision matrix product achieves on this
/// machine: the arithmetic ceiling the benchmark compares the model with.
public enum BLASThroughput {
    /// GFLOP/s of `cblas_sgemm` on square `size` matrices with `threads`
    /// OpenBLAS threads (best of `repeats` after one warm-up), counting two
    /// operations per multiply-add.
    public static func sgemmGFLOPS(size: Int = 1024, threads: Int, repeats: Int = 5) -> Double {
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
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(n), Int32(n),
                        1, a, Int32(n), b, Int32(n), 0, &c, Int32(n))
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if round > 0 { best = min(best, seconds) }
        }
        return 2 * Double(n) * Double(n) * Double(n) / best / 1e9
    }
}
