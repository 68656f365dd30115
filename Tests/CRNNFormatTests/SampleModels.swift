import Foundation
@testable import CRNNFormat
import TensorCore

/// Small models and byte-patching helpers shared by the CRNNFormat tests.
enum Samples {
    /// Valid metadata of a tiny model storing floats as `floatType`.
    static func metadata(_ floatType: DType = .float32) -> CRNNModelMetadata {
        CRNNModelMetadata(
            architecture: "crnn-resnet18-gru", hiddenSize: 256, vocabularySize: 37, trunkWidths: [64, 128, 256],
            rnnInputSize: 256, featureRows: 4, alphabet: "abcdefghijklmnopqrstuvwxyz0123456789", blankIndex: 0,
            nominalInputHeight: 50, minInputHeight: 49, maxInputHeight: 64, sourceFileName: "crnn.pt",
            sourceSHA256: String(repeating: "0f", count: 32), converterName: "crnn-format-tests",
            converterVersion: "1.0", storedFloatType: floatType)
    }

    /// A float32 tensor of `values` in `shape`.
    static func float32(_ values: [Float], _ shape: [Int]) throws -> Tensor {
        try Tensor(float32: values, shape: shape)
    }

    /// A contiguous tensor of `dtype` from the raw little-endian bytes of `values`.
    static func raw<T>(_ dtype: DType, _ values: [T], _ shape: [Int]) throws -> Tensor {
        try Tensor(dtype: dtype, shape: shape, bytes: values.withUnsafeBytes { Array($0) })
    }

    /// A `[4, 3]` float32 view with strides `[1, 4]` over the storage 0...11:
    /// element (i, j) is storage[i + 4 j], so row-major order is
    /// 0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11.
    static func transposed() throws -> Tensor {
        let storage = (0..<12).map { Float($0) }.withUnsafeBytes { ByteSlice(copying: Array($0)) }
        return try Tensor(dtype: .float32, shape: [4, 3], strides: [1, 4], storageOffset: 0, storage: storage)
    }

    /// Tensors of every kind the round trip covers.
    static func mixedTensors() throws -> [(name: String, tensor: Tensor)] {
        [
            ("resnet.0.weight", try float32([0.5, -0.0, .infinity, -.infinity, Float(bitPattern: 0x7FC0_1234),
                                             Float(bitPattern: 0x0001_1170), -3.25, .greatestFiniteMagnitude], [2, 1, 2, 2])),
            ("resnet.1.num_batches_tracked", try raw(.int64, [Int64(123_456_789_012)], [])),
            ("empty", try float32([], [0, 3])),
            ("transposed", try transposed()),
            ("from.float64", try raw(.float64, [0.1, -2.5, 1e300, 3.0000001], [4])),
            ("from.float16", try raw(.float16, [UInt16(0x3C00), 0xC000, 0x0001, 0x7BFF], [2, 2])),
            ("counts.int32", try raw(.int32, [Int32(-7), 2_000_000_000], [2])),
            ("mask", try raw(.bool, [UInt8(1), 0, 1], [3])),
            ("tail.empty", try float32([], [0])),  // data offset == file size
        ]
    }

    /// The bytes of a file holding `tensors` with valid metadata.
    static func fileBytes(
        _ tensors: [(name: String, tensor: Tensor)], floatType: DType = .float32
    ) throws -> [UInt8] {
        try CRNNFileWriter.encode(metadata: metadata(floatType), tensors: tensors, floatType: floatType, file: "test.bin")
    }

    /// A small valid file: three tensors.
    static func smallFile() throws -> [UInt8] {
        try fileBytes([
            ("a.weight", try float32([1, 2, 3, 4, 5, 6], [2, 3])),
            ("a.num_batches_tracked", try raw(.int64, [Int64(5)], [])),
            ("b.bias", try float32([-1, 0.5], [2])),
        ])
    }

    /// Opens `bytes` as a file named "test.bin".
    static func open(_ bytes: [UInt8]) throws(CRNNFormatError) -> CRNNFile {
        try CRNNFile.open(buffer: ByteBuffer(copying: bytes), name: "test.bin")
    }

    /// `bytes` with `value` stored little-endian at `offset` and the checksum
    /// recomputed, so only the structural checks can object.
    static func patched<T: FixedWidthInteger>(_ bytes: [UInt8], at offset: Int, _ value: T) -> [UInt8] {
        var copy = bytes
        withUnsafeBytes(of: value.littleEndian) { for (i, b) in $0.enumerated() { copy[offset + i] = b } }
        FileLayout.refreshChecksum(of: &copy)
        return copy
    }

    /// A little-endian u64 read from `bytes` at `offset`.
    static func u64(_ bytes: [UInt8], at offset: Int) -> Int {
        (0..<8).reduce(0) { $0 | Int(bytes[offset + $1]) << (8 * $1) }
    }

    /// Where the first directory entry's fields are: name length, dtype, rank,
    /// first dimension (if any), data offset, byte length.
    static func firstEntryFields(_ bytes: [UInt8]) -> (name: Int, dtype: Int, rank: Int, shape: Int, offset: Int, length: Int) {
        let start = u64(bytes, at: 48)
        let nameLength = Int(bytes[start]) | Int(bytes[start + 1]) << 8
        let dtype = start + 4 + nameLength
        let rank = Int(bytes[dtype + 2])
        let shape = dtype + 4
        let offset = shape + 8 * rank
        return (start, dtype, dtype + 2, shape, offset, offset + 8)
    }
}
