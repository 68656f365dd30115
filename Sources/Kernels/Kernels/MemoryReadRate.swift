import Dispatch
import Synchronization
import SystemShim

/// How fast this machine reads memory, measured directly: each thread sums
/// its own buffer again and again, as a batch-one forward pass streams its
/// weights (every weight is read once per image, and the model's do not fit
/// in a core's L2 cache). With the arithmetic peak (`ArithmeticPeak`) it
/// bounds the latency from the other side: a pass cannot take less than its
/// weight bytes over this rate. Timed in each thread's own CPU time, as the
/// arithmetic peak is.
public enum MemoryReadRate {
    /// Gigabytes (10⁹ bytes) per second that `threads` threads at once read,
    /// each passing over its own buffer of `bytes` (at least 64 KB, rounded up
    /// to whole 64-byte lines) for about `seconds` after one untimed pass; the
    /// threads' rates summed over at most as many threads as there are
    /// processors online.
    public static func gigabytesPerSecond(bytes: Int, threads: Int, seconds: Double = 0.2) -> Double {
        let lines = max(1024, (bytes + 63) / 64)
        let threads = max(1, threads)
        let rates = Mutex([Double]())
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            // Each thread its own buffer, written (so mapped) before it is timed.
            let buffer = [SIMD16<Float>](repeating: SIMD16(repeating: 1), count: lines)
            let rate = buffer.withUnsafeBufferPointer { values -> Double in
                var checksum = sum(values)
                var passes = 0
                let start = threadCPUSeconds()
                var elapsed = 0.0
                repeat {
                    checksum += sum(values)
                    passes += 1
                    elapsed = threadCPUSeconds() - start
                } while elapsed < seconds
                // Keeps the sums alive, so the reads cannot be dropped.
                if checksum.sum() == -1 { return 0 }
                return Double(passes * lines * 64) / max(elapsed, 1e-9) / 1e9
            }
            rates.withLock { $0.append(rate) }
        }
        let measured = rates.withLock { $0 }
        return measured.reduce(0, +) / Double(threads) * Double(min(threads, onlineProcessorCount()))
    }

    /// The sum of `values`, read in order 64 bytes at a time into four
    /// independent sums (so the loop waits on memory, not on its additions).
    @inline(never)
    static func sum(_ values: UnsafeBufferPointer<SIMD16<Float>>) -> SIMD16<Float> {
        var a = SIMD16<Float>(), b = SIMD16<Float>(), c = SIMD16<Float>(), d = SIMD16<Float>()
        var index = 0
        let whole = values.count & ~3
        while index < whole {
            a += values[index]
            b += values[index + 1]
            c += values[index + 2]
            d += values[index + 3]
            index += 4
        }
        while index < values.count {
            a += values[index]
            index += 1
        }
        return (a + b) + (c + d)
    }
}
