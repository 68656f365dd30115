// libFuzzer harness: the pickle machine on arbitrary bytes, with the torch
// allowlist shape (containers, rebuild functions, storages) and inert classes on.
import Pickle

let policy: PicklePolicy = {
    var globals = [PickleGlobal: PicklePolicy.Role]()
    globals[PickleGlobal("collections", "OrderedDict")] = .dictType
    globals[PickleGlobal("builtins", "set")] = .setType
    globals[PickleGlobal("_codecs", "encode")] = .bytesFromText
    globals[PickleGlobal("copyreg", "_reconstructor")] = .reconstructor
    globals[PickleGlobal("builtins", "object")] = .value
    globals[PickleGlobal("torch._utils", "_rebuild_tensor_v2")] = .callable
    globals[PickleGlobal("torch", "FloatStorage")] = .value
    return PicklePolicy(globals: globals, allowsInertClasses: true)
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    _ = try? Unpickler(policy: policy).load(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
