import SystemShim
import CVectorKernels

/// The vector instruction sets this CPU and its operating system support,
/// under the names Linux gives them in `/proc/cpuinfo` (`avx2`, `fma`,
/// `avx512f`, ...), and the OpenBLAS kernel family they call for.
struct CPUFeatures: Sendable {
    /// The lowercase feature names (empty when unknown).
    let flags: Set<String>

    /// This machine's features, asked of the processor itself (CPUID and
    /// XGETBV, so the same on every operating system; none off x86-64).
    static let current = CPUFeatures(flags: cpuidFlags())

    /// The features named.
    init(flags: Set<String>) { self.flags = flags }

    /// The features of the first processor's `flags` line of a
    /// `/proc/cpuinfo` text (for tests and cross-checks).
    init(cpuinfo: String) {
        let line = cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") }
        let list = line.flatMap { $0.split(separator: ":", maxSplits: 1).dropFirst().first } ?? ""
        flags = Set(list.split(separator: " ").map { String($0) })
    }

    /// The OpenBLAS `OPENBLAS_CORETYPE` whose single-precision kernels suit
    /// this CPU: "SkylakeX" with the AVX-512 subsets it uses, "Haswell" with
    /// AVX2 and FMA, otherwise `nil` (leave OpenBLAS's own detection alone).
    var openBLASCore: String? {
        if flags.isSuperset(of: ["avx512f", "avx512dq", "avx512cd", "avx512bw", "avx512vl"]) { return "SkylakeX" }
        if flags.isSuperset(of: ["avx2", "fma"]) { return "Haswell" }
        return nil
    }

    /// Sets `OPENBLAS_CORETYPE` for OpenBLAS to read when it loads, unless
    /// the user set it or this CPU calls for nothing in particular.
    func chooseOpenBLASCore() {
        guard getenv("OPENBLAS_CORETYPE") == nil, let core = openBLASCore else { return }
        setenv("OPENBLAS_CORETYPE", core, 0)
    }

    /// Sets `OPENBLAS_NUM_THREADS` to 1 unless the user set it: the kernels
    /// split work with their own `ThreadTeam`, and OpenBLAS's idle pool
    /// otherwise spins (`sched_yield`) on a core the team needs.
    /// `BLASThreads.setCount` still grows the pool when asked.
    func startOpenBLASWithOneThread() {
        guard getenv("OPENBLAS_NUM_THREADS") == nil else { return }
        setenv("OPENBLAS_NUM_THREADS", "1", 0)
    }

    /// The names of the bits `crnn_cpu_features()` sets.
    static let featureBits: [(name: String, bit: Int)] = [
        ("avx", Int(CRNN_CPU_AVX)), ("fma", Int(CRNN_CPU_FMA)), ("avx2", Int(CRNN_CPU_AVX2)),
        ("avx512f", Int(CRNN_CPU_AVX512F)), ("avx512dq", Int(CRNN_CPU_AVX512DQ)),
        ("avx512cd", Int(CRNN_CPU_AVX512CD)), ("avx512bw", Int(CRNN_CPU_AVX512BW)),
        ("avx512vl", Int(CRNN_CPU_AVX512VL)),
    ]

    /// This processor's features as names.
    private static func cpuidFlags() -> Set<String> {
        let bits = Int(crnn_cpu_features())
        return Set(featureBits.filter { bits & $0.bit != 0 }.map(\.name))
    }
}
