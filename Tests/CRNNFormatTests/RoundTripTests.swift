import Foundation
@testable import CRNNFormat
import TensorCore
import TestSupport
import Testing

@Suite("CRNN-BIN round trip")
struct RoundTripTests {
    /// The stored bytes of `tensor` in the file.
    private func storedBytes(_ tensor: Tensor?) throws -> [UInt8] {
        try #require(tensor).contiguousBytes()
    }

    @Test("every kind of tensor comes back bit-exact, 64-byte aligned, in order")
    func mixedRoundTrip() throws {
        let folder = try Fixtures.temporaryDirectory()
        let url = folder.appendingPathComponent("model.bin")
        let source = try Samples.mixedTensors()
        let summary = try CRNNFileWriter.write(metadata: Samples.metadata(), tensors: source, floatType: .float32, to: url)

        let file = try CRNNFile.open(path: url.path)
        #expect(file.metadata == Samples.metadata())
        #expect(file.formatVersion == CRNNFormatVersion(major: 1, minor: 0))
        #expect(file.tensors.names == source.map(\.name))
        #expect(summary.bytesWritten == file.fileSize)
        #expect(summary.tensorCount == source.count)
        #expect(summary.parameterCount == 8 + 1 + 0 + 12 + 4 + 4 + 2 + 3)
        let onDisk = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int
        #expect(onDisk == file.fileSize)

        for (name, original) in source {
            let tensor = try #require(file.tensors[name])
            #expect(tensor.shape == original.shape, "\(name)")
            #expect(tensor.isContiguous)
            let offset = try #require(file.dataOffsets[name])
            #expect(offset % 64 == 0, "\(name) at \(offset)")
            let address = Int(bitPattern: tensor.storage.buffer.baseAddress) + tensor.storage.offset
            #expect(address % 64 == 0, "\(name) is not 64-byte aligned in memory")
        }
        // Same-dtype tensors: the exact source bytes, NaN payload and -0 included.
        #expect(try storedBytes(file.tensors["resnet.0.weight"]) == source[0].tensor.contiguousBytes())
        #expect(try storedBytes(file.tensors["resnet.1.num_batches_tracked"]) == source[1].tensor.contiguousBytes())
        #expect(file.tensors["resnet.1.num_batches_tracked"]?.dtype == .int64)
        #expect(file.tensors["empty"]?.elementCount == 0)
        #expect(file.dataOffsets["tail.empty"] == file.fileSize)
        #expect(file.tensors["transposed"]?.floatValues() == [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11])
        #expect(file.tensors["counts.int32"]?.dtype == .int32)
        #expect(try storedBytes(file.tensors["counts.int32"]) == source[6].tensor.contiguousBytes())
        #expect(try storedBytes(file.tensors["mask"]) == [1, 0, 1])
        // Converted floats: float32 of the source value, rounded once.
        #expect(file.tensors["from.float64"]?.dtype == .float32)
        #expect(file.tensors["from.float64"]?.floatValues().map(\.bitPattern)
                == [0.1, -2.5, 1e300, 3.0000001].map { Float($0 as Double).bitPattern })
        #expect(file.tensors["from.float16"]?.floatValues() == [1, -2, 0x1p-24, 65504])
    }

    @Test("a float16 file stores every float tensor as float16 and keeps int64")
    func float16Output() throws {
        let bytes = try Samples.fileBytes(try Samples.mixedTensors(), floatType: .float16)
        let file = try Samples.open(bytes)
        #expect(file.metadata.storedFloatType == .float16)
        for (name, tensor) in file.tensors.entries {
            #expect(tensor.dtype.isFloatingPoint ? tensor.dtype == .float16 : tensor.dtype != .float16, "\(name)")
        }
        #expect(file.tensors["resnet.1.num_batches_tracked"]?.dtype == .int64)
        #expect(file.tensors["transposed"]?.floatValues() == [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11])
        #expect(file.tensors["from.float16"]?.contiguousBytes() == [0x00, 0x3C, 0x00, 0xC0, 0x01, 0x00, 0xFF, 0x7B])
    }

    @Test("the writer is deterministic and the metadata JSON uses the documented keys")
    func deterministicMetadata() throws {
        let first = try Samples.smallFile()
        #expect(first == (try Samples.smallFile()))
        let file = try Samples.open(first)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(file.metadataJSON.utf8)) as? [String: Any])
        #expect(Set(object.keys) == [
            "architecture", "hidden_size", "vocabulary_size", "trunk_widths", "rnn_input_size", "feature_rows",
            "alphabet", "blank_index", "nominal_input_height", "min_input_height", "max_input_height",
            "source_file_name", "source_sha256", "converter_name", "converter_version", "stored_float_type",
        ])
        #expect(object["stored_float_type"] as? String == "float32")
        #expect(Array(first[0..<8]) == Array("CRNN-BIN".utf8))
        #expect(Samples.u64(first, at: 32) == 64)
    }

    @Test("a file with no tensors round-trips")
    func noTensors() throws {
        let file = try Samples.open(try Samples.fileBytes([]))
        #expect(file.tensors.isEmpty)
        #expect(file.metadata == Samples.metadata())
    }

    @Test("unknown metadata keys and a newer minor version are accepted (forward compatibility)")
    func forwardCompatible() throws {
        var object = try #require(try JSONSerialization.jsonObject(with: MetadataCoding.encode(Samples.metadata()).data) as? [String: Any])
        object["future_key"] = ["nested": [1, 2, 3]]
        let json = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        var bytes = FileLayout.encode(metadataJSON: Array(json), tensors: [
            StoredTensor(name: "w", dtype: .float32, shape: [1], bytes: [0, 0, 128, 63]),
        ])
        bytes = Samples.patched(bytes, at: 10, UInt16(7))
        let file = try Samples.open(bytes)
        #expect(file.formatVersion == CRNNFormatVersion(major: 1, minor: 7))
        #expect(file.metadata == Samples.metadata())
        #expect(file.metadataJSON.contains("future_key"))
        #expect(file.tensors["w"]?.floatValues() == [1])
    }
}

private extension Array where Element == UInt8 {
    var data: Data { Data(self) }
}
