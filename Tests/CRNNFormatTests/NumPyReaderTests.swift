import Foundation
@testable import CRNNFormat
import TensorCore
import TestSupport
import Testing

/// True when `python3` runs and imports numpy (the NumPy reader's needs).
let pythonWithNumpyAvailable: Bool = (try? Python.run(["-c", "import numpy"]).status) == 0

/// Runs python3 from the PATH.
enum Python {
    /// Runs `python3 arguments`, returning its exit status and standard output.
    static func run(_ arguments: [String]) throws -> (status: Int32, output: Data) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, data)
    }
}

/// The committed example: formats/example.bin, formats/example.json.
enum Example {
    static let folder = Fixtures.repositoryRoot.appendingPathComponent("formats")
    static let binary = folder.appendingPathComponent("example.bin")
    static let json = folder.appendingPathComponent("example.json")
    static let reader = folder.appendingPathComponent("read_crnn_bin.py")

    /// A tiny model shaped like the CRNN's state_dict (a few of its names,
    /// small shapes), alphabet "abc", float32.
    static func contents() throws -> (CRNNModelMetadata, [(name: String, tensor: Tensor)]) {
        var metadata = Samples.metadata()
        metadata.vocabularySize = 4
        metadata.alphabet = "abc"
        metadata.hiddenSize = 2
        metadata.trunkWidths = [2, 2, 2]
        metadata.rnnInputSize = 2
        metadata.sourceFileName = "example.pt"
        metadata.sourceSHA256 = String(repeating: "ab", count: 32)
        metadata.converterName = "CRNNFormatTests"
        let ramp = { (count: Int) in (0..<count).map { Float($0) * 0.25 - 1 } }
        return (metadata, [
            ("resnet.0.weight", try Tensor(float32: ramp(6), shape: [2, 3, 1, 1])),
            ("resnet.1.running_mean", try Tensor(float32: [0.125, -0.5], shape: [2])),
            ("resnet.1.num_batches_tracked", try Samples.raw(.int64, [Int64(42)], [])),
            ("linear2.weight", try Tensor(float32: ramp(8), shape: [4, 2])),
            ("linear2.bias", try Tensor(float32: [0.1, 0.2, 0.3, -0.4], shape: [4])),
        ])
    }

    static func bytes() throws -> [UInt8] {
        let (metadata, tensors) = try contents()
        return try CRNNFileWriter.encode(metadata: metadata, tensors: tensors, floatType: .float32, file: binary.path)
    }
}

@Suite("CRNN-BIN and the NumPy reader")
struct NumPyReaderTests {
    /// Checks that the reader's `--json` output describes `file` exactly.
    private func compare(_ file: CRNNFile, with printed: Data) throws {
        let root = try #require(try JSONSerialization.jsonObject(with: printed) as? [String: Any])
        #expect(root["format_version"] as? [Int] == [file.formatVersion.major, file.formatVersion.minor])
        #expect(root["file_size"] as? Int == file.fileSize)
        let metadataObject = try #require(root["metadata"])
        let metadata = try JSONDecoder().decode(
            CRNNModelMetadata.self, from: JSONSerialization.data(withJSONObject: metadataObject))
        #expect(metadata == file.metadata)
        let tensors = try #require(root["tensors"] as? [[String: Any]])
        #expect(tensors.compactMap { $0["name"] as? String } == file.tensors.names)
        for entry in tensors {
            let name = try #require(entry["name"] as? String)
            let tensor = try #require(file.tensors[name])
            #expect(entry["dtype"] as? String == tensor.dtype.rawValue, "\(name)")
            #expect(entry["shape"] as? [Int] == tensor.shape, "\(name)")
            #expect(entry["offset"] as? Int == file.dataOffsets[name], "\(name)")
            #expect(entry["byte_length"] as? Int == tensor.byteCount, "\(name)")
            let values = try #require(entry["values"] as? [Any])
            let expected = tensor.doubleValues()
            #expect(values.count == expected.count, "\(name)")
            for (value, want) in zip(values, expected) {
                let got: Double = switch value {
                case let text as String: text == "nan" ? .nan : (text == "inf" ? .infinity : -.infinity)
                case let number as NSNumber: number.doubleValue
                default: .nan
                }
                // Foundation's JSON number parsing is not always correctly rounded,
                // so floats (all float32 or float16 here) are compared as float32 bits:
                // exact for these dtypes. Integers compare exactly.
                let equal = tensor.dtype.isFloatingPoint
                    ? Float(got).bitPattern == Float(want).bitPattern || (got.isNaN && want.isNaN)
                    : got == want
                #expect(equal, "\(name): NumPy \(got), Swift \(want)")
            }
        }
    }

    @Test("the NumPy reader, written from the spec, reads what Swift writes",
          .enabled(if: pythonWithNumpyAvailable, "python3 with numpy is not installed"))
    func numpyReadsSwiftFile() throws {
        for floatType in [DType.float32, .float16] {
            let url = try Fixtures.temporaryDirectory().appendingPathComponent("model.bin")
            try CRNNFileWriter.write(metadata: Samples.metadata(floatType), tensors: try Samples.mixedTensors(),
                                     floatType: floatType, to: url)
            let run = try Python.run([Example.reader.path, "--json", url.path])
            #expect(run.status == 0)
            try compare(try CRNNFile.open(path: url.path), with: run.output)
        }
    }

    @Test("the NumPy reader rejects a damaged file",
          .enabled(if: pythonWithNumpyAvailable, "python3 with numpy is not installed"))
    func numpyRejectsDamage() throws {
        let folder = try Fixtures.temporaryDirectory()
        var bytes = try Samples.smallFile()
        let cases: [(String, [UInt8])] = [
            ("truncated", Array(bytes.dropLast())),
            ("flipped", { var b = bytes; b[b.count - 3] ^= 1; return b }()),
            ("misaligned", Samples.patched(bytes, at: Samples.firstEntryFields(bytes).offset,
                                           UInt64(Samples.u64(bytes, at: Samples.firstEntryFields(bytes).offset) + 8))),
            ("future", Samples.patched(bytes, at: 8, UInt16(2))),
        ]
        for (name, damaged) in cases {
            let url = folder.appendingPathComponent("\(name).bin")
            try Data(damaged).write(to: url)
            #expect(try Python.run([Example.reader.path, url.path]).status == 1, "\(name)")
        }
        bytes = try Samples.smallFile()
        let valid = folder.appendingPathComponent("valid.bin")
        try Data(bytes).write(to: valid)
        #expect(try Python.run([Example.reader.path, valid.path]).status == 0)
    }

    @Test("formats/example.bin is what the writer produces today (CRNN_WRITE_EXAMPLE=1 regenerates it)")
    func exampleIsCurrent() throws {
        let bytes = try Example.bytes()
        if ProcessInfo.processInfo.environment["CRNN_WRITE_EXAMPLE"] == "1" {
            try Data(bytes).write(to: Example.binary)
        }
        #expect(try Data(contentsOf: Example.binary) == Data(bytes))
    }

    @Test("formats/example.json (the NumPy reader's output) matches what Swift reads from example.bin")
    func exampleMatchesCommittedJSON() throws {
        let file = try CRNNFile.open(path: Example.binary.path)
        try compare(file, with: Data(contentsOf: Example.json))
        #expect(file.metadata == (try Example.contents()).0)
    }
}
