import Foundation
@testable import CRNNFormat
import TensorCore
import TestSupport
import Testing

@Suite("CRNN-BIN writer and the file system")
struct WriterFileSystemTests {
    private struct InjectedFailure: Error {}

    private func contents(of folder: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
    }

    @Test("a destination folder that does not exist is an error and leaves no file")
    func missingFolder() throws {
        let folder = try Fixtures.temporaryDirectory()
        let url = folder.appendingPathComponent("missing/model.bin")
        #expect(throws: CRNNFormatError.self) {
            try CRNNFileWriter.write(metadata: Samples.metadata(), tensors: [], floatType: .float32, to: url)
        }
        do {
            try CRNNFileWriter.write(metadata: Samples.metadata(), tensors: [], floatType: .float32, to: url)
        } catch {
            guard case let .writeFailed(file, _) = error else { Issue.record("unexpected \(error)"); return }
            #expect(file == url.path)
        }
        #expect(try contents(of: folder).isEmpty)
    }

    @Test("a write failing after the temporary file is complete leaves the previous file untouched")
    func failedWriteKeepsPreviousFile() throws {
        let folder = try Fixtures.temporaryDirectory()
        let url = folder.appendingPathComponent("model.bin")
        try CRNNFileWriter.write(metadata: Samples.metadata(), tensors: try Samples.mixedTensors(), floatType: .float32, to: url)
        let before = try Data(contentsOf: url)

        #expect(throws: AtomicFile.Failure.self) {
            try AtomicFile.write(Array(repeating: 7, count: 100), to: url.path, check: { _ in throw InjectedFailure() })
        }
        #expect(try Data(contentsOf: url) == before)
        #expect(try contents(of: folder) == ["model.bin"])

        // Content errors fail before any file is touched.
        #expect(throws: CRNNFormatError.duplicateTensorName(file: url.path, name: "x")) {
            let x = try Tensor(float32: [1], shape: [1])
            try CRNNFileWriter.write(metadata: Samples.metadata(), tensors: [("x", x), ("x", x)], floatType: .float32, to: url)
        }
        #expect(try Data(contentsOf: url) == before)
        #expect(try contents(of: folder) == ["model.bin"])
        #expect(try CRNNFile.open(path: url.path).tensors.count == 9)
    }

    @Test("a destination that is a folder fails at the rename and leaves no temporary file")
    func destinationIsFolder() throws {
        let folder = try Fixtures.temporaryDirectory()
        let target = folder.appendingPathComponent("model.bin")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: false)
        try Data([1]).write(to: target.appendingPathComponent("keep"))
        #expect(throws: CRNNFormatError.self) {
            try CRNNFileWriter.write(metadata: Samples.metadata(), tensors: [], floatType: .float32, to: target)
        }
        #expect(try contents(of: folder) == ["model.bin"])
        #expect(try contents(of: target) == ["keep"])
    }

    @Test("writing again replaces the file")
    func overwrite() throws {
        let url = try Fixtures.temporaryDirectory().appendingPathComponent("model.bin")
        try CRNNFileWriter.write(metadata: Samples.metadata(), tensors: try Samples.mixedTensors(), floatType: .float32, to: url)
        try CRNNFileWriter.write(metadata: Samples.metadata(.float16), tensors: [("w", try Tensor(float32: [2], shape: [1]))],
                                 floatType: .float16, to: url)
        let file = try CRNNFile.open(path: url.path)
        #expect(file.tensors.names == ["w"])
        #expect(file.tensors["w"]?.floatValues() == [2])
    }

    @Test("the writer refuses what the format cannot hold")
    func writerValidation() throws {
        let url = try Fixtures.temporaryDirectory().appendingPathComponent("model.bin")
        let w = try Tensor(float32: [1], shape: [1])
        #expect(throws: CRNNFormatError.unsupportedFloatType(file: url.path, requested: .bfloat16)) {
            try CRNNFileWriter.write(metadata: Samples.metadata(.bfloat16), tensors: [("w", w)], floatType: .bfloat16, to: url)
        }
        #expect(throws: CRNNFormatError.self) {  // storedFloatType float32 but floats stored as float16
            try CRNNFileWriter.write(metadata: Samples.metadata(), tensors: [("w", w)], floatType: .float16, to: url)
        }
        var badAlphabet = Samples.metadata()
        badAlphabet.alphabet = "abc"
        #expect(throws: CRNNFormatError.self) {
            try CRNNFileWriter.write(metadata: badAlphabet, tensors: [("w", w)], floatType: .float32, to: url)
        }
        #expect(throws: CRNNFormatError.self) {
            try CRNNFileWriter.write(metadata: Samples.metadata(), tensors: [("", w)], floatType: .float32, to: url)
        }
        #expect(!FileManager.default.fileExists(atPath: url.path))
    }

    @Test("check sees the complete file before the rename; its error leaves the previous file and passes through")
    func checkBeforeRename() throws {
        let folder = try Fixtures.temporaryDirectory()
        let url = folder.appendingPathComponent("model.bin")
        try CRNNFileWriter.write(metadata: Samples.metadata(), tensors: [], floatType: .float32, to: url)
        let before = try Data(contentsOf: url)
        let tensors = try Samples.mixedTensors()

        var seen: [String] = []
        try CRNNFileWriter.write(metadata: Samples.metadata(), tensors: tensors, floatType: .float32, to: url) { temporary in
            #expect(temporary != url.path)
            #expect(try Data(contentsOf: url) == before, "replaced before the check ran")
            seen = try CRNNFile.open(path: temporary, name: url.path).tensors.names
        }
        #expect(seen == tensors.map(\.name))
        let after = try Data(contentsOf: url)
        #expect(after != before)

        #expect(throws: InjectedFailure.self) {
            try CRNNFileWriter.write(metadata: Samples.metadata(), tensors: [], floatType: .float32, to: url) { _ in
                throw InjectedFailure()
            }
        }
        #expect(try Data(contentsOf: url) == after)
        #expect(try contents(of: folder) == ["model.bin"])
    }

    @Test("a file opened under another name is named so in errors")
    func openUnderAnotherName() throws {
        let url = try Fixtures.temporaryDirectory().appendingPathComponent("broken.tmp")
        try Data("not a model".utf8).write(to: url)
        #expect(throws: CRNNFormatError.notACRNNFile(file: "model.bin", foundMagic: Array("not a mo".utf8))) {
            try CRNNFile.open(path: url.path, name: "model.bin")
        }
    }

    @Test("opening a missing file is a file access error")
    func missingFile() {
        #expect(throws: CRNNFormatError.self) { try CRNNFile.open(path: "/nonexistent/model.bin") }
    }
}
