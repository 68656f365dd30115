import Foundation
import Testing
import TestSupport
@testable import TensorCore
@testable import TorchCheckpoint

/// Every fixture checkpoint reads back exactly as PyTorch read it.
@Suite struct FixtureCheckpointTests {
    static let readable: [String] = {
        let all = ((try? ExpectedCheckpoint.all(in: "checkpoints")) ?? [])
            + ((try? ExpectedCheckpoint.all(in: "checkpoints/crnn")) ?? [])
            + ((try? ExpectedCheckpoint.all(in: "checkpoints/torchscript")) ?? [])
            + ((try? ExpectedCheckpoint.all(in: "checkpoints/config")) ?? [])
        return all.filter { path in
            let json = (try? Fixtures.json(path)) as? [String: Any]
            return json?["error"] == nil
        }
    }()

    @Test func fixturesArePresent() {
        #expect(Self.readable.count >= 20)
    }

    @Test(arguments: readable)
    func readsLikePyTorch(_ expectedPath: String) throws {
        let expected = try ExpectedCheckpoint(expectedPath)
        let options = CheckpointOptions(
            allowPickledModules: expected.json["whole_module"] != nil || expected.json["needs_allow_pickled_modules"] != nil)
        let checkpoint = try TorchCheckpoint.open(path: Fixtures.url(expected.file).path, options: options)
        #expect(checkpoint.info.layout.rawValue == expected.layout)
        #expect(checkpoint.info.strippedPrefix == expected.prefixStripped)
        if let key = expected.wrapperKey {
            #expect(checkpoint.info.source == .wrapper(keys: [key]))
        }
        if let className = expected.json["torchscript"] as? String {
            #expect(checkpoint.info.source == .torchScript(className: className))
        }
        #expect(checkpoint.tensors.map(\.name) == expected.tensors.map(\.name))
        let stateDict = try checkpoint.loadStateDict()
        for want in expected.tensors {
            let tensor = try #require(stateDict[want.name])
            #expect(tensor.dtype.rawValue == want.dtype, "\(want.name)")
            #expect(tensor.shape == want.shape, "\(want.name)")
            #expect(tensor.elementCount == want.numel, "\(want.name)")
            let values = tensor.doubleValues()
            #expect(Array(values.prefix(want.head.count)).elementsEqual(want.head, by: Self.same), "\(want.name) head")
            #expect(Array(values.suffix(want.tail.count)).elementsEqual(want.tail, by: Self.same), "\(want.name) tail")
            #expect(values.filter(\.isNaN).count == want.nanCount, "\(want.name) NaN count")
            if let sum = want.sum {
                let mine = values.reduce(0, +)
                if sum.isInfinite {
                    #expect(mine == sum, "\(want.name) sum")
                } else {
                    #expect(abs(mine - sum) <= 1e-9 * max(1, abs(sum)), "\(want.name) sum \(mine) vs \(sum)")
                }
            }
        }
    }

    /// Equal up to the last bits Foundation's JSON parser on Linux may misround
    /// (it does not always give the correctly rounded double for a decimal).
    static func same(_ a: Double, _ b: Double) -> Bool { SafetensorsListing.same(a, b) }

    @Test func notAStateDictListsTheTopLevelKeys() throws {
        let expected = try ExpectedCheckpoint("checkpoints/not_a_state_dict.expected.json")
        let error = #expect(throws: CheckpointError.self) {
            try TorchCheckpoint.open(path: Fixtures.url(expected.file).path)
        }
        guard case let .noStateDict(_, found)? = error else {
            Issue.record("expected noStateDict, got \(String(describing: error))")
            return
        }
        for key in expected.topLevelKeys { #expect(found.contains("'\(key)'")) }
    }

    @Test func wholeModuleNeedsConsentAndNamesItsClass() throws {
        let path = Fixtures.url("checkpoints/crnn/narrow_whole_module.pt").path
        let error = #expect(throws: CheckpointError.self) { try TorchCheckpoint.open(path: path) }
        #expect(String(describing: error).contains("crnn_reference"))
        let module = try TorchCheckpoint.open(path: path, options: CheckpointOptions(allowPickledModules: true))
        let plain = try TorchCheckpoint.open(path: Fixtures.url("checkpoints/crnn/narrow_zip.pt").path)
        #expect(module.tensors.map(\.name) == plain.tensors.map(\.name))
        #expect(module.info.source == .pickledModule(className: "crnn_reference.CRNN", keys: []))
    }

    @Test func sharedStoragesAreReadOnce() throws {
        let checkpoint = try TorchCheckpoint.open(path: Fixtures.url("checkpoints/views_zip.pt").path)
        let keys = Dictionary(grouping: checkpoint.tensors, by: \.record.storageKey)
        #expect(keys.values.contains { $0.count >= 2 })
        #expect(checkpoint.info.storageCount < checkpoint.tensors.count)
    }

    @Test func inspectingReadsNoTensorBytes() throws {
        // A checkpoint whose storage records were zeroed still opens: only the pickle is read.
        let checkpoint = try TorchCheckpoint.open(path: Fixtures.url("checkpoints/crnn/narrow_legacy.pt").path)
        #expect(checkpoint.tensors.count == 117)
        #expect(checkpoint.info.layout == .legacy)
    }
}
