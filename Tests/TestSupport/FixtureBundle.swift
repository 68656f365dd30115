import TensorCore
import Foundation

/// A bundle written by fixtures/make_forward_fixtures.py: `<name>.f32` (raw
/// little-endian float32) and `<name>.json` listing each tensor's name, dtype,
/// shape and element offset.
public struct FixtureBundle {
    public struct Entry {
        public let name: String
        public let dtype: String
        public let shape: [Int]
        public let offset: Int
        public var count: Int { shape.reduce(1, *) }
    }

    public struct MissingEntry: Error, CustomStringConvertible {
        let name: String
        public var description: String { "fixture bundle has no tensor \(name)" }
    }

    public let entries: [Entry]
    public let meta: [String: Any]
    private let data: [Float]
    private let byName: [String: Entry]

    /// `value`, or an error naming what the manifest lacks.
    static func required<T>(_ value: T?) throws -> T {
        guard let value else { throw MissingEntry(name: "a manifest field of type \(T.self)") }
        return value
    }

    public init(_ name: String) throws {
        let manifest = try FixtureBundle.required(Fixtures.json("forward/\(name).json") as? [String: Any])
        let tensors = try FixtureBundle.required(manifest["tensors"] as? [[String: Any]])
        entries = try tensors.map { item in
            Entry(name: try FixtureBundle.required(item["name"] as? String), dtype: try FixtureBundle.required(item["dtype"] as? String),
                  shape: try FixtureBundle.required(item["shape"] as? [Int]), offset: try FixtureBundle.required(item["offset"] as? Int))
        }
        meta = manifest["meta"] as? [String: Any] ?? [:]
        let bytes = try Data(contentsOf: Fixtures.url("forward/\(name).f32"))
        data = bytes.withUnsafeBytes { raw in
            (0..<(raw.count / 4)).map {
                Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))
            }
        }
        byName = Dictionary(entries.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public func entry(_ name: String) throws -> Entry {
        guard let entry = byName[name] else { throw MissingEntry(name: name) }
        return entry
    }

    public func values(_ name: String) throws -> [Float] {
        let entry = try entry(name)
        return Array(data[entry.offset..<(entry.offset + entry.count)])
    }

    public func shape(_ name: String) throws -> [Int] { try entry(name).shape }
}

/// The largest absolute difference between `a` and the first `a.count` values of `b`.
public func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    guard b.count >= a.count else { return .infinity }
    var worst: Float = 0
    for i in a.indices {
        let d = abs(a[i] - b[i])
        if d.isNaN { return .nan }
        worst = max(worst, d)
    }
    return worst
}


extension FixtureBundle {
    /// The bundle's tensors as a state_dict in file order; entries whose dtype
    /// is "int64" (stored as float32 in the bundle) become int64 tensors again.
    public func stateDict() throws -> StateDict {
        var entriesOut: [(name: String, tensor: Tensor)] = []
        for entry in entries {
            let values = try values(entry.name)
            if entry.dtype == "int64" {
                let bytes = values.flatMap { value -> [UInt8] in
                    withUnsafeBytes(of: Int64(value).littleEndian) { Array($0) }
                }
                entriesOut.append((entry.name, try Tensor(dtype: .int64, shape: entry.shape, bytes: bytes)))
            } else {
                entriesOut.append((entry.name, try Tensor(float32: values, shape: entry.shape)))
            }
        }
        return StateDict(entriesOut)
    }
}

/// For `y = bias + x Wᵀ` (`x` is `[rows, in]`, `W` `[out, in]`), how far two
/// evaluations that add the terms of each output in different orders may
/// differ in Float arithmetic: each may be off the exact sum by
/// `γ(n) · Σ|term|` with `n` = in + 1 terms and `γ(n) = n·u / (1 - n·u)`,
/// `u = 2⁻²⁴` (Higham, *Accuracy and Stability of Numerical Algorithms*,
/// §3.1), so two of them by twice that. One bound per output, `[rows, out]`.
public func dotProductReorderingBounds(_ x: [Float], rows: Int, weights: [Float], bias: [Float]) -> [Float] {
    let outputs = bias.count, inputs = weights.count / max(outputs, 1)
    let unitRoundoff = Double(Float.ulpOfOne) / 2
    let terms = Double(inputs + 1)
    let gamma = terms * unitRoundoff / (1 - terms * unitRoundoff)
    var bounds = [Float](repeating: 0, count: rows * outputs)
    for r in 0..<rows {
        for o in 0..<outputs {
            var magnitude = Double(abs(bias[o]))
            for i in 0..<inputs { magnitude += Double(abs(x[r * inputs + i] * weights[o * inputs + i])) }
            bounds[r * outputs + o] = Float(2 * gamma * magnitude)
        }
    }
    return bounds
}
