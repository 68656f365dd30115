public import Conversion
import Foundation

extension ComparisonReport {
    /// The report as one JSON document (keys sorted; infinities as the
    /// strings "inf" and "-inf", NaN as "nan").
    /// - Throws: `ConversionError.reportNotEncodable` if the encoder fails.
    public func json() throws(ConversionError) -> String {
        do { return try jsonUnchecked() } catch { throw .reportNotEncodable(reason: String(describing: error)) }
    }

    private func jsonUnchecked() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        var object = try JSONSerialization.jsonObject(with: encoder.encode(self)) as? [String: Any] ?? [:]
        object["equal"] = isEqual
        object["summary"] = summary()
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    /// One line: equal, or what differs and by how much at most.
    public func summary() -> String {
        let elements = tensors.reduce(0) { $0 + $1.elements }
        let within = tolerance == 0 ? "exactly" : "within \(Self.number(tolerance))"
        if isEqual {
            return "equal: \(tensors.count) tensors, \(elements) elements, every value \(within)"
        }
        var parts = [String]()
        if !onlyInA.isEmpty { parts.append("\(onlyInA.count) only in A") }
        if !onlyInB.isEmpty { parts.append("\(onlyInB.count) only in B") }
        let mismatched = typeOrShapeDifferences
        if !mismatched.isEmpty { parts.append("\(mismatched.count) with another dtype or shape") }
        let differing = valueDifferences
        if let worst = differing.max(by: { ($0.maxAbsolute ?? 0) < ($1.maxAbsolute ?? 0) }) {
            parts.append("\(differing.count) of \(tensors.count) with values differing (largest absolute difference "
                + "\(Self.number(worst.maxAbsolute ?? 0)) in '\(worst.name)')")
        }
        return "different: " + parts.joined(separator: ", ")
    }

    /// The report as text: names only one file has, dtype or shape
    /// differences, every shared tensor's largest differences, the summary.
    public func table() -> String {
        var lines = ["A: \(fileA)", "B: \(fileB)", "tolerance: " + (tolerance == 0 ? "exact" : Self.number(tolerance)), ""]
        if !onlyInA.isEmpty { lines.append("only in A (\(onlyInA.count)): " + onlyInA.joined(separator: ", ")) }
        if !onlyInB.isEmpty { lines.append("only in B (\(onlyInB.count)): " + onlyInB.joined(separator: ", ")) }
        let width = max(24, tensors.map(\.name.count).max() ?? 0)
        lines.append(Self.pad("tensor", width) + "  " + Self.pad("dtype", 18) + "  " + Self.pad("shape", 24) + "  "
            + ["max abs", "max rel", "differing"].map { Self.leftPad($0, 11) }.joined(separator: " "))
        for tensor in tensors {
            let dtype = tensor.dtypeA == tensor.dtypeB ? tensor.dtypeA : "\(tensor.dtypeA) / \(tensor.dtypeB)"
            let shapeA = "[" + tensor.shapeA.map(String.init).joined(separator: ", ") + "]"
            let shape = tensor.shapeA == tensor.shapeB ? shapeA : shapeA + " / [" + tensor.shapeB.map(String.init).joined(separator: ", ") + "]"
            let numbers = [tensor.maxAbsolute, tensor.maxRelative].map { Self.leftPad($0.map(Self.number) ?? "-", 11) }
            let counted = tensor.shapeA == tensor.shapeB ? "\(tensor.differingElements)/\(tensor.elements)" : "-"
            lines.append(Self.pad(tensor.name, width) + "  " + Self.pad(dtype, 18) + "  " + Self.pad(shape, 24) + "  "
                + numbers.joined(separator: " ") + " " + Self.leftPad(counted, 11) + (tensor.isEqual ? "" : "  *"))
        }
        lines.append("")
        lines.append(summary())
        return lines.joined(separator: "\n")
    }

    private static func number(_ value: Double) -> String {
        value == 0 ? "0" : value.isInfinite ? "inf" : String(format: "%.4g", value)
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    private static func leftPad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }
}
