import Foundation
import Testing
import TestSupport
import Inspection

/// `crnn-inspect --stats` on complex, uint16/32/64 and float8 tensors gives
/// what Python's `statistics` module computes from the values torch read
/// (exact sums: a finite `std` where `torch.std` overflows), over both parts
/// of a complex number.
struct WideDTypeStatisticsTests {
    @Test func statisticsMatchPythonsOverTheValuesTorchRead() throws {
        let json = try #require(try Fixtures.json("checkpoints/dtypes_wide_zip.expected.json") as? [String: Any])
        let expected = try #require(json["tensors"] as? [[String: Any]])
        let report = try Inspector.inspect(path: Fixtures.url("checkpoints/dtypes_wide_zip.pt").path, statistics: true)
        #expect(report.tensors.map(\.name) == expected.compactMap { $0["name"] as? String })
        for (index, want) in expected.enumerated() {
            let name = want["name"] as? String ?? "?"
            #expect(report.tensors[index].dtype == want["dtype"] as? String, "\(name)")
            #expect(report.tensors[index].bytes == want["nbytes"] as? Int, "\(name) bytes")
            let stats = try #require(want["stats"] as? [String: Any])
            let mine = try #require(report.tensors[index].stats, "\(name)")
            #expect(mine.nanCount == stats["nan_count"] as? Int, "\(name) NaN count")
            #expect(mine.infCount == stats["inf_count"] as? Int, "\(name) infinity count")
            let low: Double = SafetensorsListing.number(stats["min"]) ?? 0, high: Double = SafetensorsListing.number(stats["max"]) ?? 0
            let scale: Double = Swift.max(Swift.abs(low), Swift.abs(high), 1)
            for (field, value) in [("min", mine.min), ("max", mine.max), ("mean", mine.mean), ("std", mine.std)] {
                let python = try #require(SafetensorsListing.number(stats[field]), "\(name) \(field)")
                let ours = try #require(value, "\(name) \(field)")
                #expect(Swift.abs(ours - python) <= 1e-12 * scale, "\(name) \(field): \(ours) vs \(python)")
            }
        }
    }
}
