// libFuzzer harness: the .bin reader on arbitrary bytes (mutations of real
// files mostly fail the checksum; the harness also tries each input with its
// checksum repaired, so the fuzzer reaches the structural checks).
import CRNNFormat
import CZlib
import TensorCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var bytes = Array(UnsafeBufferPointer(start: data, count: size))
    for attempt in 0..<2 {
        if attempt == 1 {
            guard bytes.count >= 28 else { break }
            let head = bytes.withUnsafeBufferPointer { crc32(0, $0.baseAddress, 24) }
            let crc = bytes.withUnsafeBufferPointer { crc32(head, $0.baseAddress! + 28, UInt32(bytes.count - 28)) }
            for k in 0..<4 { bytes[24 + k] = UInt8(truncatingIfNeeded: UInt32(crc) >> (8 * UInt32(k))) }
        }
        if let file = try? CRNNFile.open(buffer: ByteBuffer(copying: bytes), name: "fuzz.bin") {
            for (_, tensor) in file.tensors.entries { _ = tensor.doubleValues().count }
        }
    }
    return 0
}
