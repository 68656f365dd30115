public import Conversion
import Foundation

extension InspectionReport {
    /// The report as one JSON document (keys sorted, so output is stable).
    /// - Throws: `ConversionError.reportNotEncodable` if the encoder fails.
    public func json() throws(ConversionError) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do { return String(decoding: try encoder.encode(self), as: UTF8.self) } catch {
            throw .reportNotEncodable(reason: String(describing: error))
        }
    }

    /// The report as a human-readable table grouped by layer: each layer's
    /// line, then its tensors in file order, layers in the order their first
    /// tensor appears (a layer whose tensors are scattered in the file still
    /// gets them all under one line). Columns are as wide as their longest
    /// entry, so long names keep the columns aligned.
    public func table() -> String {
        var lines = ["file: \(file)", "format: \(format)"]
        for detail in details { lines.append("\(detail.key): \(detail.value)") }
        lines.append("")
        let showStats = tensors.contains { $0.stats != nil }
        let shapes = tensors.map { "[" + $0.shape.map(String.init).joined(separator: ", ") + "]" }
        // Rows indent the name by two spaces under the layer line.
        let nameWidth = max(24, (tensors.map { $0.name.count }.max() ?? 0) + 2)
        let dtypeWidth = max(8, tensors.map { $0.dtype.count }.max() ?? 0)
        let shapeWidth = max(18, shapes.map(\.count).max() ?? 0)
        let elementsWidth = max(10, tensors.map { grouped($0.elements).count }.max() ?? 0)
        var header = pad("tensor", nameWidth) + "  " + pad("dtype", dtypeWidth) + "  " + pad("shape", shapeWidth)
            + "  " + leftPad("elements", elementsWidth)
        if showStats { header += "  " + ["min", "max", "mean", "std"].map { leftPad($0, 11) }.joined(separator: " ") + "  nan/inf" }
        lines.append(header)
        var rowsByLayer = [String: [Int]]()
        for (index, tensor) in tensors.enumerated() {
            rowsByLayer[InspectionReport.layerName(of: tensor.name), default: []].append(index)
        }
        for summary in layers {
            lines.append("\(summary.name)  (\(summary.tensors) tensors, \(grouped(summary.elements)) elements, \(bytesText(summary.bytes)))")
            for index in rowsByLayer[summary.name] ?? [] {
                let tensor = tensors[index]
                var row = "  " + pad(tensor.name, nameWidth - 2) + "  " + pad(tensor.dtype, dtypeWidth) + "  "
                    + pad(shapes[index], shapeWidth) + "  " + leftPad(grouped(tensor.elements), elementsWidth)
                if let stats = tensor.stats {
                    row += "  " + [stats.min, stats.max, stats.mean, stats.std].map { leftPad(number($0), 11) }.joined(separator: " ")
                    row += "  \(stats.nanCount)/\(stats.infCount)"
                }
                if let note = Self.note(tensor) { row += "  " + note }
                lines.append(row)
            }
        }
        lines.append("")
        lines.append("total: \(total.tensors) tensors in \(layers.count) layers, \(grouped(total.elements)) elements, \(bytesText(total.bytes))")
        if !passedOver.isEmpty {
            lines.append("also dicts of tensors, passed over for the state_dict: " + passedOver.map { "'\($0)'" }.joined(separator: ", "))
        }
        if let outside = outsideStateDict, outside.count > 0 {
            let places = outside.under.map { "'\($0.key)' (\(grouped($0.count)))" }.joined(separator: ", ")
            lines.append("\(grouped(outside.count)) more \(outside.count == 1 ? "tensor" : "tensors") outside the state_dict, under \(places)"
                + (allTensors == nil ? "; --all lists them" : ""))
        }
        if let allTensors {
            lines.append("")
            lines += everyTensorTable(allTensors)
        }
        return lines.joined(separator: "\n")
    }

    /// `--all`: every tensor in the file by its path, those outside the
    /// state_dict marked.
    private func everyTensorTable(_ all: [LocatedTensorSummary]) -> [String] {
        let pathWidth = max(24, all.map { $0.path.count }.max() ?? 0)
        let dtypeWidth = max(8, all.map { $0.dtype.count }.max() ?? 0)
        var lines = ["every tensor in the file (\(grouped(all.count))), by path; * = outside the state_dict",
                     "  " + pad("path", pathWidth) + "  " + pad("dtype", dtypeWidth) + "  shape"]
        for tensor in all {
            lines.append((tensor.inStateDict ? "  " : "* ") + pad(tensor.path, pathWidth) + "  " + pad(tensor.dtype, dtypeWidth)
                + "  [" + tensor.shape.map(String.init).joined(separator: ", ") + "]")
        }
        return lines
    }

    /// What a sparse or quantized tensor's row adds: its layout and stored
    /// values, or its scheme and parameters.
    static func note(_ tensor: TensorSummary) -> String? {
        if let layout = tensor.layout {
            return "\(layout), \(tensor.storedValues ?? 0) stored \(layout == "sparse_bsr" || layout == "sparse_bsc" ? "blocks" : "values")"
        }
        guard let quantization = tensor.quantization else { return nil }
        if let scale = quantization.scale, let zeroPoint = quantization.zeroPoint {
            return "\(quantization.scheme), scale \(scale), zero point \(zeroPoint)"
        }
        func listed(_ values: [Double]?) -> String {
            guard let values else { return "?" }
            let shown = values.prefix(8).map { String(format: "%g", $0) }.joined(separator: ", ")
            return "[" + shown + (values.count > 8 ? ", ... (\(values.count))" : "") + "]"
        }
        return "\(quantization.scheme) along axis \(quantization.axis ?? 0), scales \(listed(quantization.scales)) "
            + "(\(quantization.scalesDType ?? "?")), zero points \(listed(quantization.zeroPoints)) (\(quantization.zeroPointsDType ?? "?"))"
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    private func leftPad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }

    private func number(_ value: Double?) -> String {
        guard let value else { return "-" }
        return String(format: "%.4g", value)
    }

    private func grouped(_ value: Int) -> String {
        let digits = String(value)
        var out = ""
        for (index, character) in digits.reversed().enumerated() {
            if index > 0 && index % 3 == 0 && character != "-" { out.append(",") }
            out.append(character)
        }
        return String(out.reversed())
    }

    private func bytesText(_ bytes: Int) -> String {
        if bytes < 1024 { return "\(bytes) B" }
        if bytes < 1 << 20 { return String(format: "%.1f KiB", Double(bytes) / 1024) }
        if bytes < 1 << 30 { return String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
        return String(format: "%.2f GiB", Double(bytes) / 1_073_741_824)
    }
}
