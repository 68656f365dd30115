import Foundation
@testable import CRNNFormat
import TensorCore
import TestSupport
import Testing

/// Float16 rounding checked against NumPy's astype(float16)
/// (fixtures/crnn_format_float16.py).
@Suite("CRNN-BIN float16 conversion")
struct Float16Tests {
    private struct Oracle: Decodable {
        let float32_bits: [UInt32]
        let float32_to_float16_bits: [UInt16]
        let float64_bits_hex: [String]
        let float64_to_float16_bits: [UInt16]
        let float16_bits: [UInt16]
        let float16_to_float32_bits: [UInt32]
    }

    private func oracle() throws -> Oracle {
        try JSONDecoder().decode(Oracle.self, from: Data(contentsOf: Fixtures.url("crnn_format_float16.json")))
    }

    private func isNaN(_ bits: UInt16) -> Bool { bits & 0x7C00 == 0x7C00 && bits & 0x03FF != 0 }

    /// Equal bits, or both NaN (NaN payloads are not part of the contract).
    private func same(_ a: UInt16, _ b: UInt16) -> Bool { a == b || (isNaN(a) && isNaN(b)) }

    /// The float16 bit patterns stored for `tensor` in a float16 file.
    private func storedHalfBits(_ tensor: Tensor) throws -> [UInt16] {
        let bytes = try Samples.fileBytes([("x", tensor)], floatType: .float16)
        let stored = try #require(try Samples.open(bytes).tensors["x"])
        #expect(stored.dtype == .float16)
        let raw = stored.contiguousBytes()
        return stride(from: 0, to: raw.count, by: 2).map { UInt16(raw[$0]) | UInt16(raw[$0 + 1]) << 8 }
    }

    @Test("float32 -> float16 matches NumPy bit for bit")
    func fromFloat32() throws {
        let o = try oracle()
        let source = try Samples.raw(.float32, o.float32_bits, [o.float32_bits.count])
        let stored = try storedHalfBits(source)
        #expect(stored.count == o.float32_to_float16_bits.count)
        for (index, (got, want)) in zip(stored, o.float32_to_float16_bits).enumerated() {
            #expect(same(got, want), "case \(index): float32 bits \(o.float32_bits[index]) gave \(got), NumPy \(want)")
        }
    }

    @Test("float64 -> float16 rounds once, like NumPy")
    func fromFloat64() throws {
        let o = try oracle()
        let bits = try o.float64_bits_hex.map { try #require(UInt64($0, radix: 16)) }
        let source = try Samples.raw(.float64, bits, [bits.count])
        let stored = try storedHalfBits(source)
        for (index, (got, want)) in zip(stored, o.float64_to_float16_bits).enumerated() {
            #expect(same(got, want), "case \(index): float64 \(o.float64_bits_hex[index]) gave \(got), NumPy \(want)")
        }
        #expect(stored.count == o.float64_to_float16_bits.count)
    }

    @Test("float16 -> float32 widening is exact")
    func widening() throws {
        let o = try oracle()
        let source = try Samples.raw(.float16, o.float16_bits, [o.float16_bits.count])
        let bytes = try Samples.fileBytes([("x", source)], floatType: .float32)
        let stored = try #require(try Samples.open(bytes).tensors["x"]).floatValues()
        for (index, (got, want)) in zip(stored, o.float16_to_float32_bits).enumerated() {
            #expect(got.bitPattern == want || (got.isNaN && Float(bitPattern: want).isNaN), "case \(index)")
        }
    }
}
