import Testing
import TestSupport
@testable import CRNN

/// The FLOP count the benchmark reports equals PyTorch's FlopCounterMode.
@Suite struct CRNNCostTests {
    @Test func matchesPyTorchsFlopCounter() throws {
        let json = try #require(try Fixtures.json("model/flops.json") as? [String: Any])
        let cases = try #require(json["cases"] as? [[String: Any]])
        #expect(cases.count == 6)
        for entry in cases {
            let config = entry["config"] as? [String: Any] ?? [:]
            let configuration = CRNNConfiguration(
                trunkWidths: config["widths"] as? [Int] ?? [64, 128, 256], featureRows: 4,
                rnnInputSize: config["rnn_input"] as? Int ?? 256, hiddenSize: config["hidden_size"] as? Int ?? 256,
                vocabularySize: 37)
            let height = try #require(entry["height"] as? Int)
            let width = try #require(entry["width"] as? Int)
            let cost = try #require(CRNNCost(configuration: configuration, height: height, width: width))
            #expect(cost.total == entry["flops"] as? Int, "\(config) \(height)x\(width)")
        }
    }

    @Test func widthsThatMakeNoPlanGiveNoCount() {
        for widths in [[64, 128], [64, 0, 256], [64, 128, 256, 512]] {
            let configuration = CRNNConfiguration(trunkWidths: widths, featureRows: 4, rnnInputSize: 256, hiddenSize: 256,
                                                  vocabularySize: 37)
            #expect(CRNNCost(configuration: configuration, height: 50, width: 200) == nil, "\(widths)")
        }
    }
}
