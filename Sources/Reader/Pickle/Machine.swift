/// The state of one unpickling run: the input cursor, the stack with its
/// MARK positions, the memo and the arena of containers. Its reads and stack
/// operations check every bound and throw `PickleError` naming the current
/// opcode and its offset.
struct Machine {
    let bytes: UnsafeRawBufferPointer
    let policy: PicklePolicy
    var limits: PickleLimits { policy.limits }

    /// Next byte to read.
    var position = 0
    /// Offset and name of the opcode being executed.
    var opcodeOffset = 0
    var opcodeName = "start"
    /// The protocol announced by PROTO (0 if none).
    var proto = 0

    var stack: [Slot] = []
    /// Stack heights at each open MARK, innermost last.
    var marks: [Int] = []
    var memo: [Int: Slot] = [:]
    var nodes: [Node] = []
    /// Values frozen so far (persistent ids given to the resolver): the result
    /// shares `maxValues` with them.
    var valuesCounted = 0

    init(bytes: UnsafeRawBufferPointer, policy: PicklePolicy) {
        self.bytes = bytes
        self.policy = policy
    }

    // MARK: Reading

    var remaining: Int { bytes.count - position }

    mutating func readByte() throws -> UInt8 {
        guard position < bytes.count else { throw PickleError.truncated(opcode: opcodeName, offset: opcodeOffset) }
        defer { position += 1 }
        return bytes[position]
    }

    /// `count` bytes, checked against what remains before anything is copied.
    mutating func readBytes(_ count: Int) throws -> [UInt8] {
        guard count >= 0, count <= remaining else { throw PickleError.truncated(opcode: opcodeName, offset: opcodeOffset) }
        defer { position += count }
        return Array(UnsafeRawBufferPointer(rebasing: bytes[position..<(position + count)]))
    }

    /// A little-endian unsigned integer of `width` (1 to 8) bytes.
    mutating func readUnsigned(_ width: Int) throws -> UInt64 {
        guard width <= remaining else { throw PickleError.truncated(opcode: opcodeName, offset: opcodeOffset) }
        var value: UInt64 = 0
        for k in 0..<width { value |= UInt64(bytes[position + k]) << UInt64(8 * k) }
        position += width
        return value
    }

    /// A length of `width` bytes (unsigned, or signed 32-bit when `signed`),
    /// checked against the bytes that remain.
    mutating func readLength(_ width: Int, signed: Bool = false) throws -> Int {
        let raw = try readUnsigned(width)
        if signed && Int32(truncatingIfNeeded: raw) < 0 {
            throw PickleError.invalidValue(opcode: opcodeName, offset: opcodeOffset, reason: "negative length \(Int32(truncatingIfNeeded: raw))")
        }
        guard raw <= UInt64(remaining) else {
            throw PickleError.tooLarge(opcode: opcodeName, offset: opcodeOffset, declared: raw, available: remaining)
        }
        return Int(raw)
    }

    /// The bytes up to the next newline (which is consumed, not returned).
    mutating func readLine() throws -> [UInt8] {
        var end = position
        while end < bytes.count, bytes[end] != 0x0A { end += 1 }
        guard end < bytes.count else { throw PickleError.truncated(opcode: opcodeName, offset: opcodeOffset) }
        let line = Array(UnsafeRawBufferPointer(rebasing: bytes[position..<end]))
        position = end + 1
        return line
    }

    /// A line as UTF-8 text (module and class names, persistent ids).
    mutating func readTextLine() throws -> String {
        let line = try readLine()
        guard let text = TextDecoding.utf8(line) else { throw invalid("line is not valid UTF-8") }
        return text
    }

    /// A line holding a non-negative decimal memo key.
    mutating func readMemoKeyLine() throws -> Int {
        let line = try readLine()
        guard case .int(let key)? = IntegerDecoding.fromDecimal(line, maxDigits: 20), key >= 0 else {
            throw invalid("memo key is not a non-negative integer")
        }
        return key
    }

    func invalid(_ reason: String) -> PickleError {
        .invalidValue(opcode: opcodeName, offset: opcodeOffset, reason: reason)
    }

    // MARK: Stack

    /// The stack height below which the current MARK hides items.
    var floor: Int { marks.last ?? 0 }

    mutating func push(_ slot: Slot) throws {
        guard stack.count + marks.count < limits.maxStackDepth else {
            throw PickleError.limitExceeded(what: "stack depth", limit: limits.maxStackDepth, offset: opcodeOffset)
        }
        stack.append(slot)
    }

    mutating func pushScalar(_ value: PickleValue) throws { try push(.scalar(value)) }

    /// Pushes a persistent id, or what the policy's resolver says it stands for.
    mutating func pushPersistent(_ id: Slot) throws {
        if let resolver = policy.persistentIDResolver {
            var freezer = Freezer(nodes: nodes, limits: limits, counted: valuesCounted)
            let frozen = try freezer.freeze(id)
            valuesCounted = freezer.counted
            if let resolved = resolver(frozen) {
                try push(.scalar(resolved))
                return
            }
        }
        try pushNode(Node(.persistent, items: [id], offset: opcodeOffset))
    }

    /// Adds `node` to the arena and pushes it.
    mutating func pushNode(_ node: Node) throws {
        try push(.node(nodes.count))
        nodes.append(node)
    }

    mutating func pop() throws -> Slot {
        guard stack.count > floor, let top = stack.popLast() else {
            throw PickleError.stackUnderflow(opcode: opcodeName, offset: opcodeOffset)
        }
        return top
    }

    func top() throws -> Slot {
        guard stack.count > floor, let top = stack.last else {
            throw PickleError.stackUnderflow(opcode: opcodeName, offset: opcodeOffset)
        }
        return top
    }

    mutating func pushMark() throws {
        guard stack.count + marks.count < limits.maxStackDepth else {
            throw PickleError.limitExceeded(what: "stack depth", limit: limits.maxStackDepth, offset: opcodeOffset)
        }
        marks.append(stack.count)
    }

    /// The items above the innermost MARK, which is closed.
    mutating func popMark() throws -> [Slot] {
        guard let mark = marks.popLast() else { throw PickleError.markMissing(opcode: opcodeName, offset: opcodeOffset) }
        let items = Array(stack[mark...])
        stack.removeSubrange(mark...)
        return items
    }

    /// The container node `slot` refers to, if it is one of `kinds`.
    func node(_ slot: Slot, _ kinds: NodeKind...) -> Node? {
        guard case .node(let index) = slot, index >= 0, index < nodes.count else { return nil }
        let node = nodes[index]
        return kinds.contains(node.kind) ? node : nil
    }

    /// A short description of a slot's kind, for error messages.
    func kindName(_ slot: Slot) -> String {
        switch slot {
        case .scalar(let value):
            switch value {
            case .none: return "None"
            case .bool: return "a bool"
            case .int, .bigInt: return "an int"
            case .float: return "a float"
            case .string: return "a str"
            case .bytes: return "bytes"
            case .global(let g): return "global \(g.qualifiedName)"
            default: return "a value"
            }
        case .node(let index):
            guard index >= 0, index < nodes.count else { return "a value" }
            let node = nodes[index]
            switch node.kind {
            case .tuple: return "a tuple"
            case .list: return "a list"
            case .dict: return "a dict"
            case .set: return "a set"
            case .call: return "the result of \(node.global?.qualifiedName ?? "a call")"
            case .object: return "an instance of \(node.global?.qualifiedName ?? "a class")"
            case .persistent: return "a persistent id"
            }
        }
    }

    // MARK: Memo

    mutating func memoize(_ key: Int) throws {
        let value = try top()
        if memo[key] == nil && memo.count >= limits.maxMemoEntries {
            throw PickleError.limitExceeded(what: "memo size", limit: limits.maxMemoEntries, offset: opcodeOffset)
        }
        memo[key] = value
    }

    mutating func recall(_ key: Int) throws {
        guard let value = memo[key] else { throw PickleError.memoMissing(key: key, offset: opcodeOffset) }
        try push(value)
    }
}
