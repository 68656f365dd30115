/// A stack or memo entry while unpickling: a finished scalar, or an index
/// into the arena of (possibly still mutable) containers.
enum Slot {
    case scalar(PickleValue)
    case node(Int)
}

/// What a container node is.
enum NodeKind {
    case tuple, list, dict, set, call, object, persistent
}

/// One container being built. Nodes refer to each other by arena index, not
/// by reference, so cycles leak nothing and releasing a deep structure
/// never recurses.
final class Node {
    let kind: NodeKind
    /// The callable or class for `.call` / `.object`.
    let global: PickleGlobal?
    /// Byte offset of the opcode that made the node (for error messages).
    let offset: Int
    /// Items (tuple, list, set), arguments (call, object) or the id (persistent).
    var items: [Slot]
    /// Dict entries in insertion order, duplicates included (resolved when frozen).
    var pairs: [(key: Slot, value: Slot)] = []
    /// BUILD state (call, object) or attributes (dict).
    var state: Slot?

    init(_ kind: NodeKind, global: PickleGlobal? = nil, items: [Slot] = [], offset: Int) {
        self.kind = kind
        self.global = global
        self.items = items
        self.offset = offset
    }
}

/// Turns the arena graph into an immutable `PickleValue` tree, refusing
/// cycles (except back to an enclosing call or object, which becomes a
/// stub), nesting deeper than `maxDepth` and trees of more than `maxValues`
/// nodes. Recursion is bounded by `maxDepth`. A node reached twice (a memo
/// reference) is converted once and its result reused; it still counts once
/// per appearance, so a memo bomb fails after `maxValues` steps of work.
/// `counted` carries the count on from earlier freezes of the same run.
struct Freezer {
    private let nodes: [Node]
    private let limits: PickleLimits
    private var done: [Int: (value: PickleValue, count: Int, height: Int)] = [:]
    private var inProgress: Set<Int> = []
    private var total: Int

    /// The values counted so far, this freezer's and those it started from.
    var counted: Int { total }

    init(nodes: [Node], limits: PickleLimits, counted: Int = 0) {
        self.nodes = nodes
        self.limits = limits
        total = counted
    }

    /// The frozen value of `slot`, the root of the result.
    mutating func freeze(_ slot: Slot) throws -> PickleValue {
        try visit(slot, level: 1, origin: 0).value
    }

    /// Freezes `slot` when its container (if any) sits at nesting `level`.
    private mutating func visit(_ slot: Slot, level: Int, origin: Int) throws -> (value: PickleValue, count: Int, height: Int) {
        switch slot {
        case .scalar(let value):
            try count(1, at: origin)
            return (value, 1, 0)
        case .node(let index):
            guard index >= 0, index < nodes.count else {
                throw PickleError.invalidValue(opcode: "STOP", offset: origin, reason: "internal: dangling node")
            }
            let node = nodes[index]
            if let cached = done[index] {
                guard level - 1 + cached.height <= limits.maxDepth else {
                    throw PickleError.tooDeep(limit: limits.maxDepth, offset: node.offset)
                }
                try count(cached.count, at: node.offset)
                return cached
            }
            guard level <= limits.maxDepth else { throw PickleError.tooDeep(limit: limits.maxDepth, offset: node.offset) }
            if inProgress.contains(index) {
                // A call or object reached again inside itself (a parent link, as
                // omegaconf's nodes keep): a stub naming its global. Other cycles are refused.
                guard node.kind == .call || node.kind == .object, let global = node.global else {
                    throw PickleError.cycle(offset: node.offset)
                }
                try count(1, at: node.offset)
                let stub: PickleValue = node.kind == .call
                    ? .call(global, arguments: [], state: nil) : .object(global, arguments: [], state: nil)
                return (stub, 1, 0)
            }
            inProgress.insert(index)
            defer { inProgress.remove(index) }
            let startTotal = total
            try count(1, at: node.offset)
            var height = 0
            func child(_ s: Slot) throws -> PickleValue {
                let r = try visit(s, level: level + 1, origin: node.offset)
                height = max(height, r.height)
                return r.value
            }
            let value: PickleValue
            switch node.kind {
            case .tuple: value = .tuple(try node.items.map(child))
            case .list: value = .list(try node.items.map(child))
            case .set:
                var seen: Set<PickleValue> = []
                var unique: [PickleValue] = []
                for item in node.items {
                    let v = try child(item)
                    if seen.insert(v).inserted { unique.append(v) }
                }
                value = .set(unique)
            case .dict:
                value = .dict(try Self.dictionary(node, child))
            case .call, .object:
                let arguments = try node.items.map(child)
                // An inert dict subclass's items are its state; BUILD's state goes into their attributes.
                let state = node.pairs.isEmpty ? try node.state.map(child) : .dict(try Self.dictionary(node, child))
                let global = node.global ?? PickleGlobal("?", "?")
                value = node.kind == .call
                    ? .call(global, arguments: arguments, state: state)
                    : .object(global, arguments: arguments, state: state)
            case .persistent:
                guard let id = node.items.first else {
                    throw PickleError.invalidValue(opcode: "BINPERSID", offset: node.offset, reason: "internal: missing id")
                }
                value = .persistent(try child(id))
            }
            let result = (value: value, count: total - startTotal, height: height + 1)
            done[index] = result
            return result
        }
    }

    /// The node's pairs as a dict (a key given twice keeps its first place
    /// and its last value) with its BUILD state as attributes.
    private static func dictionary(_ node: Node, _ child: (Slot) throws -> PickleValue) throws -> PickleDict {
        var position: [PickleValue: Int] = [:]
        var entries: [(key: PickleValue, value: PickleValue)] = []
        for pair in node.pairs {
            let k = try child(pair.key)
            let v = try child(pair.value)
            if let at = position[k] {
                entries[at].value = v
            } else {
                position[k] = entries.count
                entries.append((k, v))
            }
        }
        return PickleDict(entries: entries, attributes: try node.state.map(child))
    }

    private mutating func count(_ n: Int, at offset: Int) throws {
        let (sum, overflow) = total.addingReportingOverflow(n)
        guard !overflow, sum <= limits.maxValues else {
            throw PickleError.tooManyValues(limit: limits.maxValues, offset: offset)
        }
        total = sum
    }
}
