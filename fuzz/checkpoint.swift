// libFuzzer harness: the whole checkpoint reader (zip and legacy) on arbitrary
// bytes, reading every tensor's data when the file opens.
import TensorCore
import TorchCheckpoint

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let buffer = ByteBuffer(copying: UnsafeBufferPointer(start: data, count: size))
    if let checkpoint = try? TorchCheckpoint(buffer: buffer, fileName: "fuzz.pt", options: CheckpointOptions(allowPickledModules: true)),
       let stateDict = try? checkpoint.loadStateDict() {
        for (_, tensor) in stateDict.entries { _ = tensor.doubleValues().count }
    }
    return 0
}
