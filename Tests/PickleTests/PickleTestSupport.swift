import Foundation
import Pickle
import TestSupport

/// Policies the fixture JSON files name, and the comparison of a
/// `PickleValue` with the tagged JSON that fixtures/make_pickle_fixtures.py writes.
enum PickleTestSupport {
    static let containers: [PickleGlobal: PicklePolicy.Role] = [
        PickleGlobal("builtins", "set"): .setType,
        PickleGlobal("builtins", "frozenset"): .setType,
        PickleGlobal("builtins", "dict"): .dictType,
        PickleGlobal("builtins", "list"): .listType,
        PickleGlobal("collections", "OrderedDict"): .dictType,
        PickleGlobal("_codecs", "encode"): .bytesFromText,
        PickleGlobal("builtins", "bytes"): .bytesFromText,
        PickleGlobal("builtins", "bytearray"): .bytesFromText,
        PickleGlobal("copyreg", "_reconstructor"): .reconstructor,
        PickleGlobal("builtins", "object"): .value,
    ]

    /// Resembles the torch checkpoint reader's allowlist.
    static let torch: [PickleGlobal: PicklePolicy.Role] = containers.merging([
        PickleGlobal("torch._utils", "_rebuild_tensor_v2"): .callable,
        PickleGlobal("torch._utils", "_rebuild_parameter"): .callable,
        PickleGlobal("torch", "Size"): .callable,
        PickleGlobal("torch", "FloatStorage"): .value,
        PickleGlobal("torch", "LongStorage"): .value,
        PickleGlobal("torch", "HalfStorage"): .value,
        PickleGlobal("torch", "float16"): .value,
    ]) { a, _ in a }

    static let numpy: [PickleGlobal: PicklePolicy.Role] = containers.merging([
        PickleGlobal("numpy._core.multiarray", "_reconstruct"): .callable,
        PickleGlobal("numpy.core.multiarray", "_reconstruct"): .callable,
        PickleGlobal("numpy", "ndarray"): .value,
        PickleGlobal("numpy", "dtype"): .callable,
    ]) { a, _ in a }

    static func policy(named name: String) -> PicklePolicy? {
        switch name {
        case "standard": PicklePolicy(globals: torch)
        case "torch": PicklePolicy(globals: torch)
        case "numpy": PicklePolicy(globals: numpy)
        case "inert": PicklePolicy(globals: torch, allowsInertClasses: true)
        default: nil
        }
    }

    /// The fixture case names (file stems) in fixtures/pickle.
    static let caseNames: [String] = {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: Fixtures.url("pickle").path)) ?? []
        return files.filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
    }()

    static func bytes(of caseName: String) throws -> [UInt8] {
        Array(try Data(contentsOf: Fixtures.url("pickle/\(caseName).pkl")))
    }

    /// The name of an error's case, as the fixture JSON spells it.
    static func kind(of error: PickleError) -> String {
        switch error {
        case .truncated: "truncated"
        case .unknownOpcode: "unknownOpcode"
        case .forbiddenGlobal: "forbiddenGlobal"
        case .notCallable: "notCallable"
        case .stackUnderflow: "stackUnderflow"
        case .markMissing: "markMissing"
        case .memoMissing: "memoMissing"
        case .invalidValue: "invalidValue"
        case .tooDeep: "tooDeep"
        case .tooManyValues: "tooManyValues"
        case .cycle: "cycle"
        case .tooLarge: "tooLarge"
        case .limitExceeded: "limitExceeded"
        case .unsupported: "unsupported"
        }
    }

    /// Nil when `value` is what the tagged JSON `expected` describes, else
    /// where and how they differ. Floats compare by bits (any NaN equals any
    /// NaN); sets ignore order.
    static func mismatch(_ value: PickleValue, _ expected: Any, at path: String = "$") -> String? {
        guard let e = expected as? [String: Any], let t = e["t"] as? String else { return "\(path): bad expected JSON" }
        let fail = "\(path): expected \(t), got \(value)"
        switch (t, value) {
        case ("none", .none): return nil
        case ("bool", .bool(let b)): return (e["v"] as? Bool) == b ? nil : fail
        case ("int", .int(let i)): return (e["v"] as? String) == String(i) && e["le"] == nil ? nil : fail
        case ("int", .bigInt(let bytes)): return (e["le"] as? String) == hex(bytes) ? nil : fail
        case ("float", .float(let d)):
            guard let bits = e["bits"] as? String, let expectedBits = UInt64(bits, radix: 16) else { return fail }
            let expectedValue = Double(bitPattern: expectedBits)
            return expectedValue.isNaN && d.isNaN || expectedBits == d.bitPattern ? nil : fail
        case ("str", .string(let s)): return (e["v"] as? String) == s ? nil : fail
        case ("bytes", .bytes(let b)): return (e["hex"] as? String) == hex(b) ? nil : fail
        case ("global", .global(let g)): return (e["v"] as? String) == g.qualifiedName ? nil : fail
        case ("tuple", .tuple(let items)), ("list", .list(let items)):
            return sequenceMismatch(items, e["items"], at: path)
        case ("set", .set(let items)):
            guard let expectedItems = e["items"] as? [Any], expectedItems.count == items.count else { return fail }
            var unused = Array(items.indices)
            for (k, x) in expectedItems.enumerated() {
                guard let found = unused.firstIndex(where: { mismatch(items[$0], x) == nil }) else { return "\(path){\(k)}: no match in \(items)" }
                unused.remove(at: found)
            }
            return nil
        case ("dict", .dict(let dict)):
            guard let pairs = e["items"] as? [[Any]], pairs.count == dict.entries.count else { return "\(fail) (entry count)" }
            for (k, pair) in pairs.enumerated() {
                guard pair.count == 2 else { return fail }
                if let m = mismatch(dict.entries[k].key, pair[0], at: "\(path).key\(k)") { return m }
                if let m = mismatch(dict.entries[k].value, pair[1], at: "\(path)[\(k)]") { return m }
            }
            return optionalMismatch(dict.attributes, e["attrs"], at: "\(path).attrs")
        case ("call", .call(let g, let arguments, let state)), ("object", .object(let g, let arguments, let state)):
            guard (e["g"] as? String) == g.qualifiedName else { return fail }
            return sequenceMismatch(arguments, e["args"], at: "\(path).args")
                ?? optionalMismatch(state, e["state"], at: "\(path).state")
        case ("persistent", .persistent(let id)): return mismatch(id, e["id"] as Any, at: "\(path).id")
        default: return fail
        }
    }

    private static func sequenceMismatch(_ items: [PickleValue], _ expected: Any?, at path: String) -> String? {
        guard let expectedItems = expected as? [Any], expectedItems.count == items.count else {
            return "\(path): expected \(String(describing: expected)) items, got \(items)"
        }
        for (k, pair) in zip(items, expectedItems).enumerated() {
            if let m = mismatch(pair.0, pair.1, at: "\(path)[\(k)]") { return m }
        }
        return nil
    }

    private static func optionalMismatch(_ value: PickleValue?, _ expected: Any?, at path: String) -> String? {
        switch (value, expected) {
        case (nil, nil), (nil, is NSNull): return nil
        case (let v?, let x?) where !(x is NSNull): return mismatch(v, x, at: path)
        default: return "\(path): expected \(String(describing: expected)), got \(String(describing: value))"
        }
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}
