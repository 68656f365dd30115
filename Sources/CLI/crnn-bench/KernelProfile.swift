import Foundation
import Kernels

/// `crnn-bench --kernels`: every convolution shape of the reference CRNN
/// (50x200 input) timed alone, in each form the kernels offer, on one thread
/// (thread CPU time, so other load on the machine matters less). Synthetic
/// weights: this measures speed, not results.
enum KernelProfile {
    struct Case {
        let name: String
        let inChannels: Int, outChannels: Int, kernel: Int, stride: Int, height: Int, width: Int
        let count: Int
    }

    static let cases = [
        Case(name: "stem 7x7 s2", inChannels: 3, outChannels: 64, kernel: 7, stride: 2, height: 50, width: 200, count: 1),
        Case(name: "layer1 3x3", inChannels: 64, outChannels: 64, kernel: 3, stride: 1, height: 13, width: 50, count: 4),
        Case(name: "layer2.0.conv1 3x3 s2", inChannels: 64, outChannels: 128, kernel: 3, stride: 2, height: 13, width: 50, count: 1),
        Case(name: "layer2 3x3", inChannels: 128, outChannels: 128, kernel: 3, stride: 1, height: 7, width: 25, count: 3),
        Case(name: "layer2 downsample 1x1 s2", inChannels: 64, outChannels: 128, kernel: 1, stride: 2, height: 13, width: 50, count: 1),
        Case(name: "layer3.0.conv1 3x3 s2", inChannels: 128, outChannels: 256, kernel: 3, stride: 2, height: 7, width: 25, count: 1),
        Case(name: "layer3 + cn6 3x3", inChannels: 256, outChannels: 256, kernel: 3, stride: 1, height: 4, width: 13, count: 4),
        Case(name: "layer3 downsample 1x1 s2", inChannels: 128, outChannels: 256, kernel: 1, stride: 2, height: 7, width: 25, count: 1),
    ]

    static func threadSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    /// Prints a table: per case and batch size, milliseconds per image for
    /// each form on `unit`.
    static func run(unit: VectorUnit, batches: [Int] = [1, 4], runs: Int = 50) throws {
        BLASThreads.setCount(1)
        print("vector unit: \(unit.rawValue)")
        print("convolution (x count)             batch   im2col ms/img   winograd ms/img   GFLOP/s (best)")
        var totals = [Int: (Double, Double)]()
        for c in cases {
            let padding = c.kernel / 2
            let weights = (0..<(c.outChannels * c.inChannels * c.kernel * c.kernel)).map { Float(($0 % 7) - 3) * 0.01 }
            let kernel = try ConvolutionKernel(outChannels: c.outChannels, inChannels: c.inChannels, kernel: c.kernel,
                                               stride: c.stride, padding: padding, weights: weights)
            var forms: [Convolution] = [try .im2colForm(of: kernel, unit: unit)]
            if WinogradConvolution.supports(kernel) { forms.append(.winograd(try WinogradConvolution(kernel, unit: unit))) }
            for batch in batches {
                let shape = try FeatureShape(batch: batch, channels: c.inChannels, height: c.height, width: c.width)
                let input = (0..<shape.count).map { Float($0 % 13) * 0.1 }
                var output = [Float](), scratch = [Float]()
                var times = [Double]()
                for form in forms {
                    for _ in 0..<3 { try form.apply(input, shape: shape, relu: true, output: &output, scratch: &scratch) }
                    var best = Double.infinity
                    for _ in 0..<runs {
                        let start = threadSeconds()
                        try form.apply(input, shape: shape, relu: true, output: &output, scratch: &scratch)
                        best = min(best, threadSeconds() - start)
                    }
                    times.append(best * 1000 / Double(batch))
                }
                let out = try kernel.outputShape(for: shape)
                let flops = 2.0 * Double(kernel.reductionLength * out.planeCount * c.outChannels)
                let fastest = times.min() ?? 1
                var total = totals[batch] ?? (0, 0)
                total.0 += times[0] * Double(c.count)
                total.1 += (times.count > 1 ? times[1] : times[0]) * Double(c.count)
                totals[batch] = total
                let label = "\(c.name) (x\(c.count))"
                let winograd = times.count > 1 ? String(format: "%.3f", times[1]) : "-"
                print(label.padding(toLength: 34, withPad: " ", startingAt: 0)
                      + String(format: "%5d   %13.3f   ", batch, times[0])
                      + String(repeating: " ", count: max(0, 15 - winograd.count)) + winograd
                      + String(format: "   %.0f", flops / (fastest / 1000) / 1e9))
            }
        }
        for batch in batches.sorted() {
            if let (direct, best) = totals[batch] {
                print(String(format: "all convolutions, batch %d: im2col %.2f ms/img, with winograd %.2f ms/img", batch, direct, best))
            }
        }
    }
}
