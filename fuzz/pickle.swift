// libFuzzer harness: the pickle machine on arbitrary bytes, under the policy
// the checkpoint reader really uses (TorchAllowlist.policy: the torch
// weights-only globals, the persistent-id resolver for legacy module saves),
// strict for inputs of even length and admitting pickled modules (inert
// classes) for odd ones, so no byte of the input is spent on the choice.
import Pickle
@testable import TorchCheckpoint

let limits = CheckpointOptions().pickleLimits
let strict = TorchAllowlist.policy(allowingModules: false, limits: limits)
let allowingModules = TorchAllowlist.policy(allowingModules: true, limits: limits)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let policy = size % 2 == 0 ? strict : allowingModules
    _ = try? Unpickler(policy: policy).load(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
