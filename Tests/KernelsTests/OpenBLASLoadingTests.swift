import Foundation
@testable import Kernels
import Testing

/// OpenBLAS is opened at first use with the kernel family this CPU calls for.
@Suite struct OpenBLASLoadingTests {
    @Test func avx512CPUsGetTheSkylakeXKernels() {
        let info = "processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma avx512f avx512dq avx512cd avx512bw avx512vl\n\n"
        #expect(CPUFeatures(cpuinfo: info).openBLASCore == "SkylakeX")
    }

    @Test func avx2CPUsGetTheHaswellKernels() {
        let info = "processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma avx512f\n\n"
        #expect(CPUFeatures(cpuinfo: info).openBLASCore == "Haswell")
    }

    @Test func olderOrUnknownCPUsAreLeftToOpenBLAS() {
        #expect(CPUFeatures(cpuinfo: "processor\t: 0\nflags\t\t: fpu sse2 avx\n").openBLASCore == nil)
        #expect(CPUFeatures(cpuinfo: "").openBLASCore == nil)
    }

    /// The choice reached OpenBLAS: it was opened after the variable was set
    /// (this fails if the library is linked again, and so initialised before main).
    @Test(.enabled(if: !MatrixProduct.builtInRequested))
    func openBLASRunsTheChosenKernels() throws {
        _ = try OpenBLAS.library()
        // Unset only on CPUs without AVX2, where OpenBLAS's own choice stands.
        guard let chosen = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] else { return }
        #expect(BLASThreads.coreName.lowercased() == chosen.lowercased())
    }
}

/// The features the kernels choose by come from the processor (CPUID), and
/// on Linux agree with what the kernel lists in /proc/cpuinfo.
@Suite struct CPUFeatureTests {
    @Test func cpuidAgreesWithProcCPUInfo() throws {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return }
        let listed = CPUFeatures(cpuinfo: text).flags
        let asked = CPUFeatures.current.flags
        for (name, _) in CPUFeatures.featureBits {
            #expect(asked.contains(name) == listed.contains(name), "\(name)")
        }
        #if arch(x86_64)
        #expect(!listed.isEmpty && !asked.isEmpty, "x86-64 hosts of this project all have AVX at least")
        #endif
    }
}
