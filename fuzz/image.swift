// libFuzzer harness: the PNG/JPEG decoders on arbitrary bytes.
import ImageDecoding

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    if let image = try? ImageDecoder.decode(bytes: Array(UnsafeBufferPointer(start: data, count: size)), name: "fuzz") {
        _ = image.planarFloats().count
    }
    return 0
}
