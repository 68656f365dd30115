import Pickle
import Testing

/// Opcode semantics that the fixtures do not isolate, on small hand-assembled
/// pickles (opcodes per Python's Lib/pickletools.py).
struct SemanticsTests {
    let standard = Unpickler(policy: PicklePolicy(globals: PickleTestSupport.torch))

    func load(_ bytes: [UInt8]) throws -> PickleValue { try standard.load(bytes).value }
    func text(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test func comparatorDetectsDifferences() {
        #expect(PickleTestSupport.mismatch(.int(2), ["t": "int", "v": "1"]) != nil)
        #expect(PickleTestSupport.mismatch(.list([.int(1)]), ["t": "list", "items": [] as [Any]]) != nil)
        #expect(PickleTestSupport.mismatch(.int(1), ["t": "int", "v": "1"]) == nil)
    }

    @Test func repeatedDictKeyKeepsFirstPositionAndLastValue() throws {
        // EMPTY_DICT MARK 'a' 1 'b' 2 'a' 3 SETITEMS STOP
        let bytes: [UInt8] = [0x80, 2, 0x7D, 0x28, 0x8C, 1, 0x61, 0x4B, 1, 0x8C, 1, 0x62, 0x4B, 2, 0x8C, 1, 0x61, 0x4B, 3, 0x75, 0x2E]
        let dict = try #require(try load(bytes).dictValue)
        #expect(dict.keys == [.string("a"), .string("b")])
        #expect(dict["a"] == .int(3) && dict["b"] == .int(2) && dict["c"] == nil)
    }

    @Test func stateDictShapedPickle() throws {
        // OrderedDict() ; SETITEM 'w' -> _rebuild_tensor_v2(BINPERSID(('storage', FloatStorage, '0', 'cpu', 6)), 0, (2,3), (3,1)) ; BUILD {'_metadata': None}
        var b: [UInt8] = [0x80, 2] + [0x63] + text("collections\nOrderedDict\n") + [0x29, 0x52, 0x71, 0]
        b += [0x8C, 1, 0x77]
        b += [0x63] + text("torch._utils\n_rebuild_tensor_v2\n")
        b += [0x28, 0x28, 0x8C, 7] + text("storage") + [0x63] + text("torch\nFloatStorage\n")
        b += [0x8C, 1, 0x30, 0x8C, 3] + text("cpu") + [0x4B, 6, 0x74, 0x51]
        b += [0x4B, 0, 0x4B, 2, 0x4B, 3, 0x86, 0x4B, 3, 0x4B, 1, 0x86, 0x74, 0x52]
        b += [0x73, 0x7D, 0x8C, 9] + text("_metadata") + [0x4E, 0x73, 0x62, 0x2E]
        let dict = try #require(try load(b).dictValue)
        #expect(dict.attributes == .dict(PickleDict(entries: [(.string("_metadata"), .none)])))
        let storage = PickleValue.persistent(.tuple([.string("storage"), .global(PickleGlobal("torch", "FloatStorage")), .string("0"), .string("cpu"), .int(6)]))
        #expect(dict["w"] == .call(PickleGlobal("torch._utils", "_rebuild_tensor_v2"),
                                   arguments: [storage, .int(0), .tuple([.int(2), .int(3)]), .tuple([.int(3), .int(1)])], state: nil))
        #expect(PickleGlobal("torch._utils", "_rebuild_tensor_v2").qualifiedName == "torch._utils._rebuild_tensor_v2")
    }

    @Test func dictTypeCalledWithPairsBuildsADict() throws {
        // OrderedDict([('a', 1), ('b', 2)])
        var b: [UInt8] = [0x80, 2, 0x63] + text("collections\nOrderedDict\n")
        b += [0x5D, 0x28, 0x8C, 1, 0x61, 0x4B, 1, 0x86, 0x8C, 1, 0x62, 0x4B, 2, 0x86, 0x65, 0x85, 0x52, 0x2E]
        #expect(try load(b) == .dict(PickleDict(entries: [(.string("a"), .int(1)), (.string("b"), .int(2))])))
    }

    @Test func valueRoleAndUnknownGlobalsCannotBeCalled() throws {
        let floatStorage = [0x80, 2, 0x63] + text("torch\nFloatStorage\n")
        #expect(try load(floatStorage + [0x2E]) == .global(PickleGlobal("torch", "FloatStorage")))
        #expect(throws: PickleError.notCallable(module: "torch", name: "FloatStorage", opcode: "REDUCE", offset: 23)) {
            try load(floatStorage + [0x29, 0x52, 0x2E])
        }
        #expect(throws: PickleError.notCallable(module: "torch", name: "FloatStorage", opcode: "NEWOBJ", offset: 23)) {
            try load(floatStorage + [0x29, 0x81, 0x2E])
        }
        #expect(throws: PickleError.forbiddenGlobal(module: "mymodule", name: "Thing", offset: 2)) {
            try load([0x80, 2, 0x63] + text("mymodule\nThing\n") + [0x2E])
        }
    }

    @Test func buildOnlyOnCallsObjectsAndDicts() throws {
        #expect(throws: PickleError.self) { try load([0x80, 2, 0x29, 0x7D, 0x62, 0x2E]) }  // BUILD on a tuple
        let inert = Unpickler(policy: PicklePolicy(globals: [:], allowsInertClasses: true))
        // NEWOBJ of an unknown class, then BUILD with a dict.
        let b: [UInt8] = [0x80, 2, 0x63] + text("m\nC\n") + [0x29, 0x81, 0x7D, 0x8C, 1, 0x78, 0x4B, 1, 0x73, 0x62, 0x2E]
        #expect(try inert.load(b).value == .object(PickleGlobal("m", "C"), arguments: [],
                                                   state: .dict(PickleDict(entries: [(.string("x"), .int(1))]))))
    }

    @Test func protocolZeroTextOpcodes() throws {
        // INT beyond Int, LONG, FLOAT inf/nan, STRING escapes, UNICODE escapes, I01 = True.
        let big = try load(text("I9223372036854775808\n."))
        #expect(big == .bigInt([0, 0, 0, 0, 0, 0, 0, 0x80, 0]))
        #expect(try load(text("L-9223372036854775808L\n.")) == .int(Int.min))
        #expect(try load(text("I01\n.")) == .bool(true))
        #expect(try load(text("Finf\n.")) == .float(.infinity))
        guard case .float(let nan) = try load(text("Fnan\n.")) else { Issue.record("nan"); return }
        #expect(nan.isNaN)
        #expect(try load(text("S'a\\'b\\x41\\n\\101'\n.")) == .string("a'bA\nA"))
        #expect(try load(text("Vx\\u00e9\\U0001f642\\\\u\n.")) == .string("x\u{e9}\u{1F642}\\\\u"))
        #expect(throws: PickleError.self) { try load(text("S'unterminated\n.")) }
        #expect(throws: PickleError.self) { try load(text("Iabc\n.")) }
    }

    @Test func legacyStringsDecodeAsUTF8OrLatin1() throws {
        #expect(try load([0x55, 2, 0xC3, 0xA9, 0x2E]) == .string("é"))   // valid UTF-8
        #expect(try load([0x55, 1, 0xE9, 0x2E]) == .string("é"))         // Latin-1 fallback
    }

    @Test func consumedStopsAtTheFirstStop() throws {
        let result = try standard.load([0x80, 2, 0x4B, 7, 0x2E, 0x80, 2, 0x4E, 0x2E, 0xFF])
        #expect(result.value == .int(7) && result.consumed == 5)
    }

    @Test func popAndPopMarkFollowPython() throws {
        #expect(try load([0x4B, 1, 0x28, 0x30, 0x2E]) == .int(1))          // POP of an empty mark pops the mark
        #expect(try load([0x4B, 1, 0x28, 0x4B, 2, 0x31, 0x2E]) == .int(1))  // POP_MARK
        #expect(try load([0x4B, 1, 0x32, 0x86, 0x2E]) == .tuple([.int(1), .int(1)]))  // DUP
    }
}

/// Inert placeholders: REDUCE of a class outside the policy, items set on it,
/// and references back to an enclosing object.
@Suite struct InertPlaceholderTests {
    let inert = Unpickler(policy: PicklePolicy(globals: [:], allowsInertClasses: true))
    static func text(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test func reduceAndItemsAreRecorded() throws {
        // m.D(), then SETITEM 'a' -> 1: the items are the placeholder's state.
        let b: [UInt8] = [0x80, 2, 0x63] + Self.text("m\nD\n") + [0x29, 0x52, 0x8C, 1, 0x61, 0x4B, 1, 0x73, 0x2E]
        #expect(try inert.load(b).value == .call(PickleGlobal("m", "D"), arguments: [],
                                                 state: .dict(PickleDict(entries: [(.string("a"), .int(1))]))))
        let strict = Unpickler(policy: PicklePolicy(globals: [PickleGlobal("m", "D"): .value]))
        #expect(throws: PickleError.self) { try strict.load(b) }
    }

    @Test func aParentLinkIsAStub() throws {
        // NEWOBJ m.C (memo 0), BUILD {'parent': memo 0}: the inner reference is a stub.
        let b: [UInt8] = [0x80, 2, 0x63] + Self.text("m\nC\n") + [0x29, 0x81, 0x71, 0, 0x7D, 0x8C, 6]
            + Self.text("parent") + [0x68, 0, 0x73, 0x62, 0x2E]
        let stub = PickleValue.object(PickleGlobal("m", "C"), arguments: [], state: nil)
        #expect(try inert.load(b).value == .object(PickleGlobal("m", "C"), arguments: [],
                                                   state: .dict(PickleDict(entries: [(.string("parent"), stub)]))))
    }
}
