import Foundation
import CRNN
import Kernels
import SystemShim

/// `crnn-bench --kernels`: every convolution shape of the reference CRNN
/// (50x200 input) timed alone, in each form the kernels offer, on one thread
/// (thread CPU time, so other load on the machine matters less), and the
/// model's form at batch one split across a team of `--threads` (wall
/// clock: what one image's latency sees). Synthetic weights: this measures
/// speed, not results.
enum KernelProfile {
    struct Case {
        let name: String
        let inChannels: Int, outChannels: Int, kernel: Int, stride: Int, height: Int, width: Int
        let count: Int

        /// The case's convolution with synthetic weights (padding: half the kernel).
        /// - Throws: `KernelError` (never for the model's shapes).
        func syntheticKernel() throws -> ConvolutionKernel {
            let weights = (0..<(outChannels * inChannels * kernel * kernel)).map { Float(($0 % 7) - 3) * 0.01 }
            return try ConvolutionKernel(outChannels: outChannels, inChannels: inChannels, kernel: kernel, stride: stride,
                                         padding: kernel / 2, weights: weights)
        }

        /// A synthetic input of `batch` images of the case's shape.
        /// - Throws: `KernelError.sizeOverflow` (never for the model's shapes).
        func syntheticInput(batch: Int) throws -> (shape: FeatureShape, values: [Float]) {
            let shape = try FeatureShape(batch: batch, channels: inChannels, height: height, width: width)
            return (shape, (0..<shape.count).map { Float($0 % 13) * 0.1 })
        }

        /// The case's synthetic kernel and the form the model runs it in on `unit`.
        /// - Throws: `KernelError` when this CPU cannot run `unit`.
        func modelForm(unit: VectorUnit) throws -> (kernel: ConvolutionKernel, form: Convolution) {
            let kernel = try syntheticKernel()
            return (kernel, try Convolution(kernel, unit: unit))
        }
    }

    /// Floating-point operations `form` of `kernel` performs on `shape` (all
    /// its images): Winograd's products as it runs them, im2col's directly.
    /// - Throws: `KernelError` for a shape the kernel refuses.
    static func operations(of form: Convolution, kernel: ConvolutionKernel, shape: FeatureShape) throws -> Double {
        let out = try kernel.outputShape(for: shape)
        if case .winograd(let w) = form {
            return Double(WinogradConvolution.operations(inChannels: w.inChannels, outChannels: w.outChannels,
                                                         outHeight: out.height, outWidth: out.width, batch: shape.batch,
                                                         outputTile: w.outputTile))
        }
        return 2.0 * Double(kernel.reductionLength * out.planeCount * kernel.outChannels * shape.batch)
    }

    /// "im2col", "winograd F2" or "winograd F4", for the tables.
    static func label(_ form: Convolution) -> String {
        if case .winograd(let w) = form { return "\(form.algorithm) F\(w.outputTile)" }
        return form.algorithm
    }

    /// The reference model's convolutions on a 50x200 image (from the one
    /// layer plan, `CRNNArchitecture`), those of equal shape counted once.
    static let cases: [Case] = {
        guard let architecture = CRNNArchitecture(trunkWidths: CRNNConfiguration.reference.trunkWidths) else { return [] }
        var cases = [Case]()
        for (layer, height, width) in architecture.convolutions(height: 50, width: 200).layers {
            let shape = "\(layer.kernel)x\(layer.kernel)" + (layer.stride == 1 ? "" : " s\(layer.stride)")
            if let index = cases.firstIndex(where: {
                ($0.inChannels, $0.outChannels, $0.kernel, $0.stride, $0.height, $0.width)
                    == (layer.inChannels, layer.outChannels, layer.kernel, layer.stride, height, width)
            }) {
                let found = cases[index]
                cases[index] = Case(name: found.name, inChannels: found.inChannels, outChannels: found.outChannels,
                                    kernel: found.kernel, stride: found.stride, height: found.height, width: found.width,
                                    count: found.count + 1)
            } else {
                cases.append(Case(name: "\(layer.prefix) \(shape)", inChannels: layer.inChannels,
                                  outChannels: layer.outChannels, kernel: layer.kernel, stride: layer.stride,
                                  height: height, width: width, count: 1))
            }
        }
        return cases
    }()

    /// Prints a table: per case and batch size, milliseconds per image for
    /// each form on `unit`; with `threads` above 1, a second table: the
    /// model's form at batch one on one thread and on a team of `threads`,
    /// both by the wall clock, and the speedup.
    /// - Throws: `KernelError` when this CPU cannot run `unit` (or, never for
    ///   these shapes, a size error).
    static func run(unit: VectorUnit, threads: Int = 1, batches: [Int] = [1, 4], runs: Int = 50) throws {
        BLASThreads.setCount(1)
        let peak = try ArithmeticPeak.gflops(unit: unit, threads: 1)
        print("vector unit: \(unit.rawValue); \(CPUDescription.current.summary)")
        print(String(format: "one-thread arithmetic peak (register-only multiply-adds): %.0f GFLOP/s", peak))
        print("GFLOP/s as performed: the Winograd form's 16 (F(2x2,3x3)) or 36 (F(4x4,3x3), marked F4) products counted as it does them, im2col's directly")
        print("convolution (x count)                   batch   im2col ms/img   winograd ms/img   im2col GFLOP/s (%peak)   winograd GFLOP/s (%peak)")
        var totals = [Int: (Double, Double)]()
        for c in cases {
            let kernel = try c.syntheticKernel()
            var forms: [Convolution] = [try .im2colForm(of: kernel, unit: unit)]
            // The Winograd form the model uses for this shape on this unit.
            let tile = WinogradConvolution.outputTile(inChannels: c.inChannels, outChannels: c.outChannels, unit: unit)
            if WinogradConvolution.supports(kernel) {
                forms.append(.winograd(try WinogradConvolution(kernel, unit: unit, outputTile: tile)))
            }
            for batch in batches {
                let (shape, input) = try c.syntheticInput(batch: batch)
                var output = [Float](), scratch = [Float]()
                var times = [Double]()
                for form in forms {
                    for _ in 0..<3 { try form.apply(input, shape: shape, relu: true, output: &output, scratch: &scratch) }
                    var best = Double.infinity
                    for _ in 0..<runs {
                        let start = threadCPUSeconds()
                        try form.apply(input, shape: shape, relu: true, output: &output, scratch: &scratch)
                        best = min(best, threadCPUSeconds() - start)
                    }
                    times.append(best * 1000 / Double(batch))
                }
                func rate(_ operations: Double, _ milliseconds: Double) -> String {
                    let gflops = operations / Double(batch) / (milliseconds / 1000) / 1e9
                    return String(format: "%.0f (%.0f%%)", gflops, 100 * gflops / peak)
                }
                var total = totals[batch] ?? (0, 0)
                total.0 += times[0] * Double(c.count)
                total.1 += (times.count > 1 ? times[1] : times[0]) * Double(c.count)
                totals[batch] = total
                let label = "\(c.name) (x\(c.count))" + (forms.count > 1 && tile == 4 ? " F4" : "")
                let winograd = times.count > 1 ? String(format: "%.3f", times[1]) : "-"
                let direct = rate(try Self.operations(of: forms[0], kernel: kernel, shape: shape), times[0])
                let transformed = times.count > 1
                    ? rate(try Self.operations(of: forms[1], kernel: kernel, shape: shape), times[1]) : "-"
                print(label.padding(toLength: 40, withPad: " ", startingAt: 0)
                      + String(format: "%5d   %13.3f   ", batch, times[0])
                      + String(repeating: " ", count: max(0, 15 - winograd.count)) + winograd
                      + String(repeating: " ", count: max(0, 25 - direct.count)) + direct
                      + String(repeating: " ", count: max(0, 27 - transformed.count)) + transformed)
            }
        }
        for batch in batches.sorted() {
            if let (direct, best) = totals[batch] {
                print(String(format: "all convolutions, batch %d: im2col %.2f ms/img, with winograd %.2f ms/img", batch, direct, best))
            }
        }
        try runProducts(unit: unit, peak: peak, runs: runs)
        if threads > 1 { try runTeams(unit: unit, threads: threads, runs: runs) }
    }

    /// The model's form of each case at batch one, its matrix products alone
    /// (Winograd's without the transforms, im2col's without im2col; thread
    /// CPU time, least of `runs`), against the one-thread FMA `peak`: the
    /// share issue 14 sets a target for (75% on AVX-512, 70% on AVX2).
    /// - Throws: `KernelError`, as `run` does.
    private static func runProducts(unit: VectorUnit, peak: Double, runs: Int) throws {
        print("")
        print("batch 1, the model's form, its matrix products alone (no transforms, no im2col), one thread")
        print("convolution (x count)                   form        products ms   GFLOP/s (%peak)")
        var seconds = 0.0, operations = 0.0
        for c in cases {
            let (kernel, form) = try c.modelForm(unit: unit)
            let (shape, input) = try c.syntheticInput(batch: 1)
            var output = [Float](), scratch = [Float]()
            // A real pass first, so that the scratch holds transformed values (or im2col columns).
            try form.apply(input, shape: shape, relu: true, output: &output, scratch: &scratch)
            guard try form.runProductsAlone(input, shape: shape, output: &output, scratch: &scratch) else {
                print("(the \(unit.rawValue) unit's products are OpenBLAS's: not measured here)")
                return
            }
            var best = Double.infinity
            for _ in 0..<runs {
                let start = threadCPUSeconds()
                _ = try form.runProductsAlone(input, shape: shape, output: &output, scratch: &scratch)
                best = min(best, threadCPUSeconds() - start)
            }
            let flops = try Self.operations(of: form, kernel: kernel, shape: shape)
            seconds += best * Double(c.count)
            operations += flops * Double(c.count)
            let gflops = flops / best / 1e9
            print("\(c.name) (x\(c.count))".padding(toLength: 40, withPad: " ", startingAt: 0)
                  + Self.label(form).padding(toLength: 12, withPad: " ", startingAt: 0)
                  + String(format: "%11.3f   %5.0f (%.0f%%)", best * 1000, gflops, 100 * gflops / peak))
        }
        let gflops = operations / seconds / 1e9
        print(String(format: "all convolutions' products, batch 1: %.2f ms, %.0f GFLOP/s, %.0f%% of the one-thread peak",
                     seconds * 1000, gflops, 100 * gflops / peak))
    }

    /// The model's form of each case at batch one, alone and on a team of
    /// `threads`, by the wall clock (least of `runs` after a warm-up): how well
    /// one image's convolutions split between the cores.
    /// - Throws: `KernelError`, as `run` does.
    private static func runTeams(unit: VectorUnit, threads: Int, runs: Int) throws {
        let team = ThreadTeam(size: threads)
        print("")
        print("batch 1, the model's form, wall clock: one thread against a team of \(team.size)")
        print("convolution (x count)                   form        1 thread ms   team ms   speedup")
        var alone = 0.0, together = 0.0
        for c in cases {
            let form = try c.modelForm(unit: unit).form
            let (shape, input) = try c.syntheticInput(batch: 1)
            var output = [Float](), scratch = [Float]()
            func best(_ team: ThreadTeam) throws -> Double {
                for _ in 0..<5 { try form.apply(input, shape: shape, relu: true, output: &output, scratch: &scratch, team: team) }
                var least = Double.infinity
                for _ in 0..<runs {
                    let start = DispatchTime.now().uptimeNanoseconds
                    try form.apply(input, shape: shape, relu: true, output: &output, scratch: &scratch, team: team)
                    least = min(least, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
                }
                return least
            }
            let one = try best(.alone), shared = try best(team)
            alone += one * Double(c.count)
            together += shared * Double(c.count)
            print("\(c.name) (x\(c.count))".padding(toLength: 40, withPad: " ", startingAt: 0)
                  + Self.label(form).padding(toLength: 12, withPad: " ", startingAt: 0)
                  + String(format: "%11.3f %9.3f %8.2fx", one, shared, one / shared))
        }
        print(String(format: "all convolutions, batch 1: %.2f ms on one thread, %.2f ms on %d (%.2fx)",
                     alone, together, team.size, alone / together))
    }
}
