/// A Python global (a class or function) named by a pickle: `module.name`.
///
/// The unpickler never imports or calls it; the value only names it.
public struct PickleGlobal: Hashable, Sendable, CustomStringConvertible {
    /// The module, e.g. `torch._utils`.
    public let module: String
    /// The name inside the module, possibly dotted (`Outer.Inner`) from STACK_GLOBAL.
    public let name: String

    /// Names `module.name`.
    public init(_ module: String, _ name: String) {
        self.module = module
        self.name = name
    }

    /// `"module.name"`, as Python prints it.
    public var qualifiedName: String { "\(module).\(name)" }

    public var description: String { qualifiedName }
}

/// A value read from a pickle. Nothing in it was ever executed: calls and
/// object constructions are recorded, not performed.
///
/// Equality is structural (so `.float(.nan) != .float(.nan)`, as for `Double`).
/// The value is a tree: a reference from inside a call or object back to that
/// call or object (a parent link) is a stub with its global, no arguments and
/// no state; any other cycle is refused.
public indirect enum PickleValue: Hashable, Sendable {
    /// Python `None`.
    case none
    /// Python `True` / `False`.
    case bool(Bool)
    /// A Python `int` that fits in `Int`.
    case int(Int)
    /// A Python `int` that does not fit in `Int`: minimal little-endian
    /// two's-complement bytes (the LONG1 encoding, `pickle.encode_long`).
    case bigInt([UInt8])
    /// A Python `float`.
    case float(Double)
    /// A Python `str` (and a Python 2 `str`, see `Unpickler`).
    case string(String)
    /// Python `bytes` or `bytearray`.
    case bytes([UInt8])
    /// A Python `tuple`.
    case tuple([PickleValue])
    /// A Python `list`.
    case list([PickleValue])
    /// A Python `dict`, or a dict made by a `PicklePolicy.Role.dictType` global (`OrderedDict`).
    case dict(PickleDict)
    /// A Python `set` or `frozenset`, duplicates removed, in pickle order.
    case set([PickleValue])
    /// A reference to an allowed global used as a value (e.g. `torch.FloatStorage`).
    case global(PickleGlobal)
    /// REDUCE of an allowed callable (or, when inert classes are allowed, of
    /// any global outside the policy: an Enum value, `collections.defaultdict`):
    /// the call is recorded, never made. `state` is the BUILD argument applied
    /// to the result, if any; for an inert dict subclass given items by
    /// SETITEM(S), `state` is a `.dict` of those items whose `attributes` is
    /// the BUILD argument.
    case call(PickleGlobal, arguments: [PickleValue], state: PickleValue?)
    /// An instance of a class made by NEWOBJ, NEWOBJ_EX, INST, OBJ or
    /// `copyreg._reconstructor`; `state` is the BUILD argument, if any (or,
    /// for an inert dict subclass, its items as for `.call`).
    case object(PickleGlobal, arguments: [PickleValue], state: PickleValue?)
    /// A persistent id (PERSID / BINPERSID), left for the caller to resolve.
    case persistent(PickleValue)
}

extension PickleValue {
    /// The string, if this is `.string`.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The integer, if this is `.int` (or `.bool`, which Python treats as an int).
    public var intValue: Int? {
        switch self {
        case .int(let i): return i
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }

    /// The items of a tuple or list.
    public var sequenceItems: [PickleValue]? {
        switch self {
        case .tuple(let items), .list(let items): return items
        default: return nil
        }
    }

    /// The dict, if this is `.dict`.
    public var dictValue: PickleDict? {
        if case .dict(let d) = self { return d }
        return nil
    }
}

/// A Python dict: entries in insertion order. A key pickled twice keeps its
/// first position and its last value, as in Python.
public struct PickleDict: Hashable, Sendable {
    /// The items, in insertion order.
    public var entries: [(key: PickleValue, value: PickleValue)]
    /// The BUILD state applied to the dict object itself, e.g. a state_dict
    /// `OrderedDict`'s `{'_metadata': ...}`; it adds no items.
    public var attributes: PickleValue?

    /// A dict with these entries (taken as given) and attributes.
    public init(entries: [(key: PickleValue, value: PickleValue)] = [], attributes: PickleValue? = nil) {
        self.entries = entries
        self.attributes = attributes
    }

    /// The number of entries.
    public var count: Int { entries.count }

    /// The keys, in order.
    public var keys: [PickleValue] { entries.map(\.key) }

    /// The value stored under the string key `key`, or nil.
    public subscript(key: String) -> PickleValue? {
        entries.first(where: { $0.key == .string(key) })?.value
    }

    /// The value stored under `key`, or nil.
    public subscript(key: PickleValue) -> PickleValue? {
        entries.first(where: { $0.key == key })?.value
    }

    public static func == (lhs: PickleDict, rhs: PickleDict) -> Bool {
        lhs.attributes == rhs.attributes && lhs.entries.count == rhs.entries.count
            && zip(lhs.entries, rhs.entries).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(entries.count)
        for entry in entries {
            hasher.combine(entry.key)
            hasher.combine(entry.value)
        }
        hasher.combine(attributes)
    }
}
