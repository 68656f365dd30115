import Foundation
import Testing
import TestSupport
import Inspection

/// Every tensor accounted for: `crnn-inspect --all` lists every tensor in
/// the file by its path as walking `torch.load`'s object names it, and the
/// report counts those outside the state_dict and where they are, against
/// the listing torch gave when the fixture was made.
struct TensorInventoryTests {
    static let fixtures = ["checkpoints/training_checkpoint", "checkpoints/list_container"]

    @Test(arguments: fixtures)
    func everyTensorIsListedWithItsPath(_ stem: String) throws {
        let json = try #require(try Fixtures.json(stem + ".expected.json") as? [String: Any])
        let report = try Inspector.inspect(path: Fixtures.url(stem + ".pt").path, statistics: false, listingEveryTensor: true)
        let expected = try #require(json["all_tensors"] as? [[String: Any]])
        let all = try #require(report.allTensors)
        #expect(all.map(\.path) == expected.compactMap { $0["path"] as? String })
        #expect(all.map(\.dtype) == expected.compactMap { $0["dtype"] as? String })
        #expect(all.map(\.shape) == expected.compactMap { $0["shape"] as? [Int] })
        let stateDict = Set((json["tensors"] as? [[String: Any]] ?? []).compactMap { $0["raw_name"] as? String })
        let wrapper = json["wrapper_key"] as? String
        for tensor in all {
            let inside = tensor.path.hasPrefix((wrapper ?? "") + ".") && stateDict.contains(String(tensor.path.dropFirst((wrapper ?? "").count + 1)))
            #expect(tensor.inStateDict == inside, "\(tensor.path)")
        }

        let outside = try #require(json["outside_state_dict"] as? [String: Any])
        #expect(report.outsideStateDict?.count == outside["count"] as? Int)
        let under = (outside["under"] as? [[Any]] ?? []).map { ($0[0] as? String ?? "", $0[1] as? Int ?? -1) }
        #expect(report.outsideStateDict?.under.map(\.key) == under.map(\.0))
        #expect(report.outsideStateDict?.under.map(\.count) == under.map(\.1))
        #expect(report.passedOver == json["passed_over"] as? [String])
    }

    @Test func theTableSaysWhatItLeftOutAndWhatItPassedOver() throws {
        let report = try Inspector.inspect(path: Fixtures.url("checkpoints/training_checkpoint.pt").path, statistics: false)
        #expect(report.allTensors == nil)
        let table = report.table()
        #expect(table.contains("61 more tensors outside the state_dict, under 'optimizer' (42), 'model_ema' (17), 'hyper_parameters' (2); --all lists them"))
        #expect(table.contains("passed over for the state_dict: 'model_ema'"))
        let json = try report.json()
        #expect(json.contains("\"outsideStateDict\"") && json.contains("\"passedOver\""))
    }

    /// A TorchScript module's tensors that are not parameters or buffers
    /// (plain tensor attributes) are counted outside its state_dict; every
    /// tensor torch's state_dict lists is inside.
    @Test func aTorchScriptModulesOtherTensorsAreCounted() throws {
        let stem = "checkpoints/torchscript/scripted_small"
        let json = try #require(try Fixtures.json(stem + ".expected.json") as? [String: Any])
        let names = Set((json["tensors"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String })
        let report = try Inspector.inspect(path: Fixtures.url(stem + ".pt").path, statistics: false, listingEveryTensor: true)
        let all = try #require(report.allTensors)
        #expect(Set(all.filter(\.inStateDict).map(\.path)) == names)
        let outside = all.filter { !$0.inStateDict }
        #expect(!outside.isEmpty, "the fixture has a plain tensor attribute")
        #expect(outside.allSatisfy { !names.contains($0.path) })
        #expect(report.outsideStateDict?.count == outside.count)
    }

    /// A plain state_dict has nothing outside it and no line about it.
    @Test func aPlainStateDictHasNothingOutside() throws {
        let report = try Inspector.inspect(path: Fixtures.url("checkpoints/dtypes_zip.pt").path, statistics: false)
        #expect(report.outsideStateDict?.count == 0)
        #expect(report.passedOver.isEmpty)
        #expect(!report.table().contains("outside the state_dict"))
    }
}
