// libFuzzer harness: the whole checkpoint reader (zip and legacy, TorchScript
// archives, quantized and sparse tensors, the walk for every tensor) on arbitrary
// bytes. When the file opens, every tensor's data is read too, for inputs of up
// to 64 KiB (scripts/fuzz.sh caps inputs at 16 KiB) and while the tensors hold
// at most 1 Mi elements together: a zero stride lets a few bytes stand for
// billions of elements, and walking them all would only measure the fuzzer's
// patience. The pickle limits are lowered for the same reason (nesting 64, not
// 200; 100,000 values, not 10 million): reaching a limit costs every step up to
// it, and a chain of persistent ids costs the square of its depth.
import Pickle
import TensorCore
import TorchCheckpoint

let options = CheckpointOptions(allowPickledModules: true, pickleLimits: PickleLimits(maxDepth: 64, maxValues: 100_000))

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let buffer = ByteBuffer(copying: UnsafeBufferPointer(start: data, count: size))
    guard let checkpoint = try? TorchCheckpoint(buffer: buffer, fileName: "fuzz.pt", options: options),
          size <= 64 << 10 else { return 0 }
    var elements = 0
    for (_, record) in checkpoint.tensors {
        let (count, overflow) = record.shape.reduce((1, false)) { total, dimension in
            let (product, wrapped) = total.0.multipliedReportingOverflow(by: max(dimension, 0))
            return (product, total.1 || wrapped)
        }
        elements += overflow ? 1 << 40 : count
        if elements > 1 << 20 { break }
    }
    // Every tensor in the object, inside the state_dict or not (crnn-inspect's count and --all).
    _ = try? checkpoint.inventory()
    if let stateDict = try? checkpoint.loadStateDict(), elements <= 1 << 20 {
        for (_, tensor) in stateDict.entries { _ = tensor.doubleValues().count }
        // A per-channel quantized tensor's scales and zero points (read for the listing).
        for (_, record) in checkpoint.tensors { _ = try? checkpoint.channelQuantizationParameters(of: record) }
    }
    return 0
}
