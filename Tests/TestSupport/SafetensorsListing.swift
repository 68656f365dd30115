import Foundation
import TensorCore

/// What torch (or the stdlib fixture script) says a file holds: a
/// `NAME.expected.json` beside the safetensors fixtures, or one case of
/// `safetensors/hostile/manifest.json` (fixtures/make_safetensors_fixtures.py
/// and make_hostile_safetensors.py write them).
public struct SafetensorsListing {
    /// One tensor: name, PyTorch dtype name, shape and its values in row-major order.
    public struct Entry {
        /// The tensor's name.
        public let name: String
        /// PyTorch's dtype name (`float32`, `bfloat16`, ...).
        public let dtype: String
        /// The shape; empty for a scalar.
        public let shape: [Int]
        /// The values (or the first ones, see `valuesArePrefixes`).
        public let values: [Double]
    }

    /// The file's `__metadata__`.
    public let metadata: [String: String]
    /// The tensors in the file's order.
    public let entries: [Entry]
    /// True when `values` hold only each tensor's first elements.
    public let valuesArePrefixes: Bool

    /// The listing in a decoded JSON object.
    public init(json: [String: Any]) {
        metadata = json["metadata"] as? [String: String] ?? [:]
        valuesArePrefixes = json["values_listed"] != nil
        entries = (json["tensors"] as? [[String: Any]] ?? []).map { tensor in
            Entry(name: tensor["name"] as? String ?? "", dtype: tensor["dtype"] as? String ?? "",
                  shape: tensor["shape"] as? [Int] ?? [],
                  values: (tensor["values"] as? [Any] ?? []).compactMap(SafetensorsListing.number))
        }
    }

    /// The listing in `fixtures/relativePath`.
    public init(_ relativePath: String) throws {
        self.init(json: try Fixtures.json(relativePath) as? [String: Any] ?? [:])
    }

    /// Every way `stateDict` differs from the listing (names in order,
    /// dtypes, shapes, values); empty when it matches. `sameOrder: false`
    /// compares the names as a set.
    public func mismatches(_ stateDict: StateDict, sameOrder: Bool = true) -> [String] {
        var problems = [String]()
        let names = entries.map(\.name)
        if sameOrder ? stateDict.names != names : Set(stateDict.names) != Set(names) || stateDict.count != names.count {
            problems.append("names \(stateDict.names), expected \(names)")
        }
        for want in entries {
            guard let tensor = stateDict[want.name] else { problems.append("no tensor '\(want.name)'"); continue }
            if tensor.dtype.rawValue != want.dtype { problems.append("\(want.name): dtype \(tensor.dtype.rawValue), expected \(want.dtype)") }
            if tensor.shape != want.shape { problems.append("\(want.name): shape \(tensor.shape), expected \(want.shape)") }
            let values = tensor.doubleValues()
            let compared = valuesArePrefixes ? Array(values.prefix(want.values.count)) : values
            if !compared.elementsEqual(want.values, by: SafetensorsListing.same) { problems.append("\(want.name): values differ") }
        }
        return problems
    }

    /// A JSON number, or "inf"/"-inf"/"nan" written as strings; bools as 0/1.
    public static func number(_ value: Any?) -> Double? {
        switch value {
        case let bool as Bool: return bool ? 1 : 0
        case let number as NSNumber: return number.doubleValue
        case let text as String:
            switch text {
            case "inf": return .infinity
            case "-inf": return -.infinity
            case "nan": return .nan
            default: return Double(text)
            }
        default: return nil
        }
    }

    /// Equal, both NaN, or within the last bits Foundation's JSON parser on
    /// Linux may misround.
    public static func same(_ a: Double, _ b: Double) -> Bool {
        a == b || (a.isNaN && b.isNaN) || abs(a - b) <= 1e-14 * max(abs(a), abs(b))
    }
}
