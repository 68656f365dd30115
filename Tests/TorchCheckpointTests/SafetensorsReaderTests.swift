import Foundation
import Testing
import TestSupport
@testable import TensorCore
@testable import TorchCheckpoint

/// A listing of what torch (or the stdlib fixture script) says a file holds:
/// `NAME.expected.json` beside the safetensors fixtures, or a case of
/// `safetensors/hostile/manifest.json`.
struct SafetensorsListing {
    struct Entry {
        let name: String
        let dtype: String
        let shape: [Int]
        let values: [Double]
    }

    let metadata: [String: String]
    let entries: [Entry]
    /// True when `values` hold only each tensor's first elements.
    let valuesArePrefixes: Bool

    init(json: [String: Any]) {
        metadata = json["metadata"] as? [String: String] ?? [:]
        valuesArePrefixes = json["values_listed"] != nil
        entries = (json["tensors"] as? [[String: Any]] ?? []).map { tensor in
            Entry(name: tensor["name"] as? String ?? "", dtype: tensor["dtype"] as? String ?? "",
                  shape: tensor["shape"] as? [Int] ?? [],
                  values: (tensor["values"] as? [Any] ?? []).compactMap(ExpectedCheckpoint.number))
        }
    }

    /// Checks every name (in order), dtype, shape and value of `stateDict`.
    func check(_ stateDict: StateDict, file: String) {
        #expect(stateDict.names == entries.map(\.name), "\(file): names")
        for want in entries {
            guard let tensor = stateDict[want.name] else { Issue.record("\(file): no tensor '\(want.name)'"); continue }
            #expect(tensor.dtype.rawValue == want.dtype, "\(file) \(want.name)")
            #expect(tensor.shape == want.shape, "\(file) \(want.name)")
            let values = tensor.doubleValues()
            let compared = valuesArePrefixes ? Array(values.prefix(want.values.count)) : values
            #expect(compared.elementsEqual(want.values, by: FixtureCheckpointTests.same), "\(file) \(want.name) values")
        }
    }
}

@Suite struct SafetensorsReaderTests {
    static let listed = ["safetensors/dtypes", "safetensors/views", "safetensors/narrow"]

    @Test(arguments: listed)
    func readsLikeTorch(_ stem: String) throws {
        let json = try #require(try Fixtures.json(stem + ".expected.json") as? [String: Any])
        let listing = SafetensorsListing(json: json)
        let path = Fixtures.url(stem + ".safetensors").path
        let checkpoint = try TorchCheckpoint.open(path: path)
        #expect(checkpoint.info.layout == .safetensors)
        #expect(checkpoint.tensors.count == listing.entries.count)
        #expect(Dictionary(uniqueKeysWithValues: checkpoint.safetensorsMetadata.map { ($0.key, $0.value) }) == listing.metadata)
        listing.check(try checkpoint.loadStateDict(), file: path)
    }

    /// The writer's source fixture: strided views and a shared storage read as torch.load gives them.
    @Test func viewsSourceReadsLikeTorch() throws {
        let json = try #require(try Fixtures.json("safetensors/views_source.expected.json") as? [String: Any])
        let checkpoint = try TorchCheckpoint.open(path: Fixtures.url("safetensors/views_source.pt").path)
        SafetensorsListing(json: json).check(try checkpoint.loadStateDict(), file: "views_source.pt")
    }

    @Test func unsupportedDTypeIsNamed() throws {
        let path = Fixtures.url("safetensors/unsupported_u16.safetensors").path
        let json = try #require(try Fixtures.json("safetensors/unsupported_u16.expected.json") as? [String: Any])
        let error = #expect(throws: CheckpointError.self) { try TorchCheckpoint.open(path: path) }
        #expect(error == .unsupportedDType(file: path, tensor: json["tensor"] as? String ?? "", dtype: json["dtype"] as? String ?? ""))
    }

    struct HostileCase: CustomTestStringConvertible, Sendable {
        let file: String
        let expect: String
        var testDescription: String { file }
    }

    static let hostile: [HostileCase] = {
        guard let manifest = (try? Fixtures.json("safetensors/hostile/manifest.json")) as? [String: Any],
              let cases = manifest["cases"] as? [[String: Any]] else { return [] }
        return cases.compactMap { entry in
            guard let file = entry["file"] as? String, let expect = entry["expect"] as? String else { return nil }
            return HostileCase(file: file, expect: expect)
        }
    }()

    @Test func hostileManifestIsPresent() { #expect(Self.hostile.count >= 40) }

    @Test(arguments: hostile)
    func hostileHeader(_ hostile: HostileCase) throws {
        let path = Fixtures.url("safetensors/hostile/" + hostile.file).path
        if hostile.expect == "ok" {
            let manifest = try #require(try Fixtures.json("safetensors/hostile/manifest.json") as? [String: Any])
            let cases = manifest["cases"] as? [[String: Any]] ?? []
            let entry = try #require(cases.first { $0["file"] as? String == hostile.file })
            SafetensorsListing(json: entry).check(try TorchCheckpoint.open(path: path).loadStateDict(), file: path)
            return
        }
        let error = #expect(throws: CheckpointError.self) { _ = try TorchCheckpoint.open(path: path).loadStateDict() }
        guard case let .invalidSafetensors(file, problem)? = error else {
            Issue.record("\(hostile.file): expected invalidSafetensors, got \(String(describing: error))")
            return
        }
        #expect(file == path)
        #expect(Mirror(reflecting: problem).children.first?.label == hostile.expect, "\(hostile.file): \(problem)")
        let message = String(describing: error!)
        #expect(message.hasPrefix(path + ": invalid safetensors file: ") && !message.contains("\n"), "\(message)")
    }

    /// Every cut of a real file is refused with a safetensors error, never a trap.
    @Test func everyTruncationIsRefused() throws {
        let bytes = try Array(Data(contentsOf: Fixtures.url("safetensors/dtypes.safetensors")))
        for length in 1..<bytes.count {
            let buffer = ByteBuffer(copying: bytes[0..<length])
            #expect(throws: CheckpointError.self) { _ = try TorchCheckpoint(buffer: buffer, fileName: "cut.safetensors") }
        }
    }

    /// A prefix every name shares (`module.` of DataParallel) is removed, as
    /// from a checkpoint's names.
    @Test func sharedPrefixIsStrippedAsFromCheckpoints() throws {
        let header = #"{"module.a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"module.b":{"dtype":"U8","shape":[],"data_offsets":[1,2]}}"#
        var bytes = withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { Array($0) } + Array(header.utf8)
        bytes += [5, 6]
        let checkpoint = try TorchCheckpoint(buffer: ByteBuffer(copying: bytes), fileName: "m.safetensors")
        #expect(checkpoint.tensors.map(\.name) == ["a", "b"])
        #expect(checkpoint.info.strippedPrefix == "module.")
        #expect(try checkpoint.loadStateDict()["b"]?.doubleValues() == [6])
    }
}
