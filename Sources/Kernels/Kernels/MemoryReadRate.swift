import CVectorKernels
import Dispatch
import Synchronization

/// How fast this machine reads memory, measured directly: threads pass over
/// one shared buffer again and again, as batch-one forward passes stream
/// their weights (every weight is read once per image, and the model's are
/// far larger than a core's L2 cache). With the arithmetic peak
/// (`ArithmeticPeak`) it gives the other side of the limit: streaming a
/// pass's weight bytes at this rate takes their count over it. A kernel that
/// reads several streams at once, or a working set that partly stays in L2,
/// can do somewhat better than one long sequential read, so it is a guide,
/// not a hard floor. Timed by the wall clock (the threads must overlap), so
/// other load on the machine lowers it.
public enum MemoryReadRate {
    /// Gigabytes (10⁹ bytes) per second that a team of `threads` reads
    /// together from one buffer of `bytes` (at least 64 KB, rounded up to
    /// whole 256-byte blocks) with `unit`'s vector loads (the portable unit:
    /// Swift's SIMD types), each member passing over all of it from its own
    /// starting point (so that they do not read in lock step); the passes are
    /// calibrated on one thread to about `seconds`, after one untimed pass,
    /// and the team's job is timed from its start to its last member's end.
    /// - Throws: `KernelError.vectorUnitUnavailable` for a unit this CPU lacks.
    public static func gigabytesPerSecond(bytes: Int, threads: Int, unit: VectorUnit = .preferred,
                                          seconds: Double = 0.2) throws(KernelError) -> Double {
        try unit.checkAvailable()
        let lines = (max(1024, (bytes + 63) / 64) + 3) & ~3
        let buffer = [SIMD16<Float>](repeating: SIMD16(repeating: 1), count: lines)
        // Every sum is kept, so that no pass can be dropped.
        let checksum = Mutex(Float(0))
        return buffer.withUnsafeBufferPointer { values -> Double in
            let kernels = unit.vectorKernels
            func read(passes: Int, from first: Int) -> Float {
                if let kernels, let base = values.baseAddress {
                    // The lines' floats, as C reads them.
                    let floats = UnsafeRawPointer(base).assumingMemoryBound(to: Float.self)
                    return kernels.read_sum(floats, 16 * lines, 16 * first, passes)
                }
                var total = SIMD16<Float>()
                for pass in 0..<passes { total += sum(values, from: (first + shift * pass) % lines) }
                return total.sum()
            }
            let warm = read(passes: 1, from: 0)
            checksum.withLock { $0 += warm }
            var passes = 1
            while true {
                let elapsed = wallSeconds {
                    let total = read(passes: passes, from: 0)
                    checksum.withLock { $0 += total }
                }
                if elapsed >= seconds / 4 || passes >= 1 << 20 {
                    passes = max(1, Int(Double(passes) * seconds / max(elapsed, 1e-9)))
                    break
                }
                passes *= 2
            }
            let team = ThreadTeam(size: max(1, threads))
            let rounds = passes
            let elapsed = wallSeconds {
                team.run { member in
                    let total = read(passes: rounds, from: lines / team.size * member)
                    checksum.withLock { $0 += total }
                }
            }
            guard checksum.withLock({ $0 }).isFinite else { return 0 }
            return Double(team.size * rounds * lines * 64) / max(elapsed, 1e-9) / 1e9
        }
    }

    /// Lines from one pass's starting point to the next's in the portable
    /// loop, as `read_sum` shifts by CRNN_READ_SHIFT floats: no two passes are
    /// the same call (a compiler may run a pure call with the same arguments
    /// once for all of them, and the reads would be gone).
    static let shift = Int(CRNN_READ_SHIFT) / 16

    /// The sum of all of `values`, read in order from index `first` to the
    /// end and then from the start up to `first`, 64 bytes at a time into four
    /// independent sums (so the loop waits on memory, not on its additions):
    /// the portable unit's read loop.
    @inline(never)
    static func sum(_ values: UnsafeBufferPointer<SIMD16<Float>>, from first: Int) -> SIMD16<Float> {
        let start = min(max(0, first), values.count)
        return run(values, start..<values.count) + run(values, 0..<start)
    }

    /// The sum of `values[range]`, four independent sums then the tail.
    private static func run(_ values: UnsafeBufferPointer<SIMD16<Float>>, _ range: Range<Int>) -> SIMD16<Float> {
        var a = SIMD16<Float>(), b = SIMD16<Float>(), c = SIMD16<Float>(), d = SIMD16<Float>()
        var index = range.lowerBound
        let whole = range.lowerBound + (range.count & ~3)
        while index < whole {
            a += values[index]
            b += values[index + 1]
            c += values[index + 2]
            d += values[index + 3]
            index += 4
        }
        while index < range.upperBound {
            a += values[index]
            index += 1
        }
        return (a + b) + (c + d)
    }

    /// Seconds `body` takes by the wall clock.
    private static func wallSeconds(_ body: () -> Void) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
}
