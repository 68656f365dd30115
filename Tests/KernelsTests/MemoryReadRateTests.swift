@testable import Kernels
import Testing

/// The read loop behind `MemoryReadRate` reads every value it is given: its
/// sum of distinct values equals theirs, for counts that leave each remainder
/// of its four-way unrolling (a loop that skipped the tail or one of its
/// four sums gives another value). All the values are small integers, so
/// every sum is exact in any order.
@Suite struct MemoryReadRateTests {
    @Test(arguments: [1, 4, 7, 1024 + 2])
    func readLoopSumsEveryValue(count: Int) {
        let values = (0..<count).map { line in SIMD16<Float>((0..<16).map { Float(line * 16 + $0) }) }
        let found = values.withUnsafeBufferPointer { MemoryReadRate.sum($0) }
        for lane in 0..<16 {
            let want = (0..<count).reduce(Float(0)) { $0 + Float($1 * 16 + lane) }
            #expect(found[lane] == want, "lane \(lane) of \(count) lines")
        }
    }

    /// A measurement returns a rate: finite and above zero for one thread and for two.
    @Test func measuresAFiniteRate() {
        for threads in [1, 2] {
            let rate = MemoryReadRate.gigabytesPerSecond(bytes: 1 << 16, threads: threads, seconds: 0.01)
            #expect(rate.isFinite && rate > 0, "\(threads) threads: \(rate)")
        }
    }
}
