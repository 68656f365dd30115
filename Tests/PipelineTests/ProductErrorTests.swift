import Foundation
import Testing
import TestSupport
// Without @testable. (`package` declarations are still visible to this package's own
// tests; the Examples package, built by scripts/test.sh, is what sees only the public faces.)
import Conversion
import Inspection
import TensorCore  // Tensor(float32:shape:) is package: an app gets tensors from the reader
import TorchCheckpoint

/// Each product throws one error type a caller can switch on. The `catch`
/// blocks below bind `error` without a cast: they compile only because the
/// entry points declare that type (typed throws), and the cases they match
/// are what a caller would switch on.
struct ProductErrorTests {
    static func scratch() throws -> URL { try Fixtures.temporaryDirectory() }

    @Test func conversionThrowsConversionErrorWrappingTheReaders() throws {
        let folder = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let missing = folder.appendingPathComponent("missing.pt").path
        do {
            try Converter.convert(input: missing, output: folder.appendingPathComponent("out.bin").path)
            Issue.record("a missing input converted")
        } catch {
            guard case let .unreadableInput(file, _) = error else {
                Issue.record("expected unreadableInput, got \(error)")
                return
            }
            #expect(file == missing)
            #expect(error.description.hasPrefix(missing + ": cannot read"))
        }
        let bin = Fixtures.repositoryRoot.appendingPathComponent("formats/example.bin").path
        do {
            try Converter.convert(input: bin, output: folder.appendingPathComponent("again.bin").path)
            Issue.record("a .bin converted again")
        } catch {
            #expect(error == .alreadyConverted(file: bin))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
    }

    /// The getting-started article's shape: `catch` clauses that match the
    /// product's cases directly (this compiles only with typed throws).
    @Test func catchClausesMatchCasesDirectly() throws {
        let folder = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let missing = folder.appendingPathComponent("missing.pt").path
        var matched = ""
        do {
            try Converter.convert(input: missing, output: folder.appendingPathComponent("out.bin").path)
        } catch .checkpoint(.checksumMismatch(let file, _, _, _, _)) {
            matched = "checksum " + file
        } catch .unreadableInput(let file, _) {
            matched = "unreadable " + file
        } catch {
            matched = "other: \(error)"
        }
        #expect(matched == "unreadable " + missing)
    }

    @Test func inspectionNamesBothFormatsForAnEmptyFile() throws {
        let folder = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let empty = folder.appendingPathComponent("empty.pt").path
        #expect(FileManager.default.createFile(atPath: empty, contents: Data()))
        do {
            _ = try Inspector.inspect(path: empty, statistics: false)
            Issue.record("an empty file was inspected")
        } catch {
            #expect(error == .emptyModelFile(file: empty))
            #expect(error.description == "\(empty): the file is empty; expected a PyTorch checkpoint or a .bin written by crnn-convert")
        }
    }

    @Test func comparisonWrapsTheFormatsErrorForADamagedBin() throws {
        let folder = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let bin = Fixtures.repositoryRoot.appendingPathComponent("formats/example.bin")
        let cut = folder.appendingPathComponent("cut.bin")
        try Data(try Data(contentsOf: bin).prefix(64)).write(to: cut)
        do {
            _ = try Comparison.compare(bin.path, cut.path)
            Issue.record("a truncated .bin was compared")
        } catch {
            guard case let .format(inner) = error else {
                Issue.record("expected the format's error, got \(error)")
                return
            }
            #expect(error.description == inner.description)
            #expect(error.description.hasPrefix(cut.path))
        }
    }

    @Test func safetensorsExportRefusesTheReservedName() throws {
        let folder = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("x.safetensors").path
        let tensor = try Tensor(float32: [1, 2], shape: [2])
        do {
            try SafetensorsExport.write([(name: "__metadata__", tensor: tensor)], metadata: [], to: output)
            Issue.record("a tensor named __metadata__ was written")
        } catch {
            #expect(error == .reservedTensorName(file: output))
        }
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    @Test func theCheckpointReaderThrowsCheckpointError() throws {
        let folder = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let text = folder.appendingPathComponent("notes.pt")
        try Data("just some notes\n".utf8).write(to: text)
        do {
            _ = try TorchCheckpoint.open(path: text.path)
            Issue.record("a text file opened as a checkpoint")
        } catch {
            guard case let .unknownFormat(file, _) = error else {
                Issue.record("expected unknownFormat, got \(error)")
                return
            }
            #expect(file == text.path)
        }
    }
}
