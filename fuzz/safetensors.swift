// libFuzzer harness: the safetensors reader on arbitrary bytes. Every input
// goes through the header validation (SafetensorsHeader) and, named
// `fuzz.safetensors` so that the checkpoint entry point takes even a header
// without its '{' as safetensors, through TorchCheckpoint; when the file opens,
// every tensor's values are read (all of them lie inside the input once the
// header is valid, so there is no size guard to apply).
import TensorCore
import TorchCheckpoint

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let raw = UnsafeRawBufferPointer(start: data, count: size)
    if let header = try? SafetensorsHeader(file: raw) {
        // A valid header's tensors tile the buffer exactly.
        let covered = header.entries.reduce(0) { $0 + $1.dataRange.count }
        precondition(header.dataStart + covered == size, "a header accepted with tensors that do not cover the buffer")
    }
    let buffer = ByteBuffer(copying: UnsafeBufferPointer(start: data, count: size))
    guard let checkpoint = try? TorchCheckpoint(buffer: buffer, fileName: "fuzz.safetensors"),
          let stateDict = try? checkpoint.loadStateDict() else { return 0 }
    for (_, tensor) in stateDict.entries { _ = tensor.doubleValues().count }
    return 0
}
