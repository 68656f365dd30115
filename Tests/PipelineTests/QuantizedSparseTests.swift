import Foundation
import Testing
import TestSupport
import Conversion
import Inspection
import TorchCheckpoint

/// Quantized and sparse tensors are listed with what torch says about them
/// (scheme, scale(s), zero point(s); layout, dense size, stored values), their
/// stored numbers read as torch stores them, and refused where a dense
/// tensor is needed.
struct QuantizedSparseTests {
    static let stem = "checkpoints/quantized_sparse_zip"

    @Test func listedAsTorchDescribesThem() throws {
        let json = try #require(try Fixtures.json(Self.stem + ".listing.json") as? [String: Any])
        let expected = try #require(json["tensors"] as? [[String: Any]])
        let report = try Inspector.inspect(path: Fixtures.url(Self.stem + ".pt").path, statistics: false)
        #expect(report.tensors.map(\.name) == expected.compactMap { $0["name"] as? String })
        for (tensor, want) in zip(report.tensors, expected) {
            let name = tensor.name
            #expect(tensor.dtype == want["dtype"] as? String, "\(name)")
            #expect(tensor.shape == want["shape"] as? [Int], "\(name)")
            let layout = want["layout"] as? String
            #expect(tensor.layout == (layout == "strided" ? nil : layout), "\(name)")
            #expect(tensor.storedValues == want["stored_values"] as? Int, "\(name)")
            #expect(tensor.quantization?.scheme == want["qscheme"] as? String, "\(name)")
            #expect(tensor.quantization?.scale == want["scale"] as? Double, "\(name)")
            #expect(tensor.quantization?.zeroPoint == want["zero_point"] as? Int, "\(name)")
            #expect(tensor.quantization?.axis == want["axis"] as? Int, "\(name)")
            #expect(tensor.quantization?.scales == (want["scales"] as? [Any])?.compactMap(SafetensorsListing.number), "\(name)")
            #expect(tensor.quantization?.zeroPoints == (want["zero_points"] as? [Any])?.compactMap(SafetensorsListing.number), "\(name)")
        }
    }

    /// A quantized tensor's entry holds its stored integers (`int_repr()`), a
    /// sparse tensor's its stored values (`values()`).
    @Test func storedNumbersReadAsTorchStoresThem() throws {
        let json = try #require(try Fixtures.json(Self.stem + ".listing.json") as? [String: Any])
        let expected = try #require(json["tensors"] as? [[String: Any]])
        let stateDict = try TorchCheckpoint.open(path: Fixtures.url(Self.stem + ".pt").path).loadStateDict()
        for want in expected {
            let name = try #require(want["name"] as? String)
            guard let values = want["values"] as? [Any] else { continue }  // the dense tensor lists head/tail
            let tensor = try #require(stateDict[name])
            #expect(tensor.doubleValues() == values.compactMap(SafetensorsListing.number), "\(name)")
        }
    }

    @Test func conversionAndExportRefuseThemByName() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = Fixtures.url(Self.stem + ".pt").path
        let kind = "quantized (qint8, per_tensor_affine)"
        #expect(throws: ConversionError.notDenseTensor(file: input, tensor: "per_tensor_qint8", kind: kind)) {
            try Converter.convert(input: input, output: folder.appendingPathComponent("q.bin").path)
        }
        #expect(throws: ConversionError.notDenseTensor(file: input, tensor: "per_tensor_qint8", kind: kind)) {
            try SafetensorsExport.convert(input: input, output: folder.appendingPathComponent("q.safetensors").path)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
    }
}
