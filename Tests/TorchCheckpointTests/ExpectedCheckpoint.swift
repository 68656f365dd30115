import Foundation
import TestSupport

/// What PyTorch read from a fixture checkpoint (`NAME.expected.json`, written
/// by fixtures/make_checkpoints.py).
struct ExpectedCheckpoint {
    struct ExpectedTensor {
        let name: String
        let dtype: String
        let shape: [Int]
        let stride: [Int]
        let storageOffset: Int
        let numel: Int
        /// `nil` when PyTorch's sum is NaN.
        let sum: Double?
        let nanCount: Int
        let head: [Double]
        let tail: [Double]
    }

    let file: String
    let layout: String
    let wrapperKey: String?
    let prefixStripped: String?
    let error: String?
    let topLevelKeys: [String]
    let tensors: [ExpectedTensor]
    let json: [String: Any]

    /// Every `*.expected.json` directly inside `fixtures/<folder>`.
    static func all(in folder: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: Fixtures.url(folder).path)
            .filter { $0.hasSuffix(".expected.json") }.sorted().map { folder + "/" + $0 }
    }

    init(_ relativePath: String) throws {
        let json = try Fixtures.json(relativePath) as? [String: Any] ?? [:]
        self.json = json
        file = relativePath.replacingOccurrences(of: ".expected.json", with: ".pt")
        layout = json["layout"] as? String ?? ""
        wrapperKey = json["wrapper_key"] as? String
        prefixStripped = json["prefix_stripped"] as? String
        error = json["error"] as? String
        topLevelKeys = json["top_level_keys"] as? [String] ?? []
        tensors = (json["tensors"] as? [[String: Any]] ?? []).map { tensor in
            ExpectedTensor(
                name: tensor["name"] as? String ?? "", dtype: tensor["dtype"] as? String ?? "",
                shape: tensor["shape"] as? [Int] ?? [], stride: tensor["stride"] as? [Int] ?? [],
                storageOffset: tensor["storage_offset"] as? Int ?? -1, numel: tensor["numel"] as? Int ?? -1,
                sum: ExpectedCheckpoint.number(tensor["sum"]), nanCount: tensor["nan_count"] as? Int ?? 0,
                head: (tensor["head"] as? [Any] ?? []).compactMap(ExpectedCheckpoint.number),
                tail: (tensor["tail"] as? [Any] ?? []).compactMap(ExpectedCheckpoint.number))
        }
    }

    /// A JSON number, or "inf"/"-inf"/"nan" written as strings; bools as 0/1.
    static func number(_ value: Any?) -> Double? { SafetensorsListing.number(value) }
}
