import Foundation
@testable import Kernels
import Testing

/// The portable unit's built-in matrix product (no BLAS library needed)
/// against a float64 reference, at odd sizes and both layouts of B.
@Suite struct BuiltInProductTests {
    /// Deterministic values in [-1, 1).
    static func values(_ count: Int, seed: UInt64) -> [Float] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: state >> 11) % 2000) / 1000 - 1
        }
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let m: Int, n: Int, k: Int, transposeB: Bool, beta: Float
        var testDescription: String { "\(m)x\(n)x\(k)\(transposeB ? " B^T" : "") beta \(beta)" }
    }

    static let cases: [Case] = [
        Case(m: 1, n: 1, k: 1, transposeB: false, beta: 0), Case(m: 5, n: 37, k: 19, transposeB: false, beta: 0),
        Case(m: 4, n: 16, k: 64, transposeB: false, beta: 1), Case(m: 7, n: 33, k: 3, transposeB: false, beta: 0.5),
        Case(m: 64, n: 175, k: 576, transposeB: false, beta: 0), Case(m: 3, n: 768, k: 256, transposeB: true, beta: 1),
        Case(m: 13, n: 9, k: 15, transposeB: true, beta: 0), Case(m: 2, n: 5, k: 0, transposeB: false, beta: 1),
    ]

    @Test(arguments: cases)
    func matchesAFloat64ReferenceWithinTheReorderingBound(_ c: Case) {
        let lda = c.k + 3, ldb = (c.transposeB ? c.k : c.n) + 2, ldc = c.n + 1
        let a = Self.values(c.m * lda, seed: 1), b = Self.values((c.transposeB ? c.n : c.k) * ldb, seed: 2)
        let start = Self.values(c.m * ldc, seed: 3)
        // beta 0 must ignore C: start from NaN there, as BLAS allows.
        var out = c.beta == 0 ? [Float](repeating: .nan, count: c.m * ldc) : start
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                out.withUnsafeMutableBufferPointer { out in
                    BuiltInProduct.sgemm(transposeB: c.transposeB, m: c.m, n: c.n, k: c.k, alpha: 1.5, a: a.baseAddress!, lda: lda,
                                         b: b.baseAddress!, ldb: ldb, beta: c.beta, c: out.baseAddress!, ldc: ldc)
                }
            }
        }
        // Float sums of k products of magnitude <= 1 differ from the exact sum by at most
        // gamma_k * sum|a||b| (Higham), gamma_k = k u / (1 - k u); alpha and beta add two roundings.
        let u = Double(Float.ulpOfOne) / 2
        for i in 0..<c.m {
            for j in 0..<c.n {
                var exact = 0.0, magnitude = 0.0
                for p in 0..<c.k {
                    let x = Double(a[i * lda + p]), y = Double(c.transposeB ? b[j * ldb + p] : b[p * ldb + j])
                    exact += x * y
                    magnitude += abs(x * y)
                }
                let expected = 1.5 * exact + Double(c.beta) * (c.beta == 0 ? 0 : Double(start[i * ldc + j]))
                let gamma = Double(c.k + 3) * u / (1 - Double(c.k + 3) * u)
                let bound = gamma * (1.5 * magnitude + abs(Double(c.beta) * Double(start[i * ldc + j]))) + 1e-30
                #expect(abs(Double(out[i * ldc + j]) - expected) <= bound, "C[\(i), \(j)]")
            }
        }
    }

    /// Under `CRNN_BLAS=builtin` (scripts/test.sh runs the kernel and model
    /// tests so, as on a machine without OpenBLAS) the portable unit's
    /// products never open the library.
    @Test(.enabled(if: MatrixProduct.builtInRequested))
    func theBuiltInProductNeverOpensOpenBLAS() throws {
        let product = try MatrixProduct.current()
        guard case .builtIn = product.backend else {
            Issue.record("CRNN_BLAS=builtin chose \(product.name)")
            return
        }
        BLASThreads.setCount(2)
        #expect(!OpenBLAS.isOpen)
    }
}
