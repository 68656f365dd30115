import CVectorKernels
@testable import Kernels
import Testing

/// The peak loops do the work the benchmark counts: every round updates
/// `CRNN_FMA_PEAK_CHAINS` (vector units) or `portableChains` chains, so
/// their result equals the same chains computed here, rounding for rounding.
/// A loop that ran fewer rounds, kept another number of chains than the
/// operation count assumes, or was optimised away gives another value.
@Suite struct ArithmeticPeakTests {
    /// The loops' result after `rounds` rounds of `chains` chains c = c * a + b
    /// started at 0, 0.1, 0.2, ...: fused (one rounding) on the vector units,
    /// a multiply then an add on the portable one, summed as the loops sum
    /// them (pairs, then the three groups of four), times the equal lanes.
    static func expected(chains: Int, rounds: Int, fused: Bool, lanes: Int) -> Float {
        let a: Float = 0.999, b: Float = 1e-7
        var c = (0..<chains).map { Float($0) / 10 }
        for _ in 0..<rounds {
            for i in c.indices { c[i] = fused ? b.addingProduct(c[i], a) : c[i] * a + b }
        }
        var quads = [Float]()
        for first in stride(from: 0, to: chains, by: 4) {
            let low: Float = c[first] + c[first + 1], high: Float = c[first + 2] + c[first + 3]
            quads.append(low + high)
        }
        let lane: Float = quads.reduce(0, +)  // (q0 + q1) + q2, as the loops add them
        return lane * Float(lanes)  // the lanes are equal and summed as a tree: exact
    }

    @Test(arguments: [VectorUnit.avx512, .avx2, .portable])
    func peakLoopComputesEveryChainOfEveryRound(_ unit: VectorUnit) throws {
        guard unit.isAvailable else { return }
        for rounds in [1, 7, 1000] {
            let found = ArithmeticPeak.run(unit, iterations: rounds)
            let want: Float
            if let kernels = unit.vectorKernels {
                want = Self.expected(chains: Int(CRNN_FMA_PEAK_CHAINS), rounds: rounds, fused: true, lanes: Int(kernels.lanes))
                #expect(ArithmeticPeak.operationsPerRound(unit) == 2 * Int(CRNN_FMA_PEAK_CHAINS) * Int(kernels.lanes))
            } else {
                want = Self.expected(chains: ArithmeticPeak.portableChains, rounds: rounds, fused: false, lanes: 4)
            }
            #expect(found == want, "\(unit.rawValue), \(rounds) rounds")
        }
    }
}
