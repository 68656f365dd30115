import Foundation

/// The benchmark's table, from its JSON results.
struct Report {
    let results: [String: Any]

    private func number(_ path: String...) -> Double? {
        var node: Any? = results
        for key in path { node = (node as? [String: Any])?[key] }
        return (node as? NSNumber)?.doubleValue
    }

    private func cell(_ value: Double?, _ format: String, ratioTo swift: Double?, higherIsBetter: Bool = false) -> String {
        guard let value else { return "-" }
        var text = String(format: format, value)
        if let swift, swift > 0, value > 0 {
            text += String(format: " (%.2fx)", higherIsBetter ? swift / value : value / swift)
        }
        return text
    }

    func table() -> String {
        let engines = [("Swift", ["swift"]), ("PyTorch", ["reference", "torch"]), ("ONNX Runtime", ["reference", "onnxruntime"]),
                       ("PyTorch (AVX2)", ["reference_avx2", "torch"])]
        func value(_ engine: [String], _ path: [String]) -> Double? {
            var node: Any? = results
            for key in engine + path { node = (node as? [String: Any])?[key] }
            return (node as? NSNumber)?.doubleValue
        }
        let rows: [(String, [String], String, Bool)] = [
            ("latency, median (ms)", ["latency_ms", "median"], "%.2f", false),
            ("latency, p10 (ms)", ["latency_ms", "p10"], "%.2f", false),
            ("latency, p90 (ms)", ["latency_ms", "p90"], "%.2f", false),
            ("throughput, 64 images (img/s)", ["throughput_images_per_s"], "%.0f", true),
            ("32 images, process start to exit (s)", ["process_32_images", "seconds"], "%.3f", false),
            ("32 images, peak memory (MB)", ["process_32_images", "peak_rss_mb"], "%.0f", false),
        ]
        var lines = ["", pad("", 40) + engines.map { pad($0.0, 22) }.joined()]
        for (label, path, format, higher) in rows {
            let swift = value(["swift"], path)
            lines.append(pad(label, 40) + engines.map { engine in
                pad(cell(value(engine.1, path), format, ratioTo: engine.0 == "Swift" ? nil : swift, higherIsBetter: higher), 22)
            }.joined())
        }
        let convert = number("swift", "convert_seconds")
        let load = number("reference", "torch", "load_seconds")
        lines.append(pad("convert vs torch.load, start to exit (s)", 40) + pad(cell(convert, "%.3f", ratioTo: nil), 22)
                     + pad(cell(load, "%.3f", ratioTo: convert), 22))
        lines.append("")
        let machine = results["machine"] as? [String: Any] ?? [:]
        if let cpu = machine["cpu"] as? [String: Any] {
            lines.append("CPU: \(cpu["vendor"] ?? "?") \(cpu["model_name"] ?? "?") (family \(cpu["family"] ?? "?"), model \(cpu["model"] ?? "?")), "
                         + "\(machine["cores"] ?? "?") cores, \(machine["threads"] ?? "?") threads; Swift on the \(machine["vector_unit"] ?? "?") unit")
        }
        let unit = machine["vector_unit"] as? String ?? ""
        if let peaks = results["peaks"] as? [String: Any] {
            let listed = ["avx512", "avx2", "portable"].compactMap { name -> String? in
                guard let peak = peaks[name] as? [String: Any], let one = (peak["one_thread_gflops"] as? NSNumber)?.doubleValue,
                      let all = (peak["all_threads_gflops"] as? NSNumber)?.doubleValue else { return nil }
                return String(format: "%@ %.0f (1 thread) / %.0f (all)", name, one, all)
            }
            lines.append("arithmetic peak, register-only multiply-add loops, GFLOP/s: " + listed.joined(separator: "; "))
        }
        if let performed = number("model", "flops_performed_per_image"), let convolution = number("model", "convolution_flops_performed_per_image"),
           let direct = number("model", "flops_per_image") {
            lines.append(String(format: "work per image as performed: %.1f MFLOP (convolutions %.1f, Winograd counted as the kernels run it; direct count of the whole model %.1f)",
                                performed / 1e6, convolution / 1e6, direct / 1e6))
            if let peak = ((results["peaks"] as? [String: Any])?[unit] as? [String: Any])?["all_threads_gflops"] as? NSNumber {
                if let median = number("swift", "latency_ms", "median") {
                    let rate = performed / (median / 1000) / 1e9
                    lines.append(String(format: "Swift latency: %.0f GFLOP/s, %.0f%% of the %@ peak on all threads", rate, 100 * rate / peak.doubleValue, unit))
                }
                if let throughput = number("swift", "throughput_images_per_s") {
                    let rate = performed * throughput / 1e9
                    lines.append(String(format: "Swift throughput: %.0f GFLOP/s, %.0f%% of the %@ peak on all threads", rate, 100 * rate / peak.doubleValue, unit))
                }
            }
        }
        if let bytes = number("model", "weight_bytes_read_per_image"), let one = number("read_rate", "one_thread_gbps"),
           let all = number("read_rate", "all_threads_gbps"), bytes > 0, one > 0, all > 0 {
            lines.append(String(format: "weights read per image (batch one, as the kernels store them): %.1f MB; a buffer that size reads at %.1f GB/s on one thread, %.1f on all;",
                                bytes / 1_048_576, one, all))
            var streaming = String(format: "at that rate streaming them takes %.2f ms per image on one thread, and a throughput of %.0f img/s would read all of it",
                                   bytes / (one * 1e9) * 1000, all * 1e9 / bytes)
            // Several images per pass read the trunk's and head's weights once per pass.
            let perPass = max(1, number("swift", "throughput_images_per_pass") ?? 1)
            if let throughput = number("swift", "throughput_images_per_s"), perPass == 1 {
                streaming += String(format: "; Swift's throughput streams %.1f GB/s, %.0f%% of it", throughput * bytes / 1e9,
                                    100 * throughput * bytes / (all * 1e9))
            }
            lines.append(streaming)
        }
        if let flops = number("model", "flops_per_image"), let gflops = number("sgemm_gflops"),
           let bound = number("lower_bound_ms"), let median = number("swift", "latency_ms", "median") {
            let core = (results["machine"] as? [String: Any])?["openblas_core"] as? String ?? "unknown"
            lines.append(String(format: "model: %.1f MFLOP per image; OpenBLAS sgemm (%@ kernels) %.0f GFLOP/s here; arithmetic lower bound %.2f ms;",
                                flops / 1e6, core, gflops, bound))
            lines.append(String(format: "Swift latency is %.2fx that bound (it counts the direct convolutions' multiply-adds, which Winograd reduces, at OpenBLAS's rate, which follows OPENBLAS_CORETYPE)",
                                median / bound))
        }
        if let size = number("model", "bin_megabytes"), let peak = number("swift", "process_32_images", "peak_rss_mb") {
            lines.append(String(format: "model file %.1f MB; crnn-predict peak memory %.1f MB = file + %.1f MB", size, peak, peak - size))
        }
        if let version = (results["reference"] as? [String: Any]).flatMap({ ($0["torch"] as? [String: Any])?["version"] }) {
            lines.append("PyTorch \(version)" + ((results["reference"] as? [String: Any]).flatMap {
                ($0["onnxruntime"] as? [String: Any])?["version"] }.map { ", ONNX Runtime \($0)" } ?? ""))
        }
        if let rounds = results["rounds"] as? [[String: Any]] {
            let chosenBy = results["rounds_shown_by"] as? String ?? "latency ratio to ONNX Runtime"
            lines.append("rounds (Swift, then the peers; the table shows the median round by \(chosenBy)):")
            for (index, round) in rounds.enumerated() {
                func figure(_ key: String) -> Double? { (round[key] as? NSNumber)?.doubleValue }
                var text = String(format: "  %d: Swift %.2f ms, %.0f img/s", index + 1, figure("swift_latency_ms") ?? 0,
                                  figure("swift_throughput_images_per_s") ?? 0)
                for (name, key) in [("ONNX Runtime", "onnxruntime"), ("PyTorch", "torch"), ("PyTorch (AVX2)", "torch_avx2")] {
                    guard let peer = figure("\(key)_latency_ms"), let ratio = figure("\(key)_latency_ratio") else { continue }
                    text += String(format: "; %@ %.2f ms (%.2fx)", name, peer, ratio)
                    if let rate = figure("\(key)_throughput_images_per_s"), let speedup = figure("\(key)_throughput_ratio") {
                        text += String(format: ", %.0f img/s (%.2fx)", rate, speedup)
                    }
                }
                lines.append(text)
            }
        }
        lines.append("ratios: theirs over Swift's (above 1: Swift is faster or smaller)")
        return lines.joined(separator: "\n")
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
}
