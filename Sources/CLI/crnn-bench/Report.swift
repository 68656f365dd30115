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
        let engines = [("Swift", ["swift"]), ("PyTorch", ["reference", "torch"]), ("ONNX Runtime", ["reference", "onnxruntime"])]
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
        if let flops = number("model", "flops_per_image"), let gflops = number("sgemm_gflops"),
           let bound = number("lower_bound_ms"), let median = number("swift", "latency_ms", "median") {
            let core = (results["machine"] as? [String: Any])?["openblas_core"] as? String ?? "unknown"
            lines.append(String(format: "model: %.1f MFLOP per image; OpenBLAS sgemm (%@ kernels) %.0f GFLOP/s here; arithmetic lower bound %.2f ms;",
                                flops / 1e6, core, gflops, bound))
            let unit = (results["machine"] as? [String: Any])?["vector_unit"] as? String ?? "unknown"
            lines.append(String(format: "Swift latency is %.2fx the bound (Swift kernels: %@ unit; the bound counts the direct convolutions' multiply-adds, which Winograd reduces)",
                                median / bound, unit))
        }
        if let size = number("model", "bin_megabytes"), let peak = number("swift", "process_32_images", "peak_rss_mb") {
            lines.append(String(format: "model file %.1f MB; crnn-predict peak memory %.1f MB = file + %.1f MB", size, peak, peak - size))
        }
        if let version = (results["reference"] as? [String: Any]).flatMap({ ($0["torch"] as? [String: Any])?["version"] }) {
            lines.append("PyTorch \(version)" + ((results["reference"] as? [String: Any]).flatMap {
                ($0["onnxruntime"] as? [String: Any])?["version"] }.map { ", ONNX Runtime \($0)" } ?? ""))
        }
        lines.append("ratios: theirs over Swift's (above 1: Swift is faster or smaller)")
        return lines.joined(separator: "\n")
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
}
