import CVectorKernels
@testable import Kernels
import Testing

/// The read loops behind `MemoryReadRate` read every value they are given:
/// their sums of distinct values equal the values' sum, for sizes that leave
/// each remainder of the portable loop's four-way unrolling, from several
/// starting points and over several passes (a loop that skipped its tail,
/// one of its four sums, the part before its starting point or a pass gives
/// another value). All the values are small integers, so every sum is exact
/// in any order.
@Suite struct MemoryReadRateTests {
    /// Lines of 16 floats: line l holds 16 l, 16 l + 1, ..., 16 l + 15.
    static func lines(_ count: Int) -> [SIMD16<Float>] {
        (0..<count).map { line in SIMD16<Float>((0..<16).map { Float(line * 16 + $0) }) }
    }

    @Test(arguments: [1, 4, 7, 1024 + 2])
    func portableLoopSumsEveryValue(count: Int) {
        let values = Self.lines(count)
        for first in Set([0, 1, count / 2, count - 1, count]) {
            let found = values.withUnsafeBufferPointer { MemoryReadRate.sum($0, from: first) }
            for lane in 0..<16 {
                let want = (0..<count).reduce(Float(0)) { $0 + Float($1 * 16 + lane) }
                #expect(found[lane] == want, "lane \(lane) of \(count) lines from line \(first)")
            }
        }
    }

    @Test(arguments: VectorUnit.allCases.filter { $0 != .portable && $0.isAvailable })
    func vectorLoopSumsEveryValueOfEveryPass(unit: VectorUnit) throws {
        let kernels = try #require(unit.vectorKernels)
        // 4 to 72 lines: 1 to 18 blocks of 256 bytes (the shift between passes is 17 blocks).
        for blocks in [1, 2, 17, 18] {
            let values = Self.lines(4 * blocks).flatMap { line in (0..<16).map { line[$0] } }
            let total = values.reduce(0, +)
            for first in [0, 64, 100, values.count - 1] {
                for passes in [1, 3] {
                    let found = values.withUnsafeBufferPointer { kernels.read_sum($0.baseAddress!, values.count, first, passes) }
                    #expect(found == total * Float(passes), "\(unit.rawValue): \(blocks) blocks from \(first), \(passes) passes")
                }
            }
        }
    }

    /// A measurement over 8 MB reads at a rate memory can have, on every
    /// unit: a loop whose reads were dropped or hoisted out of its passes
    /// would report thousands of times the real rate (a clock call per pass
    /// over 8 MB), a broken timer zero or infinity. The floor is low because
    /// the portable loop in a debug build reads about 0.25 GB/s (the Xeon); a
    /// release build reads 15 or more.
    @Test(arguments: VectorUnit.allCases.filter(\.isAvailable))
    func measuresARateMemoryCanHave(unit: VectorUnit) throws {
        for threads in [1, 2] {
            let rate = try MemoryReadRate.gigabytesPerSecond(bytes: 8 << 20, threads: threads, unit: unit, seconds: 0.02)
            print("read rate, \(unit.rawValue), \(threads) threads, 8 MB: \(rate) GB/s")
            #expect(rate > 0.01 && rate < 5000, "\(unit.rawValue), \(threads) threads: \(rate) GB/s")
        }
    }
}
