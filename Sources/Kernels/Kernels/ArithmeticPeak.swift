import CVectorKernels
import Dispatch
import Synchronization
import SystemShim

/// What a vector unit's arithmetic can do on this machine, measured directly:
/// a loop of independent multiply-adds on registers only (no memory
/// traffic), on one thread or on several at once. Independent of OpenBLAS
/// and of the environment; the benchmark divides the model's work by it.
/// Timed in each thread's own CPU time, so other processes sharing the cores
/// lower it no more than they lower the kernels it is compared with.
public enum ArithmeticPeak {
    /// Billions of floating-point operations per second (a multiply-add is
    /// two) that `unit`'s vectors reach on `threads` threads at once: the
    /// AVX-512F or AVX2 fused multiply-add, or for the portable unit the
    /// Swift SIMD multiply and add its loops compile to. Each thread's rate
    /// is taken in its own CPU time; the sum counts at most as many threads
    /// as there are processors online (more would share cores).
    /// - Throws: `KernelError.vectorUnitUnavailable` for a unit this CPU lacks.
    public static func gflops(unit: VectorUnit, threads: Int, seconds: Double = 0.25) throws(KernelError) -> Double {
        try unit.checkAvailable()
        let threads = max(1, threads)
        // Calibrate one thread's round count to about `seconds`, then run it on every thread at once.
        var iterations = 1 << 16
        while true {
            let elapsed = cpuTime { _ = run(unit, iterations: iterations) }
            if elapsed >= seconds / 4 || iterations >= 1 << 34 {
                iterations = Int(Double(iterations) * seconds / max(elapsed, 1e-9))
                break
            }
            iterations *= 4
        }
        let rounds = iterations
        let perThread = Mutex([Double]())  // each thread's CPU seconds
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            let seconds = cpuTime { _ = run(unit, iterations: rounds) }
            perThread.withLock { $0.append(seconds) }
        }
        let operations = Double(rounds) * Double(operationsPerRound(unit))
        let rates = perThread.withLock { $0 }.map { operations / max($0, 1e-9) / 1e9 }
        return rates.reduce(0, +) / Double(threads) * Double(min(threads, onlineProcessorCount()))
    }

    /// Operations one round of `run` performs.
    static func operationsPerRound(_ unit: VectorUnit) -> Int {
        if let kernels = unit.vectorKernels { return 2 * Int(CRNN_FMA_PEAK_CHAINS) * Int(kernels.lanes) }
        return 2 * portableChains * 4
    }

    /// The portable loop's independent chains of `SIMD4<Float>`: with the two
    /// operands they fit SSE's 16 registers (16 chains spilled), and cover a
    /// multiply and an add's latency on two ports.
    static let portableChains = 12

    /// `iterations` rounds of the peak loop on `unit`; its result (internal for the tests).
    static func run(_ unit: VectorUnit, iterations: Int) -> Float {
        if let kernels = unit.vectorKernels { return kernels.fma_peak(iterations) }
        return portableLoop(iterations: iterations)
    }

    /// `portableChains` chains of c = c * a + b on `SIMD4<Float>`.
    @inline(never)
    static func portableLoop(iterations: Int) -> Float {
        let a = SIMD4<Float>(repeating: 0.999), b = SIMD4<Float>(repeating: 1e-7)
        var c = (0..<portableChains).map { SIMD4<Float>(repeating: Float($0) / 10) }
        c.withUnsafeMutableBufferPointer { chains in
            var c0 = chains[0], c1 = chains[1], c2 = chains[2], c3 = chains[3], c4 = chains[4], c5 = chains[5]
            var c6 = chains[6], c7 = chains[7], c8 = chains[8], c9 = chains[9], c10 = chains[10], c11 = chains[11]
            for _ in 0..<iterations {
                c0 = c0 * a + b; c1 = c1 * a + b; c2 = c2 * a + b; c3 = c3 * a + b
                c4 = c4 * a + b; c5 = c5 * a + b; c6 = c6 * a + b; c7 = c7 * a + b
                c8 = c8 * a + b; c9 = c9 * a + b; c10 = c10 * a + b; c11 = c11 * a + b
            }
            chains[0] = ((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + ((c8 + c9) + (c10 + c11))
        }
        return c[0].sum()
    }

    private static func cpuTime(_ body: () -> Void) -> Double {
        let start = threadCPUSeconds()
        body()
        return threadCPUSeconds() - start
    }
}
