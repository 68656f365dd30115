import Foundation
import TestSupport
import Testing

/// A bundle written by fixtures/make_forward_fixtures.py: `<name>.f32` (raw
/// little-endian float32) and `<name>.json` listing each tensor's name, dtype,
/// shape and element offset.
struct FixtureBundle {
    struct Entry {
        let name: String
        let dtype: String
        let shape: [Int]
        let offset: Int
        var count: Int { shape.reduce(1, *) }
    }

    struct MissingEntry: Error, CustomStringConvertible {
        let name: String
        var description: String { "fixture bundle has no tensor \(name)" }
    }

    let entries: [Entry]
    let meta: [String: Any]
    private let data: [Float]
    private let byName: [String: Entry]

    init(_ name: String) throws {
        let manifest = try #require(Fixtures.json("forward/\(name).json") as? [String: Any])
        let tensors = try #require(manifest["tensors"] as? [[String: Any]])
        entries = try tensors.map { item in
            Entry(name: try #require(item["name"] as? String), dtype: try #require(item["dtype"] as? String),
                  shape: try #require(item["shape"] as? [Int]), offset: try #require(item["offset"] as? Int))
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

    func entry(_ name: String) throws -> Entry {
        guard let entry = byName[name] else { throw MissingEntry(name: name) }
        return entry
    }

    func values(_ name: String) throws -> [Float] {
        let entry = try entry(name)
        return Array(data[entry.offset..<(entry.offset + entry.count)])
    }

    func shape(_ name: String) throws -> [Int] { try entry(name).shape }
}

/// The largest absolute difference between `a` and the first `a.count` values of `b`.
func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    guard b.count >= a.count else { return .infinity }
    var worst: Float = 0
    for i in a.indices {
        let d = abs(a[i] - b[i])
        if d.isNaN { return .nan }
        worst = max(worst, d)
    }
    return worst
}
