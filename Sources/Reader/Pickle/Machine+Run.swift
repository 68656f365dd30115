extension Machine {
    /// Executes opcodes until STOP and returns the frozen result and the
    /// number of bytes used.
    mutating func run() throws -> (value: PickleValue, consumed: Int) {
        while true {
            opcodeOffset = position
            opcodeName = "next opcode"
            let byte = try readByte()
            guard let op = Opcode(rawValue: byte) else {
                throw PickleError.unknownOpcode(byte: byte, offset: opcodeOffset)
            }
            opcodeName = op.name
            if op == .STOP {
                let root = try pop()
                var freezer = Freezer(nodes: nodes, limits: limits, counted: valuesCounted)
                return (try freezer.freeze(root), position)
            }
            try execute(op)
        }
    }

    /// Executes one opcode other than STOP.
    private mutating func execute(_ op: Opcode) throws {
        switch op {
        case .STOP: break
        // Framing and protocol
        case .PROTO:
            let version = try readByte()
            guard version <= 5 else { throw PickleError.unsupported(opcode: opcodeName, offset: opcodeOffset, reason: "pickle protocol \(version) is newer than 5") }
            proto = Int(version)
        case .FRAME:
            _ = try readLength(8)  // frames only group opcodes; the declared size must fit
        // Stack manipulation
        case .MARK: try pushMark()
        case .POP:
            if stack.count > floor { stack.removeLast() } else if !marks.isEmpty { marks.removeLast() } else {
                throw PickleError.stackUnderflow(opcode: opcodeName, offset: opcodeOffset)
            }
        case .POP_MARK: _ = try popMark()
        case .DUP: try push(try top())
        // Scalars
        case .NONE: try pushScalar(.none)
        case .NEWTRUE: try pushScalar(.bool(true))
        case .NEWFALSE: try pushScalar(.bool(false))
        case .INT:
            let line = try readLine()
            if line == Array("00".utf8) { try pushScalar(.bool(false)) } else if line == Array("01".utf8) { try pushScalar(.bool(true)) } else {
                try pushScalar(try decimal(line))
            }
        case .LONG:
            var line = try readLine()
            if line.last == UInt8(ascii: "L") { line.removeLast() }
            try pushScalar(try decimal(line))
        case .BININT: try pushScalar(.int(Int(Int32(truncatingIfNeeded: try readUnsigned(4)))))
        case .BININT1: try pushScalar(.int(Int(try readUnsigned(1))))
        case .BININT2: try pushScalar(.int(Int(try readUnsigned(2))))
        case .LONG1: try pushScalar(IntegerDecoding.fromTwosComplement(try readBytes(try readLength(1))))
        case .LONG4: try pushScalar(IntegerDecoding.fromTwosComplement(try readBytes(try readLength(4, signed: true))))
        case .FLOAT:
            let line = try readLine()
            let text = String(decoding: line.trimmingASCIIWhitespace(), as: UTF8.self)
            guard !text.isEmpty, let value = Double(text) else { throw invalid("FLOAT argument is not a number") }
            try pushScalar(.float(value))
        case .BINFLOAT: try pushScalar(.float(Double(bitPattern: (try readUnsigned(8)).byteSwapped)))
        // Text and bytes
        case .STRING:
            let line = try readLine()
            guard line.count >= 2, let first = line.first, first == line.last,
                  first == UInt8(ascii: "'") || first == UInt8(ascii: "\"") else {
                throw invalid("the STRING argument must be quoted")
            }
            guard let decoded = TextDecoding.escapeDecode(Array(line[1..<(line.count - 1)])) else {
                throw invalid("bad escape in STRING argument")
            }
            try pushScalar(.string(TextDecoding.python2String(decoded)))
        case .BINSTRING: try pushScalar(.string(TextDecoding.python2String(try readBytes(try readLength(4, signed: true)))))
        case .SHORT_BINSTRING: try pushScalar(.string(TextDecoding.python2String(try readBytes(try readLength(1)))))
        case .UNICODE:
            guard let text = TextDecoding.rawUnicodeEscapeDecode(try readLine()) else { throw invalid("bad raw-unicode-escape text") }
            try pushScalar(.string(text))
        case .BINUNICODE: try pushScalar(.string(try utf8(try readBytes(try readLength(4)))))
        case .SHORT_BINUNICODE: try pushScalar(.string(try utf8(try readBytes(try readLength(1)))))
        case .BINUNICODE8: try pushScalar(.string(try utf8(try readBytes(try readLength(8)))))
        case .BINBYTES: try pushScalar(.bytes(try readBytes(try readLength(4))))
        case .SHORT_BINBYTES: try pushScalar(.bytes(try readBytes(try readLength(1))))
        case .BINBYTES8, .BYTEARRAY8: try pushScalar(.bytes(try readBytes(try readLength(8))))
        // Containers
        case .EMPTY_LIST: try pushNode(Node(.list, offset: opcodeOffset))
        case .LIST: try pushNode(Node(.list, items: try popMark(), offset: opcodeOffset))
        case .APPEND:
            let item = try pop()
            try container(.list).items.append(item)
        case .APPENDS:
            let items = try popMark()
            try container(.list).items.append(contentsOf: items)
        case .EMPTY_TUPLE: try pushNode(Node(.tuple, offset: opcodeOffset))
        case .TUPLE: try pushNode(Node(.tuple, items: try popMark(), offset: opcodeOffset))
        case .TUPLE1, .TUPLE2, .TUPLE3:
            let count = op == .TUPLE1 ? 1 : op == .TUPLE2 ? 2 : 3
            guard stack.count - floor >= count else { throw PickleError.stackUnderflow(opcode: opcodeName, offset: opcodeOffset) }
            let items = Array(stack.suffix(count))
            stack.removeLast(count)
            try pushNode(Node(.tuple, items: items, offset: opcodeOffset))
        case .EMPTY_DICT: try pushNode(Node(.dict, offset: opcodeOffset))
        case .DICT:
            let node = Node(.dict, offset: opcodeOffset)
            node.pairs = try pairs(try popMark())
            try pushNode(node)
        case .SETITEM:
            let value = try pop()
            let key = try pop()
            try mapping().pairs.append((key, value))
        case .SETITEMS:
            let items = try pairs(try popMark())
            try mapping().pairs.append(contentsOf: items)
        case .EMPTY_SET: try pushNode(Node(.set, offset: opcodeOffset))
        case .ADDITEMS:
            let items = try popMark()
            try container(.set).items.append(contentsOf: items)
        case .FROZENSET: try pushNode(Node(.set, items: try popMark(), offset: opcodeOffset))
        // Memo
        case .PUT: try memoize(try readMemoKeyLine())
        case .BINPUT: try memoize(Int(try readUnsigned(1)))
        case .LONG_BINPUT: try memoize(Int(try readUnsigned(4)))
        case .MEMOIZE: try memoize(memo.count)
        case .GET: try recall(try readMemoKeyLine())
        case .BINGET: try recall(Int(try readUnsigned(1)))
        case .LONG_BINGET: try recall(Int(try readUnsigned(4)))
        // Persistent ids
        case .PERSID: try pushPersistent(.scalar(.string(try readTextLine())))
        case .BINPERSID: try pushPersistent(try pop())
        // Globals, calls and objects
        case .GLOBAL:
            let module = try readTextLine()
            let name = try readTextLine()
            try pushScalar(.global(try resolveGlobal(module: module, name: name)))
        case .STACK_GLOBAL:
            let nameSlot = try pop()
            let moduleSlot = try pop()
            guard case .scalar(.string(let name)) = nameSlot, case .scalar(.string(let module)) = moduleSlot else {
                throw invalid("STACK_GLOBAL needs two str, found \(kindName(moduleSlot)) and \(kindName(nameSlot))")
            }
            try pushScalar(.global(try resolveGlobal(module: module, name: name)))
        case .REDUCE: try reduce()
        case .BUILD: try build()
        case .NEWOBJ:
            let arguments = try tupleItems(try pop())
            let cls = try global(try pop())
            try instantiate(cls, arguments: arguments, callsConstructor: false)
        case .NEWOBJ_EX:
            let kwargs = try pop()
            let arguments = try tupleItems(try pop())
            let cls = try global(try pop())
            guard let kwargsNode = node(kwargs, .dict) else { throw invalid("NEWOBJ_EX keyword arguments are \(kindName(kwargs)), not a dict") }
            try instantiate(cls, arguments: kwargsNode.pairs.isEmpty ? arguments : arguments + [kwargs], callsConstructor: false)
        case .OBJ:
            let items = try popMark()
            guard let first = items.first else { throw PickleError.stackUnderflow(opcode: opcodeName, offset: opcodeOffset) }
            try instantiate(try global(first), arguments: Array(items.dropFirst()), callsConstructor: true)
        case .INST:
            let module = try readTextLine()
            let name = try readTextLine()
            let cls = try resolveGlobal(module: module, name: name)
            try instantiate(cls, arguments: try popMark(), callsConstructor: true)
        // Refused
        case .EXT1, .EXT2, .EXT4:
            throw PickleError.unsupported(opcode: opcodeName, offset: opcodeOffset, reason: "the copyreg extension registry maps codes to arbitrary globals")
        case .NEXT_BUFFER, .READONLY_BUFFER:
            throw PickleError.unsupported(opcode: opcodeName, offset: opcodeOffset, reason: "out-of-band buffers (protocol 5 buffer_callback) are not supported")
        }
    }

    private func decimal(_ line: [UInt8]) throws -> PickleValue {
        guard let value = IntegerDecoding.fromDecimal(line, maxDigits: limits.maxDecimalDigits) else {
            throw invalid("argument is not a decimal integer of at most \(limits.maxDecimalDigits) digits")
        }
        return value
    }

    private func utf8(_ bytes: [UInt8]) throws -> String {
        guard let text = TextDecoding.utf8(bytes) else { throw invalid("text is not valid UTF-8") }
        return text
    }

    /// The node on top of the stack, which must be of `kind`.
    private func container(_ kind: NodeKind) throws -> Node {
        let target = try top()
        guard let found = node(target, kind) else { throw invalid("target is \(kindName(target)), not a \(kind)") }
        return found
    }

    /// The target of SETITEM(S): a dict, or, with `allowsInertClasses`, an
    /// inert call or object of a class outside the policy (a dict subclass
    /// such as `collections.defaultdict`), which keeps the items as its state.
    private func mapping() throws -> Node {
        let target = try top()
        if policy.allowsInertClasses, let found = node(target, .call, .object),
           let global = found.global, policy.globals[global] == nil {
            return found
        }
        return try container(.dict)
    }

    /// Items taken two by two as key/value pairs.
    private func pairs(_ items: [Slot]) throws -> [(key: Slot, value: Slot)] {
        guard items.count % 2 == 0 else { throw invalid("odd number of items for key/value pairs") }
        return stride(from: 0, to: items.count, by: 2).map { (items[$0], items[$0 + 1]) }
    }
}

extension Array where Element == UInt8 {
    /// The bytes without leading and trailing ASCII whitespace.
    func trimmingASCIIWhitespace() -> ArraySlice<UInt8> {
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || ($0 >= 0x09 && $0 <= 0x0D) }
        guard let start = firstIndex(where: { !isSpace($0) }), let end = lastIndex(where: { !isSpace($0) }) else { return [] }
        return self[start...end]
    }
}
