import Foundation
import Pickle
import Testing
import TestSupport

/// Inputs built to hurt: none may trap, hang or exhaust memory.
struct HostileInputTests {
    let standard = Unpickler(policy: PicklePolicy(globals: PickleTestSupport.torch))
    let inert = Unpickler(policy: PicklePolicy(globals: PickleTestSupport.torch, allowsInertClasses: true))

    /// The kind of error `bytes` raises, or nil when it loads.
    func failure(_ bytes: [UInt8], _ unpickler: Unpickler? = nil) -> PickleError? {
        do {
            _ = try (unpickler ?? standard).load(bytes)
            return nil
        } catch let error as PickleError {
            return error
        } catch {
            Issue.record("non-PickleError thrown: \(error)")
            return nil
        }
    }


    @Test func deepTupleNestingIsRefusedWithTooDeep() throws {
        // NONE, then 100k TUPLE1: a tuple nested 100k deep.
        let bytes: [UInt8] = [0x80, 2, 0x4E] + [UInt8](repeating: 0x85, count: 100_000) + [0x2E]
        let error = try #require(failure(bytes))
        guard case .tooDeep(let limit, _) = error else { Issue.record("got \(error)"); return }
        #expect(limit == 200)
    }

    @Test func deepNestingWithinTheLimitLoads() throws {
        let bytes: [UInt8] = [0x80, 2, 0x4E] + [UInt8](repeating: 0x85, count: 199) + [0x2E]
        var value = try standard.load(bytes).value
        var levels = 0
        while case .tuple(let items) = value, let first = items.first { value = first; levels += 1 }
        #expect(levels == 199)
        #expect(value == .none)
    }

    @Test func deepMarkAndListNestingIsRefusedWithTooDeep() throws {
        // EMPTY_LIST, then 100k times (MARK EMPTY_LIST), then 100k APPENDS
        // (each appends the list above into the list below), STOP.
        let depth = 100_000
        var bytes: [UInt8] = [0x80, 2]
        for _ in 0..<depth { bytes += [0x5D, 0x28] }
        bytes += [0x5D] + [UInt8](repeating: 0x65, count: depth) + [0x2E]
        let error = try #require(failure(bytes))
        guard case .tooDeep = error else { Issue.record("got \(error)"); return }
    }

    @Test func truncationAtEveryOffsetThrows() throws {
        for name in PickleTestSupport.caseNames where name.hasPrefix("structure_") || name.hasPrefix("torch_") || name.hasPrefix("inert_object_p") || name.hasPrefix("numpy") {
            let bytes = try PickleTestSupport.bytes(of: name)
            let policyName = name.hasPrefix("inert") ? "inert" : name.hasPrefix("numpy") ? "numpy" : "standard"
            let unpickler = Unpickler(policy: try #require(PickleTestSupport.policy(named: policyName)))
            let end = try unpickler.load(bytes).consumed
            for cut in 0..<end {
                do {
                    let result = try unpickler.load(Array(bytes[..<cut]))
                    Issue.record("\(name) cut at \(cut) loaded \(result.value)")
                } catch {
                    #expect(error is PickleError)
                }
            }
        }
    }

    @Test func randomBytesNeverTrap() {
        var generator = SplitMix64(seed: 0x5EED)
        var loaded = 0
        for round in 0..<3000 {
            let length = Int(generator.next() % 64)
            var bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            if round % 2 == 0 { bytes = [0x80, 2] + bytes }
            if failure(bytes, round % 3 == 0 ? inert : standard) == nil { loaded += 1 }
        }
        #expect(loaded < 3000)
    }

    @Test func mutatedFixturesNeverTrap() throws {
        var generator = SplitMix64(seed: 42)
        let original = try PickleTestSupport.bytes(of: "structure_p2")
        for _ in 0..<1000 {
            var bytes = original
            for _ in 0..<(1 + Int(generator.next() % 4)) {
                let at = Int(generator.next() % UInt64(bytes.count))
                bytes[at] = UInt8(truncatingIfNeeded: generator.next())
            }
            _ = failure(bytes, inert)
        }
    }

    @Test func memoBombFailsWithTooManyValues() throws {
        let bytes = try PickleTestSupport.bytes(of: "memo_bomb")
        let error = try #require(failure(bytes))
        guard case .tooManyValues(let limit, _) = error else { Issue.record("got \(error)"); return }
        #expect(limit == PickleLimits().maxValues)
    }

    /// Each persistent id is frozen for the resolver when BINPERSID reads it;
    /// those freezes and the result share one `maxValues` budget, so resolving
    /// a memoized structure again and again costs no more than the limit.
    @Test func resolvedPersistentIDsShareTheValueBudget() throws {
        var policy = PicklePolicy(globals: [:], limits: PickleLimits(maxValues: 1000))
        policy.persistentIDResolver = { _ in nil }
        let unpickler = Unpickler(policy: policy)
        // A memoized list of 99 Nones (100 values), then `times` x (BINGET 0, BINPERSID, POP), NONE, STOP.
        func pickle(resolving times: Int) -> [UInt8] {
            var bytes: [UInt8] = [0x80, 2, 0x5D, 0x71, 0, 0x28] + [UInt8](repeating: 0x4E, count: 99) + [0x65]
            for _ in 0..<times { bytes += [0x68, 0, 0x51, 0x30] }
            return bytes + [0x4E, 0x2E]
        }
        #expect(try unpickler.load(pickle(resolving: 9)).value == .none)
        let error = try #require(failure(pickle(resolving: 20), unpickler))
        guard case .tooManyValues(1000, _) = error else { Issue.record("got \(error)"); return }
    }

    @Test func sharedReferencesWithinTheLimitLoad() throws {
        // Two levels of the bomb: 16 * 16 references to one empty list.
        var bytes: [UInt8] = [0x80, 2, 0x5D, 0x71, 0]
        for _ in 0..<2 { bytes += [0x28] + [UInt8](repeating: 0, count: 16).flatMap { _ in [0x68, 0] } + [0x6C, 0x71, 0] }
        bytes += [0x2E]
        let value = try standard.load(bytes).value
        guard case .list(let outer) = value, case .list(let inner)? = outer.first else { Issue.record("got \(value)"); return }
        #expect(outer.count == 16 && inner.count == 16 && inner.first == .list([]))
    }

    @Test func stackAndMemoLimitsApply() throws {
        let small = PickleLimits(maxMemoEntries: 2, maxStackDepth: 10)
        let limited = Unpickler(policy: PicklePolicy(globals: [:], limits: small))
        let manyNones: [UInt8] = [0x80, 2] + [UInt8](repeating: 0x4E, count: 20) + [0x2E]
        guard case .limitExceeded(let what, 10, _)? = failure(manyNones, limited) else { Issue.record("stack limit"); return }
        #expect(what == "stack depth")
        let manyPuts: [UInt8] = [0x80, 2, 0x4E, 0x71, 0, 0x71, 1, 0x71, 2, 0x2E]
        guard case .limitExceeded(_, 2, _)? = failure(manyPuts, limited) else { Issue.record("memo limit"); return }
    }

    @Test func inertClassesNeverRunBlockedModules() throws {
        for (module, name) in [("os", "system"), ("posix", "system"), ("nt", "system"), ("subprocess", "Popen"),
                               ("builtins", "eval"), ("builtins", "exec"), ("builtins", "getattr"), ("__builtin__", "eval"),
                               ("os.path", "join"), ("importlib", "import_module"), ("pickle", "loads"), ("sys", "modules")] {
            let bytes = [0x80, 2, 0x63] + Array("\(module)\n\(name)\n".utf8) + [0x2E]
            let error = failure(bytes, inert)
            guard case .forbiddenGlobal(let m, let n, 2)? = error else { Issue.record("\(module).\(name): \(String(describing: error))"); continue }
            #expect(m == (module == "__builtin__" ? "builtins" : module) && n == name)
            // Even an explicit allowlist entry cannot let them through.
            let listed = Unpickler(policy: PicklePolicy(globals: [PickleGlobal(m, n): .callable]))
            #expect(failure(bytes, listed) != nil)
        }
        // Harmless builtins stay usable.
        #expect(try standard.load([0x80, 2, 0x63] + Array("__builtin__\nset\n".utf8) + [0x29, 0x52, 0x2E]).value == .set([]))
    }

    @Test func emptyAndGarbageInputsThrowWithOffsets() {
        #expect(failure([]) == .truncated(opcode: "next opcode", offset: 0))
        #expect(failure([0xFF]) == .unknownOpcode(byte: 0xFF, offset: 0))
        #expect(failure([0x80, 2, 0x4E]) == .truncated(opcode: "next opcode", offset: 3))
        #expect(failure([0x80, 2, 0x4A, 1, 2]) == .truncated(opcode: "BININT", offset: 2))
        let description = PickleError.truncated(opcode: "BININT", offset: 2).description
        #expect(description.contains("BININT") && description.contains("byte 2"))
    }
}
