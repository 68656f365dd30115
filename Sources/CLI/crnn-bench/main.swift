import ArgumentParser
import CLISupport
import CRNN
import Dispatch
import Foundation
import Kernels
import Prediction

/// `crnn-bench`: the Swift model against PyTorch and ONNX Runtime, side by
/// side on this machine (build with -c release; scripts/bench.sh does).
struct CRNNBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crnn-bench",
        abstract: "Measure the Swift CRNN against PyTorch and ONNX Runtime on this machine.",
        discussion: """
            Converts MODEL with crnn-convert (process start to exit, median of 5), then measures the Swift \
            model: single-image latency (median and spread after a warm-up), throughput over 64 images \
            using every thread, a crnn-predict process over 32 images (time and peak memory), the model's \
            floating-point operations and OpenBLAS's measured sgemm rate (the arithmetic lower bound). \
            When python3 can import torch (and onnxruntime), scripts/bench_reference.py measures the same \
            figures for PyTorch eager and ONNX Runtime with the same thread count; ratios are theirs over \
            ours (above 1: Swift is faster or smaller). Prints a table and writes JSON.
            """)

    @Option(help: "The PyTorch model to convert and measure.") var model = "fixtures/model/crnn.pt"
    @Option(help: "A folder of images (the first is used for latency, all cycled to 64 for throughput).")
    var images = "fixtures/samples"
    @Option(help: "Timed runs for latency.") var runs = 200
    @Option(help: "Warm-up runs before timing.") var warmup = 20
    @Option(help: "Threads for every engine.") var threads = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Where to write the JSON results (default outside the tracked tree; bench/results.json is a committed snapshot).") var jsonOut = "out/bench/results.json"
    @Option(help: "The Python interpreter for the PyTorch / ONNX Runtime side.") var python = "python3"
    @Flag(help: "Measure only the Swift model.") var swiftOnly = false
    @Option(help: "Images each thread runs through the trunk together in the throughput run.")
    var imagesPerPass = 1
    @Flag(help: "Instead: time each convolution shape of the model alone, in each form, on one thread; with --threads above 1 (the default on a machine of several cores), also the model's form on one thread against a team.")
    var kernels = false
    @Option(help: "The vector unit to measure: avx512, avx2 or portable (default: the fastest this CPU has). Sets CRNN_VECTOR_UNIT for this run and its children.")
    var unit: String?
    @Option(help: """
        Rounds of latency and throughput, Swift then the peers, alternating (1 to 20). A shared host's speed \
        drifts by tens of percent within a minute: the table shows the round whose latency ratio to ONNX \
        Runtime is the median (to PyTorch without it, by Swift's latency without peers), and lists every \
        round's ratios.
        """)
    var rounds = 1

    func validate() throws {
        guard (1...20).contains(rounds) else { throw ValidationError("--rounds must be 1 to 20, not \(rounds)") }
        if let unit {
            guard let chosen = VectorUnit(rawValue: unit) else {
                throw ValidationError("--unit must be one of \(VectorUnit.allCases.map(\.rawValue).joined(separator: ", ")), not '\(unit)'")
            }
            guard chosen.isAvailable else { throw ValidationError("this CPU cannot run the \(unit) unit") }
        }
    }

    func run() throws {
        // Before anything reads VectorUnit.preferred; the children inherit it.
        if let unit { setenv("CRNN_VECTOR_UNIT", unit, 1) }
        try reportingErrors("crnn-bench") {
            if kernels {
                return try KernelProfile.run(unit: unit.flatMap(VectorUnit.init(rawValue:)) ?? .preferred, threads: threads)
            }
            let binFolder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("crnn-bench-\(getpid())")
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: scratch) }
            let binary = scratch.appendingPathComponent("crnn.bin").path

            // The median of five conversions: one process start is at the mercy of the machine.
            var conversions: [ChildRun] = []
            for _ in 0..<5 {
                let run = try ChildProcess.run(binFolder.appendingPathComponent("crnn-convert").path, [model, binary])
                guard run.status == 0 else { throw BenchError.failed("crnn-convert", run.status) }
                conversions.append(run)
            }
            let convert = conversions.sorted { $0.seconds < $1.seconds }[conversions.count / 2]
            let files = try ImageCollection.expand([images])
            let files64 = (0..<64).map { files[$0 % files.count] }
            // Before this process loads anything: a spawned child's peak memory
            // (wait4's ru_maxrss) includes its parent's at the moment of spawning.
            let predict = try ChildProcess.run(
                binFolder.appendingPathComponent("crnn-predict").path, ["--threads", String(threads), binary] + Array(files64.prefix(32)))
            guard predict.status == 0 else { throw BenchError.failed("crnn-predict", predict.status) }
            let loaded = try ModelLoader.load(path: binary)
            let preparation = Predictor(model: loaded, threads: 1)
            let inputs = try files64.map { path throws in try preparation.input(path: path) }

            // Latency: one image, its layers split between `threads` cores.
            BLASThreads.setCount(1)
            let team = ThreadTeam(size: threads)
            var measured: [Round] = []
            for _ in 0..<rounds {
                let latency = try Timing.measure(runs: runs, warmup: warmup) {
                    _ = try loaded.model.logits(for: inputs[0], team: team)
                }
                let throughput = try Timing.throughput(model: loaded.model, inputs: inputs, threads: threads,
                                                       perPass: imagesPerPass)
                var round = Round(latency: latency, throughput: throughput)
                if !swiftOnly {
                    round.reference = try referenceFigures(scratch: scratch)
                    // The AVX2 unit's peer: PyTorch's kernels held to AVX2 (ATEN_CPU_CAPABILITY=avx2).
                    round.referenceAVX2 = try referenceFigures(scratch: scratch, environment: ["ATEN_CPU_CAPABILITY": "avx2"],
                                                               extraArguments: ["--torch-only"])
                }
                measured.append(round)
            }
            let (shown, chosenBy) = Round.median(of: measured)
            let (latency, throughput) = (shown.latency, shown.throughput)
            guard let cost = CRNNCost(configuration: loaded.model.configuration, height: inputs[0].height,
                                      width: inputs[0].width) else { throw ValidationError("\(model): no layer plan for its trunk widths") }
            let gflops = try BLASThroughput.sgemmGFLOPS(threads: threads)
            // Each unit's arithmetic limit, measured here (register-only multiply-add loops).
            var peaks: [String: Any] = [:]
            for candidate in VectorUnit.allCases where candidate.isAvailable {
                peaks[candidate.rawValue] = ["one_thread_gflops": try ArithmeticPeak.gflops(unit: candidate, threads: 1),
                                             "all_threads_gflops": try ArithmeticPeak.gflops(unit: candidate, threads: threads)]
            }
            // The other limit: the weights a pass streams, against this machine's read rate for a buffer that size.
            let weightBytes = loaded.model.weightBytesPerImage
            let readRate = ["one_thread_gbps": try MemoryReadRate.gigabytesPerSecond(bytes: weightBytes, threads: 1),
                            "all_threads_gbps": try MemoryReadRate.gigabytesPerSecond(bytes: weightBytes, threads: threads)]
            let fileMB = Double((try FileManager.default.attributesOfItem(atPath: binary)[.size] as? Int) ?? 0) / 1_048_576

            var results: [String: Any] = [
                "machine": ["cores": ProcessInfo.processInfo.activeProcessorCount, "threads": threads,
                            "openblas_core": BLASThreads.coreName, "vector_unit": VectorUnit.preferred.rawValue,
                            "cpu": CPUDescription.current.json],
                "model": ["file": model, "bin_megabytes": fileMB, "flops_per_image": cost.total,
                          "flops_hidden_products_skipped_at_batch_one": cost.recurrentHidden,
                          "flops_performed_per_image": cost.performed,
                          "convolution_flops_performed_per_image": cost.convolutionPerformed,
                          "weight_bytes_read_per_image": weightBytes],
                "peaks": peaks,
                "read_rate": readRate,
                "sgemm_gflops": gflops,
                "lower_bound_ms": Double(cost.total) / (gflops * 1e9) * 1000,
                "swift": ["latency_ms": latency.json, "throughput_images_per_s": throughput,
                          "throughput_images_per_pass": imagesPerPass,
                          "convert_seconds": convert.seconds,
                          "process_32_images": ["seconds": predict.seconds, "peak_rss_mb": predict.peakMegabytes]],
            ]
            if let reference = shown.reference { results["reference"] = reference }
            if let referenceAVX2 = shown.referenceAVX2 { results["reference_avx2"] = referenceAVX2 }
            if rounds > 1 {
                results["rounds"] = measured.map(\.json)
                results["rounds_shown_by"] = chosenBy
            }
            let report = Report(results: results)
            print(report.table())
            let url = URL(fileURLWithPath: jsonOut)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try JSONSerialization.data(withJSONObject: results, options: [.prettyPrinted, .sortedKeys]).write(to: url)
            print("\nresults written to \(jsonOut)")
        }
    }

    private func referenceFigures(scratch: URL, environment: [String: String] = [:],
                                  extraArguments: [String] = []) throws -> [String: Any] {
        guard let pythonPath = ProcessInfo.processInfo.environment["PATH"]?.split(separator: ":")
            .map({ "\($0)/\(python)" }).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            return ["torch": ["available": false, "reason": "\(python) not found"]]
        }
        StandardError.write("crnn-bench: measuring PyTorch and ONNX Runtime (this takes a minute)...")
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("scripts/bench_reference.py").path
        let run = try ChildProcess.run(pythonPath, [script, "--model", model, "--images", images, "--threads", String(threads),
                                                    "--runs", String(runs), "--warmup", String(warmup)] + extraArguments,
                                       environment: environment)
        guard run.status == 0, let data = run.output.split(separator: "\n").last.map({ Data($0.utf8) }),
              let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            return ["torch": ["available": false, "reason": "bench_reference.py failed (status \(run.status))"]]
        }
        return object
    }
}

/// One round of the side-by-side measurement: Swift's latency and
/// throughput, then the peers' figures (bench_reference.py's JSON) when measured.
struct Round {
    let latency: LatencySummary
    let throughput: Double
    var reference: [String: Any]?
    var referenceAVX2: [String: Any]?

    /// A peer's figure: `engine` is "torch" or "onnxruntime" in `reference`.
    private static func figure(_ reference: [String: Any]?, _ engine: String, _ path: String...) -> Double? {
        var node: Any? = reference?[engine]
        for key in path { node = (node as? [String: Any])?[key] }
        return (node as? NSNumber)?.doubleValue
    }

    /// A peer's median latency over Swift's (above 1: Swift is faster), when
    /// it was measured; `engine` is "onnxruntime" or "torch".
    func latencyRatio(to engine: String) -> Double? {
        Self.figure(reference, engine, "latency_ms", "median").map { $0 / latency.median }
    }

    /// The round to show and what it was chosen by: the median latency ratio
    /// to ONNX Runtime among the rounds that measured it; else to PyTorch;
    /// else Swift's median latency (the lower middle for an even count).
    static func median(of rounds: [Round]) -> (round: Round, chosenBy: String) {
        func middle(_ ranked: [(Round, Double)]) -> Round { ranked.sorted { $0.1 < $1.1 }[(ranked.count - 1) / 2].0 }
        let toONNXRuntime = rounds.compactMap { round in round.latencyRatio(to: "onnxruntime").map { (round, $0) } }
        if !toONNXRuntime.isEmpty { return (middle(toONNXRuntime), "latency ratio to ONNX Runtime") }
        let toPyTorch = rounds.compactMap { round in round.latencyRatio(to: "torch").map { (round, $0) } }
        if !toPyTorch.isEmpty { return (middle(toPyTorch), "latency ratio to PyTorch") }
        return (middle(rounds.map { ($0, $0.latency.median) }), "Swift's latency")
    }

    /// The round's figures for the JSON's `rounds` list (ratios: theirs over Swift's).
    var json: [String: Any] {
        var entry: [String: Any] = ["swift_latency_ms": latency.median, "swift_throughput_images_per_s": throughput]
        let peers = [("onnxruntime", Self.figure(reference, "onnxruntime", "latency_ms", "median"),
                      Self.figure(reference, "onnxruntime", "throughput_images_per_s")),
                     ("torch", Self.figure(reference, "torch", "latency_ms", "median"),
                      Self.figure(reference, "torch", "throughput_images_per_s")),
                     ("torch_avx2", Self.figure(referenceAVX2, "torch", "latency_ms", "median"),
                      Self.figure(referenceAVX2, "torch", "throughput_images_per_s"))]
        for (name, peerLatency, peerThroughput) in peers {
            if let peerLatency {
                entry["\(name)_latency_ms"] = peerLatency
                entry["\(name)_latency_ratio"] = peerLatency / latency.median
            }
            if let peerThroughput, peerThroughput > 0 {
                entry["\(name)_throughput_images_per_s"] = peerThroughput
                entry["\(name)_throughput_ratio"] = throughput / peerThroughput
            }
        }
        return entry
    }
}

/// Latency samples and their summary.
struct LatencySummary {
    let median: Double
    let p10: Double
    let p90: Double
    let runs: Int
    var json: [String: Any] { ["median": median, "p10": p10, "p90": p90, "runs": runs] }
}

enum Timing {
    static func measure(runs: Int, warmup: Int, _ body: () throws -> Void) throws -> LatencySummary {
        for _ in 0..<warmup { try body() }
        var samples = [Double]()
        for _ in 0..<max(1, runs) {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        samples.sort()
        let pick = { (q: Double) in samples[min(samples.count - 1, Int(q * Double(samples.count)))] }
        return LatencySummary(median: pick(0.5), p10: pick(0.1), p90: pick(0.9), runs: samples.count)
    }

    /// Images per second over `inputs`: each thread takes `perPass` images at
    /// a time (each still its own batch of one) with single-threaded products.
    static func throughput(model: CRNNModel, inputs: [CRNNInput], threads: Int, perPass: Int) throws -> Double {
        BLASThreads.setCount(1)
        let passes = stride(from: 0, to: inputs.count, by: max(1, perPass)).map {
            Array(inputs[$0..<min($0 + max(1, perPass), inputs.count)])
        }
        for pass in passes.prefix(threads) { _ = try model.logits(for: pass) }
        let next = NSLock()
        nonisolated(unsafe) var index = 0
        let start = DispatchTime.now().uptimeNanoseconds
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            while true {
                next.lock()
                let mine = index
                index += 1
                next.unlock()
                guard mine < passes.count else { return }
                _ = try? model.logits(for: passes[mine])
            }
        }
        return Double(inputs.count) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
}

CRNNBench.main()
