import Foundation
import Testing
import TensorCore
@testable import Inspection

/// `--json` stats hold every field, `null` where a statistic is undefined, as
/// the README's schema says.
@Suite struct StatisticsJSONTests {
    static func json(_ values: [Float]) throws -> [String: Any] {
        let statistics = TensorStatistics(of: try Tensor(float32: values, shape: [values.count]))
        let data = try JSONEncoder().encode(statistics)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func undefinedStatisticsAreNull() throws {
        let nothingFinite = try Self.json([.nan, .infinity])
        #expect(Set(nothingFinite.keys) == ["min", "max", "mean", "std", "nanCount", "infCount"])
        for key in ["min", "max", "mean", "std"] { #expect(nothingFinite[key] is NSNull, "\(key)") }
        #expect(nothingFinite["nanCount"] as? Int == 1 && nothingFinite["infCount"] as? Int == 1)

        let one = try Self.json([2.5])
        #expect(one["min"] as? Double == 2.5 && one["mean"] as? Double == 2.5 && one["std"] is NSNull)
        let two = try Self.json([1, 3])
        #expect(two["std"] as? Double == 2.0.squareRoot())
        // And the report decodes back to what it was.
        let statistics = TensorStatistics(of: try Tensor(float32: [.nan], shape: [1]))
        #expect(try JSONDecoder().decode(TensorStatistics.self, from: try JSONEncoder().encode(statistics)) == statistics)
    }
}
