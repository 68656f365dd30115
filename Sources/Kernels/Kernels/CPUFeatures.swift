#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The vector instruction sets this CPU and kernel support, as Linux lists
/// them in `/proc/cpuinfo`, and the OpenBLAS kernel family they call for.
struct CPUFeatures: Sendable {
    /// The lowercase flag names of the first processor (empty when unknown).
    let flags: Set<String>

    /// This machine's features (empty where `/proc/cpuinfo` is not readable).
    static let current = CPUFeatures(cpuinfo: readCPUInfo())

    /// Parses the first `flags` line of a `/proc/cpuinfo` text.
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

    /// `/proc/cpuinfo`, at most 1 MiB of it (the first processor comes first).
    private static func readCPUInfo() -> String {
        guard let file = fopen("/proc/cpuinfo", "r") else { return "" }
        defer { fclose(file) }
        var text = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 16384)
        while text.count < 1 << 20 {
            let read = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            if read == 0 { break }
            text.append(contentsOf: chunk[0..<read])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
