import Foundation
import Testing
import TestSupport
@testable import CRNNFormat
@testable import Conversion
@testable import Inspection
import SourceHashing
import Synchronization
@testable import TensorCore
@testable import TorchCheckpoint

/// crnn-convert on every fixture variant: the `.bin` holds exactly the
/// checkpoint's tensors, and broken variants fail naming keys and shapes.
@Suite struct ConversionTests {
    static let variants = [
        "narrow_zip", "narrow_legacy", "narrow_wrapper", "narrow_module_prefix", "narrow_half", "narrow_bfloat16",
        "narrow_float64", "narrow_hidden40", "narrow_vocab11", "narrow_whole_module", "narrow_whole_module_legacy",
    ]

    static func checkpoint(_ name: String) -> String { Fixtures.url("checkpoints/crnn/\(name).pt").path }
    /// The digest crnn-convert passes.
    static let sha256: SourceDigest = SourceHashing.sha256(path:)

    @Test(arguments: variants)
    func convertsAndReadsBackExactly(_ variant: String) throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("\(variant).bin").path
        let report = try Converter.convert(input: Self.checkpoint(variant), output: output, sourceDigest: Self.sha256)
        let written = try CRNNFile.open(path: output)
        let source = try TorchCheckpoint.open(path: Self.checkpoint(variant), options: CheckpointOptions(allowPickledModules: true))
            .loadStateDict()
        #expect(written.tensors.names == source.names)
        for (name, original) in source.entries {
            let stored = try #require(written.tensors[name])
            #expect(stored.shape == original.shape, "\(name)")
            let want = original.doubleValues().map { original.dtype.isFloatingPoint ? Double(Float($0)) : $0 }
            #expect(stored.doubleValues() == want, "\(name)")
            #expect(stored.dtype == (original.dtype.isFloatingPoint ? .float32 : original.dtype), "\(name)")
        }
        let expected = try Fixtures.json("checkpoints/crnn/\(variant).expected.json") as? [String: Any] ?? [:]
        let config = expected["model_config"] as? [String: Any] ?? [:]
        #expect(written.metadata.hiddenSize == config["hidden_size"] as? Int)
        #expect(written.metadata.vocabularySize == config["vocab_size"] as? Int)
        #expect(written.metadata.trunkWidths == config["widths"] as? [Int])
        #expect(written.metadata.alphabet == expected["alphabet"] as? String)
        #expect(written.metadata.sourceFileName == "\(variant).pt")
        #expect(written.metadata.sourceSHA256 == (try SourceHashing.sha256(path: Self.checkpoint(variant))))
        #expect(report.largestRoundingError == 0)
    }

    /// The float32 narrow model's every value equals PyTorch's dump of it.
    @Test func everyValueEqualsPyTorchsDump() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("narrow.bin").path
        try Converter.convert(input: Self.checkpoint("narrow_zip"), output: output, sourceDigest: Self.sha256)
        let written = try CRNNFile.open(path: output)
        let index = try Fixtures.json("checkpoints/crnn/narrow.values.json") as? [String: Any] ?? [:]
        let dump = try Data(contentsOf: Fixtures.url("checkpoints/crnn/narrow.values.f32"))
        let values: [Float] = dump.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let tensors = index["tensors"] as? [[String: Any]] ?? []
        #expect(tensors.count == written.tensors.count)
        for entry in tensors {
            let name = try #require(entry["name"] as? String)
            let offset = try #require(entry["offset"] as? Int)
            let count = try #require(entry["numel"] as? Int)
            let stored = try #require(written.tensors[name])
            #expect(stored.doubleValues() == values[offset..<(offset + count)].map(Double.init), "\(name)")
        }
    }

    /// Without a digest (crnn-predict's in-memory path) nothing is hashed and
    /// the metadata has no SHA-256; with one, its answer for the input is what
    /// the metadata records, and its error is the preparation's.
    @Test func theSourceDigestIsOnlyWhatTheCallerPasses() throws {
        let input = Self.checkpoint("narrow_zip")
        let plain = try Converter.prepare(path: input)
        #expect(plain.metadata.sourceSHA256 == nil)

        let asked = Mutex<[String]>([])
        let answer = String(repeating: "5a", count: 32)
        let hashed = try Converter.prepare(path: input) { path in
            asked.withLock { $0.append(path) }
            return answer
        }
        #expect(hashed.metadata.sourceSHA256 == answer)
        #expect(asked.withLock { $0 } == [input])
        var sameButTheDigest = plain.metadata
        sameButTheDigest.sourceSHA256 = answer
        #expect(hashed.metadata == sameButTheDigest)

        let failure = TensorCoreError.fileAccess(path: "unreadable", reason: "test")
        #expect(throws: ConversionError.sourceDigestFailed(file: input, reason: String(describing: failure))) {
            try Converter.prepare(path: input) { _ in throw TensorCoreError.fileAccess(path: "unreadable", reason: "test") }
        }
    }

    @Test func halfPrecisionStorageRoundsAndSaysByHowMuch() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let full = folder.appendingPathComponent("full.bin").path
        let half = folder.appendingPathComponent("half.bin").path
        let fullReport = try Converter.convert(input: Self.checkpoint("narrow_zip"), output: full, sourceDigest: Self.sha256)
        let halfReport = try Converter.convert(
            input: Self.checkpoint("narrow_zip"), output: half, options: ConversionOptions(storedFloatType: .float16),
            sourceDigest: Self.sha256)
        #expect(halfReport.outputBytes < fullReport.outputBytes * 6 / 10)
        #expect(halfReport.largestRoundingError > 0 && halfReport.largestRoundingError < 1e-2)
        let stored = try CRNNFile.open(path: half)
        #expect(stored.metadata.storedFloatType == .float16)
        #expect(stored.tensors["linear2.weight"]?.dtype == .float16)
    }

    struct Broken: CustomTestStringConvertible, Sendable {
        let name: String
        let mentions: [String]
        var testDescription: String { name }
    }

    static let broken = [
        Broken(name: "broken_missing_key", mentions: ["gru2.gru.bias_hh_l0_reverse", "missing"]),
        Broken(name: "broken_wrong_shape", mentions: ["linear2.weight", "[37, 48]", "[36, 48]"]),
        Broken(name: "broken_extra_key", mentions: ["linear3.weight", "unexpected"]),
        Broken(name: "broken_other_model", mentions: ["missing", "resnet.0.weight"]),
    ]

    @Test(arguments: broken)
    func brokenVariantsNameKeysAndShapes(_ broken: Broken) throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("out.bin").path
        let error = #expect(throws: (any Error).self) {
            try Converter.convert(input: Self.checkpoint(broken.name), output: output, sourceDigest: Self.sha256)
        }
        let message = String(describing: error ?? ConversionError.unsupportedStoredType(""))
        for mention in broken.mentions { #expect(message.contains(mention), "\(message)") }
        #expect(!FileManager.default.fileExists(atPath: output))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty, "no temporary file left")
    }

    @Test func refusesToOverwriteItsInput() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let copy = folder.appendingPathComponent("model.pt")
        try FileManager.default.copyItem(at: Fixtures.url("checkpoints/crnn/narrow_zip.pt"), to: copy)
        let before = try Data(contentsOf: copy)
        #expect(throws: ConversionError.wouldOverwriteInput(path: copy.path)) {
            try Converter.convert(input: copy.path, output: copy.path, sourceDigest: Self.sha256)
        }
        #expect(try Data(contentsOf: copy) == before)

        // Through a link to the output: the rename would replace the input's bytes.
        let link = folder.appendingPathComponent("link.pt")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: copy)
        #expect(throws: ConversionError.wouldOverwriteInput(path: copy.path)) {
            try Converter.convert(input: link.path, output: copy.path, sourceDigest: Self.sha256)
        }
        #expect(try Data(contentsOf: copy) == before)

        // An output that is a link to the input is replaced itself; the input stays.
        let output = folder.appendingPathComponent("out.bin")
        try FileManager.default.createSymbolicLink(at: output, withDestinationURL: copy)
        try Converter.convert(input: copy.path, output: output.path, sourceDigest: Self.sha256)
        #expect(try Data(contentsOf: copy) == before)
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: output.path)) == nil, "still a link")
        #expect(try CRNNFile.open(path: output.path).tensors.count > 0)
    }

    @Test func alphabetMustFitTheVocabulary() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("out.bin").path
        #expect(throws: ConversionError.self) {
            try Converter.convert(
                input: Self.checkpoint("narrow_zip"), output: output, options: ConversionOptions(alphabet: "abc"),
                sourceDigest: Self.sha256)
        }
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    @Test func inspectShowsTheSameTensorsForPtAndBin() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("narrow.bin").path
        try Converter.convert(input: Self.checkpoint("narrow_legacy"), output: output, sourceDigest: Self.sha256)
        let fromPt = try Inspector.inspect(path: Self.checkpoint("narrow_legacy"), statistics: true)
        let fromBin = try Inspector.inspect(path: output, statistics: true)
        #expect(fromBin.format == "crnn-bin")
        #expect(fromPt.tensors.map(\.name) == fromBin.tensors.map(\.name))
        #expect(fromPt.tensors.map(\.shape) == fromBin.tensors.map(\.shape))
        #expect(fromPt.tensors.map(\.stats) == fromBin.tensors.map(\.stats))
        #expect(fromBin.details.contains { $0.key == "alphabet" })
    }
}

/// A conversion without a digest says so in the file (`"source_sha256":
/// null`), and the file reads back with no digest.
@Suite struct DigestlessConversionTests {
    @Test func aFileConvertedWithoutADigestSaysSo() throws {
        let folder = try Fixtures.temporaryDirectory()
        let output = folder.appendingPathComponent("plain.bin").path
        try Converter.convert(input: Fixtures.url("checkpoints/crnn/narrow_zip.pt").path, output: output)
        let file = try CRNNFile.open(path: output)
        #expect(file.metadata.sourceSHA256 == nil)
        #expect(file.metadataJSON.contains("\"source_sha256\":null"))
        #expect(file.metadata.violation == nil)
        var bad = file.metadata
        bad.sourceSHA256 = ""
        #expect(bad.violation == "source_sha256 must be 64 lowercase hex digits, or null")
    }
}
