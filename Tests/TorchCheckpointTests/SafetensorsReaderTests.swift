import Foundation
import Testing
import TestSupport
@testable import TensorCore
@testable import TorchCheckpoint

@Suite struct SafetensorsReaderTests {
    static let listed = ["safetensors/dtypes", "safetensors/dtypes_wide", "safetensors/views", "safetensors/narrow"]

    @Test(arguments: listed)
    func readsLikeTorch(_ stem: String) throws {
        let listing = try SafetensorsListing(stem + ".expected.json")
        let path = Fixtures.url(stem + ".safetensors").path
        let checkpoint = try TorchCheckpoint.open(path: path)
        #expect(checkpoint.info.layout == .safetensors)
        #expect(checkpoint.tensors.count == listing.entries.count)
        #expect(Dictionary(uniqueKeysWithValues: checkpoint.safetensorsMetadata.map { ($0.key, $0.value) }) == listing.metadata)
        #expect(listing.mismatches(try checkpoint.loadStateDict()) == [], "\(path)")
    }

    /// The writer's source fixture: strided views and a shared storage read as torch.load gives them.
    @Test func viewsSourceReadsLikeTorch() throws {
        let listing = try SafetensorsListing("safetensors/views_source.expected.json")
        let checkpoint = try TorchCheckpoint.open(path: Fixtures.url("safetensors/views_source.pt").path)
        #expect(listing.mismatches(try checkpoint.loadStateDict()) == [])
    }

    @Test func unsupportedDTypeIsNamed() throws {
        let path = Fixtures.url("safetensors/unsupported_e8m0.safetensors").path
        let json = try #require(try Fixtures.json("safetensors/unsupported_e8m0.expected.json") as? [String: Any])
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
            #expect(SafetensorsListing(json: entry).mismatches(try TorchCheckpoint.open(path: path).loadStateDict()) == [], "\(path)")
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
