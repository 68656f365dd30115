import Foundation
import Testing
@testable import TensorCore

@Suite struct TensorTests {
    @Test func transposedViewReadsInLogicalOrder() throws {
        // storage 0 1 2 / 3 4 5 viewed as its 3x2 transpose
        let base = try Tensor(float32: [0, 1, 2, 3, 4, 5], shape: [2, 3])
        let transposed = try Tensor(dtype: .float32, shape: [3, 2], strides: [1, 3], storageOffset: 0, storage: base.storage)
        #expect(!transposed.isContiguous)
        #expect(transposed.floatValues() == [0, 3, 1, 4, 2, 5])
        #expect(transposed.contiguous().isContiguous)
    }

    @Test func viewsPastTheStorageAreRefused() throws {
        let base = try Tensor(float32: [0, 1, 2, 3], shape: [4])
        #expect(throws: TensorCoreError.outOfBounds(needed: 5, available: 4)) {
            try Tensor(dtype: .float32, shape: [2, 2], strides: [2, 1], storageOffset: 1, storage: base.storage)
        }
        #expect(throws: TensorCoreError.sizeOverflow(shape: [Int.max, 3], strides: [1, 1])) {
            try Tensor(dtype: .float32, shape: [Int.max, 3], strides: [1, 1], storageOffset: 0, storage: base.storage)
        }
    }

    @Test func halfAndBFloatDecode() throws {
        // 1.0, -2.0, 65504 (largest half), smallest subnormal, in float16 bit patterns
        let half: [UInt16] = [0x3C00, 0xC000, 0x7BFF, 0x0001]
        let tensor = try Tensor(dtype: .float16, shape: [4], bytes: half.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
        #expect(tensor.doubleValues() == [1, -2, 65504, 0x1p-24])
        let bf: [UInt16] = [0x3F80, 0xC040]  // 1.0, -3.0
        let bfloat = try Tensor(dtype: .bfloat16, shape: [2], bytes: bf.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
        #expect(bfloat.floatValues() == [1, -3])
    }
}

/// Hex text of bytes agrees with Foundation's `%02x` / `%02X` for every byte value.
@Test func hexMatchesFormattedBytes() {
    let bytes = (0...255).map(UInt8.init)
    #expect(Hex.string(bytes) == bytes.map { String(format: "%02x", $0) }.joined())
    #expect(Hex.string(bytes, separator: " ", uppercase: true) == bytes.map { String(format: "%02X", $0) }.joined(separator: " "))
    #expect(Hex.string([UInt8]()).isEmpty)
}
