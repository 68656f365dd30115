/// Which globals a pickle may name, and what each may do. The unpickler
/// never imports or calls anything; the policy only decides which recorded
/// values are acceptable.
public struct PicklePolicy: Sendable {
    /// What an allowed global may be used for.
    public enum Role: Hashable, Sendable {
        /// A dict type (`collections.OrderedDict`, `builtins.dict`): calling it
        /// with `()`, a list/tuple of pairs or a dict gives a `.dict`;
        /// NEWOBJ gives an empty `.dict`.
        case dictType
        /// `builtins.set` / `builtins.frozenset`: `()` or one iterable gives a `.set`.
        case setType
        /// `builtins.list`: `()` or one iterable gives a `.list`.
        case listType
        /// `_codecs.encode(str, 'latin1')`, `builtins.bytes`, `builtins.bytearray`
        /// (how protocols 0-2 write bytes): gives `.bytes`.
        case bytesFromText
        /// `copyreg._reconstructor(cls, base, state)` (protocols 0-1 objects):
        /// gives `.object(cls, ...)` when `cls` may be instantiated.
        case reconstructor
        /// A function or class: REDUCE gives `.call`; NEWOBJ, NEWOBJ_EX, INST
        /// and OBJ give `.object`.
        case callable
        /// May only appear as a value: `.global`. Calling it is refused.
        case value
    }

    /// The allowed globals and their roles.
    public var globals: [PickleGlobal: Role]
    /// When false (the default) a global missing from `globals` is refused at
    /// its GLOBAL / STACK_GLOBAL / INST opcode. When true it becomes
    /// `.global`, which NEWOBJ, NEWOBJ_EX, INST, OBJ or a reconstructor may
    /// turn into an inert `.object` (never REDUCE). Globals of
    /// `PicklePolicy.blockedModules` are refused in every case.
    public var allowsInertClasses: Bool
    /// Modules (each with its submodules) whose classes are admitted as inert
    /// `.object`s whatever `allowsInertClasses` says, e.g. `__torch__` for a
    /// TorchScript archive's module classes. Blocked modules stay refused.
    public var inertClassModules: Set<String> = []
    /// Resource limits.
    public var limits: PickleLimits
    /// Resolves a persistent id while loading, as Python's `persistent_load`
    /// does, but without calling anything in the pickle: given the id's value,
    /// it returns what the id stands for (for instance the class a legacy
    /// torch `('module', cls, ...)` id names), or `nil` to keep
    /// `.persistent(id)` for the caller to resolve later.
    public var persistentIDResolver: (@Sendable (PickleValue) -> PickleValue?)?

    /// A policy allowing exactly `globals`.
    public init(globals: [PickleGlobal: Role], allowsInertClasses: Bool = false, limits: PickleLimits = .init()) {
        self.globals = globals
        self.allowsInertClasses = allowsInertClasses
        self.limits = limits
    }

    /// Modules (and their submodules) whose globals are always refused, even
    /// when listed in `globals`: they reach the OS, the interpreter or the
    /// pickle machinery itself.
    public static let blockedModules: Set<String> = [
        "os", "posix", "nt", "posixpath", "ntpath", "sys", "builtins", "__builtin__",
        "subprocess", "shutil", "socket", "importlib", "runpy", "code", "codeop",
        "ctypes", "pty", "pickle", "_pickle", "cPickle", "pickletools", "marshal", "io", "_io",
        "tempfile", "webbrowser", "multiprocessing", "signal", "threading", "_thread",
        "asyncio", "functools", "operator", "types", "inspect", "platform", "glob",
        "pathlib", "pdb", "bdb", "timeit", "trace", "profile", "cProfile", "zipimport",
        "pkgutil", "site", "commands", "popen2", "http", "urllib", "ftplib",
        "smtplib", "telnetlib", "xmlrpc", "dill", "cloudpickle", "joblib", "_posixsubprocess",
        "gc", "weakref", "resource", "fcntl", "mmap", "select", "selectors", "ssl",
        "venv", "ensurepip", "distutils", "setuptools", "pip",
    ]

    /// The harmless `builtins` names a policy may still allow (containers and
    /// plain value types); every other `builtins` global is refused.
    public static let allowedBuiltins: Set<String> = [
        "set", "frozenset", "dict", "list", "tuple", "bytes", "bytearray", "object",
        "int", "float", "str", "bool", "complex", "range", "slice",
    ]

    /// True when `global` belongs to one of `inertClassModules`.
    public func isInertClass(_ global: PickleGlobal) -> Bool {
        let root = global.module.split(separator: ".", maxSplits: 1).first.map(String.init) ?? global.module
        return inertClassModules.contains(root)
    }

    /// True when `global` is refused whatever the policy says.
    public static func isBlocked(_ global: PickleGlobal) -> Bool {
        let root = global.module.split(separator: ".", maxSplits: 1).first.map(String.init) ?? global.module
        guard blockedModules.contains(root) else { return false }
        if global.module == "builtins" || global.module == "__builtin__" {
            return !allowedBuiltins.contains(global.name)
        }
        return true
    }
}

/// Resource limits that keep a hostile pickle from exhausting time or memory.
public struct PickleLimits: Sendable, Equatable {
    /// Deepest container nesting allowed in the result (the root container is level 1).
    public var maxDepth: Int
    /// Most memo entries.
    public var maxMemoEntries: Int
    /// Most items on the stack plus open MARKs.
    public var maxStackDepth: Int
    /// Most nodes (containers and scalars) in the result, counting a shared
    /// value once per place it appears, together with those of every
    /// persistent id given to `PicklePolicy.persistentIDResolver` on the way:
    /// guards against memo bombs.
    public var maxValues: Int
    /// Most decimal digits in a protocol-0 INT/LONG (Python's own default limit is 4300).
    public var maxDecimalDigits: Int

    /// Limits generous enough for any real checkpoint.
    public init(maxDepth: Int = 200, maxMemoEntries: Int = 1_000_000, maxStackDepth: Int = 1_000_000,
                maxValues: Int = 10_000_000, maxDecimalDigits: Int = 4300) {
        self.maxDepth = maxDepth
        self.maxMemoEntries = maxMemoEntries
        self.maxStackDepth = maxStackDepth
        self.maxValues = maxValues
        self.maxDecimalDigits = maxDecimalDigits
    }
}
