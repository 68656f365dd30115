/// The opcodes that touch globals: name resolution against the policy, and
/// REDUCE / BUILD / NEWOBJ / INST / OBJ, which record calls and objects.
extension Machine {
    /// The global `module.name` if the policy allows it (after Python 3's
    /// `fix_imports` renaming for protocols 0-2); throws `forbiddenGlobal` otherwise.
    mutating func resolveGlobal(module: String, name: String) throws -> PickleGlobal {
        guard !module.isEmpty, !name.isEmpty else { throw invalid("empty module or global name") }
        var global = PickleGlobal(module, name)
        if proto < 3 { global = Self.python3Name(global) }
        guard !PicklePolicy.isBlocked(global),
              policy.globals[global] != nil || policy.allowsInertClasses || policy.isInertClass(global) else {
            throw PickleError.forbiddenGlobal(module: global.module, name: global.name, offset: opcodeOffset)
        }
        return global
    }

    /// Python 2 names as Python 3's unpickler reads them (`_compat_pickle`),
    /// for the few modules checkpoints use.
    static func python3Name(_ global: PickleGlobal) -> PickleGlobal {
        switch global.module {
        case "__builtin__":
            let renamed = ["unicode": "str", "long": "int", "xrange": "range", "basestring": "str"]
            return PickleGlobal("builtins", renamed[global.name] ?? global.name)
        case "copy_reg": return PickleGlobal("copyreg", global.name)
        case "commands": return PickleGlobal("subprocess", global.name)
        default: return global
        }
    }

    func global(_ slot: Slot) throws -> PickleGlobal {
        guard case .scalar(.global(let g)) = slot else { throw invalid("expected a class or function, found \(kindName(slot))") }
        return g
    }

    func tupleItems(_ slot: Slot) throws -> [Slot] {
        guard let tuple = node(slot, .tuple) else { throw invalid("arguments are \(kindName(slot)), not a tuple") }
        return tuple.items
    }

    private func notCallable(_ g: PickleGlobal) -> PickleError {
        .notCallable(module: g.module, name: g.name, opcode: opcodeName, offset: opcodeOffset)
    }

    /// REDUCE: `callable(*args)`, recorded according to the callable's role;
    /// with `allowsInertClasses`, a global outside the policy (an Enum value,
    /// `collections.defaultdict`, a config class) is recorded as `.call`.
    mutating func reduce() throws {
        let argumentSlot = try pop()
        let function = try global(try pop())
        let arguments = try tupleItems(argumentSlot)
        guard let role = policy.globals[function] else {
            // An unknown global only resolves when inert classes are allowed (or
            // its module is one of inertClassModules, whose classes are never
            // called): the call is recorded as an inert placeholder, never made.
            guard policy.allowsInertClasses else { throw notCallable(function) }
            try pushNode(Node(.call, global: function, items: arguments, offset: opcodeOffset))
            return
        }
        switch role {
        case .callable: try pushNode(Node(.call, global: function, items: arguments, offset: opcodeOffset))
        case .dictType, .setType, .listType: try pushNode(try construct(role, arguments: arguments, of: function))
        case .bytesFromText: try pushScalar(.bytes(try bytes(arguments)))
        case .reconstructor: try reconstruct(arguments)
        case .value: throw notCallable(function)
        }
    }

    /// NEWOBJ, NEWOBJ_EX (callsConstructor false: `cls.__new__(cls, *args)`),
    /// INST and OBJ (true: `cls(*args)`): an inert `.object`, or a container.
    mutating func instantiate(_ cls: PickleGlobal, arguments: [Slot], callsConstructor: Bool) throws {
        switch policy.globals[cls] {
        case nil, .callable?:
            // nil: an unknown global, which only exists when allowsInertClasses
            // is on or its module is one of inertClassModules.
            try pushNode(Node(.object, global: cls, items: arguments, offset: opcodeOffset))
        case let role? where role == .dictType || role == .setType || role == .listType:
            try pushNode(try construct(role, arguments: callsConstructor ? arguments : [], of: cls))
        default:
            throw notCallable(cls)
        }
    }

    /// `copyreg._reconstructor(cls, base, state)`: `.object(cls)`, with
    /// arguments `[base, state]` unless `base` is `builtins.object`.
    private mutating func reconstruct(_ arguments: [Slot]) throws {
        guard arguments.count == 3 else { throw invalid("_reconstructor takes (cls, base, state), got \(arguments.count) arguments") }
        let cls = try global(arguments[0])
        let base = arguments[1]
        if case .scalar(.global(let b)) = base, b == PickleGlobal("builtins", "object") {
            try instantiate(cls, arguments: [], callsConstructor: false)
        } else {
            try instantiate(cls, arguments: [base, arguments[2]], callsConstructor: false)
        }
    }

    /// A dict, set or list made by calling its type with `arguments`
    /// (nothing, or one iterable / mapping).
    private func construct(_ role: PicklePolicy.Role, arguments: [Slot], of type: PickleGlobal) throws -> Node {
        let result = Node(role == .dictType ? .dict : role == .setType ? .set : .list, offset: opcodeOffset)
        guard let source = arguments.first else { return result }
        guard arguments.count == 1 else { throw invalid("\(type.qualifiedName) takes at most one argument, got \(arguments.count)") }
        if role == .dictType {
            if let mapping = node(source, .dict) {
                result.pairs = mapping.pairs
            } else if let sequence = node(source, .list, .tuple) {
                result.pairs = try sequence.items.map { item in
                    guard let pair = node(item, .list, .tuple), pair.items.count == 2 else {
                        throw invalid("\(type.qualifiedName) argument item is \(kindName(item)), not a key/value pair")
                    }
                    return (pair.items[0], pair.items[1])
                }
            } else {
                throw invalid("\(type.qualifiedName) argument is \(kindName(source)), not a dict or a list of pairs")
            }
        } else {
            guard let sequence = node(source, .list, .tuple, .set) else {
                throw invalid("\(type.qualifiedName) argument is \(kindName(source)), not a list, tuple or set")
            }
            result.items = sequence.items
        }
        return result
    }

    /// The bytes of `_codecs.encode(text, encoding)`, `bytes(...)` or
    /// `bytearray(...)`: `()`, `(bytes,)`, `(str,)` (UTF-8) or `(str, encoding)`
    /// with encoding Latin-1, ASCII or UTF-8.
    private func bytes(_ arguments: [Slot]) throws -> [UInt8] {
        guard let first = arguments.first else { return [] }
        if arguments.count == 1, case .scalar(.bytes(let b)) = first { return b }
        guard case .scalar(.string(let text)) = first, arguments.count <= 2 else {
            throw invalid("expected (str, encoding) or (bytes,), found \(arguments.count) arguments starting with \(kindName(first))")
        }
        var encoding = "utf-8"
        if arguments.count == 2 {
            guard case .scalar(.string(let e)) = arguments[1] else { throw invalid("encoding is \(kindName(arguments[1])), not a str") }
            encoding = String(e.lowercased().map { $0 == "_" ? "-" : $0 })
        }
        switch encoding {
        case "latin1", "latin-1", "iso-8859-1", "iso8859-1", "l1":
            return try text.unicodeScalars.map { scalar in
                guard scalar.value <= 0xFF else { throw invalid("character U+\(String(scalar.value, radix: 16)) is not Latin-1") }
                return UInt8(scalar.value)
            }
        case "ascii", "us-ascii":
            return try text.unicodeScalars.map { scalar in
                guard scalar.value < 0x80 else { throw invalid("character U+\(String(scalar.value, radix: 16)) is not ASCII") }
                return UInt8(scalar.value)
            }
        case "utf-8", "utf8":
            return Array(text.utf8)
        default:
            throw invalid("unsupported text encoding '\(encoding)'")
        }
    }

    /// BUILD: sets the state of a recorded call or object, or the attributes of a dict.
    mutating func build() throws {
        let state = try pop()
        let target = try top()
        guard let found = node(target, .call, .object, .dict) else {
            throw invalid("BUILD on \(kindName(target)); only calls, objects and dicts take state")
        }
        found.state = state
    }
}
