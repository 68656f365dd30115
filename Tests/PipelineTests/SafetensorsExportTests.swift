import Foundation
import Testing
import TestSupport
@testable import CRNNFormat
@testable import Conversion
import SourceHashing
@testable import TensorCore
@testable import TorchCheckpoint

/// crnn-convert IN OUT.safetensors: any state_dict, written so that it reads
/// back as torch.load gave it (scripts/check_safetensors.py checks the same
/// files with Python's safetensors; here against the committed listings).
@Suite struct SafetensorsExportTests {
    static let sha256: SourceDigest = SourceHashing.sha256(path:)

    static func exported(_ source: String, _ body: (_ output: String, SafetensorsExportReport) throws -> Void) throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("out.safetensors").path
        let report = try SafetensorsExport.convert(input: Fixtures.url(source).path, output: output, sourceDigest: sha256)
        try body(output, report)
    }

    static func reopened(_ path: String) throws -> TorchCheckpoint {
        try TorchCheckpoint.open(path: path, options: CheckpointOptions(stripsWrapperPrefixes: false))
    }

    /// Strided views packed, a shared storage written once per tensor: the
    /// file holds what torch.load gives, and what safetensors' own writer
    /// made of the same state_dict.
    @Test func viewsAndSharedStoragesReadBackAsTorchGaveThem() throws {
        try Self.exported("safetensors/views_source.pt") { output, report in
            let written = try Self.reopened(output).loadStateDict()
            #expect(try SafetensorsListing("safetensors/views_source.expected.json").mismatches(written, sameOrder: false) == [])
            #expect(try SafetensorsListing("safetensors/views.expected.json").mismatches(written, sameOrder: false) == [])
            let source = try TorchCheckpoint.open(path: Fixtures.url("safetensors/views_source.pt").path).loadStateDict()
            #expect(report.repackedCount == source.entries.filter { !$0.tensor.isContiguous }.count)
            #expect(report.repackedCount > 0 && report.sharedStorageCount > 0)
            #expect(report.tensorCount == source.count)
        }
    }

    /// Every dtype, NaN and infinities, scalars and an empty tensor, from a
    /// zip and a legacy checkpoint and from a safetensors file.
    @Test(arguments: ["checkpoints/dtypes_zip", "checkpoints/dtypes_legacy", "checkpoints/views_legacy"])
    func checkpointsKeepNamesDtypesShapesAndBytes(_ stem: String) throws {
        try Self.exported(stem + ".pt") { output, _ in
            let written = try Self.reopened(output).loadStateDict()
            let expected = try ExpectedCheckpointNames(stem + ".expected.json")
            #expect(Set(written.names) == Set(expected.names))
            let source = try TorchCheckpoint.open(path: Fixtures.url(stem + ".pt").path).loadStateDict()
            for (name, tensor) in source.entries {
                let stored = try #require(written[name])
                #expect(stored.dtype == tensor.dtype && stored.shape == tensor.shape, "\(name)")
                #expect(stored.contiguousBytes() == tensor.contiguousBytes(), "\(name)")
            }
        }
    }

    /// complex64, uint16/32/64 and float8 go out under the names
    /// safetensors.torch maps them to, and read back as Python wrote them.
    @Test func wideDTypesRoundTrip() throws {
        try Self.exported("safetensors/dtypes_wide.safetensors") { output, _ in
            let listing = try SafetensorsListing("safetensors/dtypes_wide.expected.json")
            #expect(listing.mismatches(try Self.reopened(output).loadStateDict(), sameOrder: false) == [])
        }
    }

    /// complex128, which safetensors has no type for, is refused by name and nothing is written.
    @Test func complex128IsRefusedByName() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("wide.safetensors").path
        let input = Fixtures.url("checkpoints/dtypes_wide_zip.pt").path
        #expect(throws: ConversionError.dtypeNotInSafetensors(file: output, tensor: "complex128", dtype: "complex128")) {
            try SafetensorsExport.convert(input: input, output: output)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
    }

    @Test func safetensorsInputKeepsItsMetadataAndValues() throws {
        try Self.exported("safetensors/dtypes.safetensors") { output, report in
            let checkpoint = try Self.reopened(output)
            let listing = try SafetensorsListing("safetensors/dtypes.expected.json")
            #expect(listing.mismatches(try checkpoint.loadStateDict(), sameOrder: false) == [])
            let metadata = Dictionary(uniqueKeysWithValues: checkpoint.safetensorsMetadata.map { ($0.key, $0.value) })
            for (key, value) in listing.metadata where key != "format" { #expect(metadata[key] == value, "\(key)") }
            #expect(report.metadata.map(\.key) == checkpoint.safetensorsMetadata.map(\.key))
        }
    }

    /// `__metadata__` names the source and its SHA-256; a DataParallel
    /// prefix stays, as PyTorch names the tensors; data is aligned.
    @Test func metadataNamesTheSourceAndNamesKeepTheirPrefix() throws {
        let source = "checkpoints/dataparallel_prefix.pt"
        try Self.exported(source) { output, _ in
            let checkpoint = try Self.reopened(output)
            let metadata = Dictionary(uniqueKeysWithValues: checkpoint.safetensorsMetadata.map { ($0.key, $0.value) })
            #expect(metadata["source_file"] == "dataparallel_prefix.pt")
            #expect(metadata["source_sha256"] == (try SourceHashing.sha256(path: Fixtures.url(source).path)))
            #expect(metadata["format"] == "pt")
            let expected = try ExpectedCheckpointNames("checkpoints/dataparallel_prefix.expected.json")
            #expect(Set(checkpoint.tensors.map(\.name)) == Set(expected.rawNames))
            let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: output)))
            let header = try bytes.withUnsafeBytes { try SafetensorsHeader(file: $0) }
            #expect(header.dataStart % 8 == 0)
            for entry in header.entries {
                let width = max(1, entry.dtype.bitWidth / 8)
                #expect((header.dataStart + entry.dataRange.lowerBound) % width == 0, "\(entry.name) aligned")
            }
        }
    }

    /// A `.bin` converts too: its tensors and alphabet.
    @Test func binInputConverts() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let bin = folder.appendingPathComponent("narrow.bin").path
        try Converter.convert(input: Fixtures.url("checkpoints/crnn/narrow_zip.pt").path, output: bin, sourceDigest: Self.sha256)
        let output = folder.appendingPathComponent("narrow.safetensors").path
        try SafetensorsExport.convert(input: bin, output: output, sourceDigest: Self.sha256)
        let file = try CRNNFile.open(path: bin)
        let written = try Self.reopened(output)
        #expect(written.safetensorsMetadata.first { $0.key == "alphabet" }?.value == file.metadata.alphabet)
        let tensors = try written.loadStateDict()
        #expect(Set(tensors.names) == Set(file.tensors.names))
        for (name, tensor) in file.tensors.entries { #expect(tensors[name]?.contiguousBytes() == tensor.contiguousBytes(), "\(name)") }
    }

    @Test func reservedNameIsRefusedAndNothingIsWritten() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("x.safetensors").path
        let tensor = try Tensor(float32: [1], shape: [1])
        #expect(throws: ConversionError.reservedTensorName(file: output)) {
            try SafetensorsExport.write([("__metadata__", tensor)], metadata: [], to: output)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
    }

    /// A refused input leaves an existing output as it was, and no temporary file.
    @Test func failedExportLeavesTheOutputAlone() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("kept.safetensors")
        try Data("old".utf8).write(to: output)
        let hostile = Fixtures.url("safetensors/hostile/overlapping_offsets.safetensors").path
        #expect {
            try SafetensorsExport.convert(input: hostile, output: output.path, sourceDigest: Self.sha256)
        } throws: { error in
            guard case .checkpoint(.invalidSafetensors)? = error as? ConversionError else { return false }
            return true
        }
        #expect(try Data(contentsOf: output) == Data("old".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["kept.safetensors"])
        let input = Fixtures.url("safetensors/dtypes.safetensors").path
        #expect(throws: ConversionError.wouldOverwriteInput(path: input)) {
            try SafetensorsExport.convert(input: input, output: input, sourceDigest: Self.sha256)
        }
    }

    /// Names escaped in the header come back exactly.
    @Test func oddNamesRoundTrip() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("names.safetensors").path
        let names = ["quote\"back\\slash", "tab\tnew\nline\u{1}", "caf\u{E9} \u{1F600}", ""]
        let tensors = try names.enumerated().map { index, name in (name, try Tensor(float32: [Float(index)], shape: [])) }
        try SafetensorsExport.write(tensors, metadata: [("k\"", "v\n")], to: output)
        let checkpoint = try Self.reopened(output)
        #expect(checkpoint.tensors.map(\.name) == names)
        #expect(checkpoint.safetensorsMetadata.map(\.key) == ["k\""] && checkpoint.safetensorsMetadata.map(\.value) == ["v\n"])
    }
}

/// The command: chosen by the extension or by --format; --dtype f16 refused for safetensors.
@Suite struct SafetensorsCommandTests {
    @Test(.enabled(if: CommandLineTests.binFolder != nil))
    func convertWritesSafetensorsByExtensionOrFormat() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let source = Fixtures.url("safetensors/views_source.pt").path
        let byName = folder.appendingPathComponent("a.safetensors").path, byFormat = folder.appendingPathComponent("b.weights").path
        let first = try CommandLineTests.run("crnn-convert", [source, byName])
        #expect(first.status == 0 && first.stdout.contains("(safetensors)"), "\(first.stderr)")
        let second = try CommandLineTests.run("crnn-convert", ["--format", "safetensors", source, byFormat])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: byName)) == Data(contentsOf: URL(fileURLWithPath: byFormat)))
        let listing = try SafetensorsListing("safetensors/views_source.expected.json")
        let read = try TorchCheckpoint.open(path: byFormat, options: CheckpointOptions(stripsWrapperPrefixes: false)).loadStateDict()
        #expect(listing.mismatches(read, sameOrder: false) == [])
        let refused = try CommandLineTests.run("crnn-convert", ["--dtype", "f16", source, folder.appendingPathComponent("c.safetensors").path])
        #expect(refused.status != 0 && refused.stderr.contains("--dtype f16 applies to .bin output"))
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("c.safetensors").path))
    }
}

/// The names a checkpoint fixture's expected listing gives (after prefix
/// removal, and as PyTorch saved them).
struct ExpectedCheckpointNames {
    let names: [String]
    let rawNames: [String]

    init(_ relativePath: String) throws {
        let tensors = (try Fixtures.json(relativePath) as? [String: Any])?["tensors"] as? [[String: Any]] ?? []
        names = tensors.compactMap { $0["name"] as? String }
        rawNames = tensors.compactMap { ($0["raw_name"] ?? $0["name"]) as? String }
    }
}
