/// Reads pickles (protocols 0 to 5) into `PickleValue`s without executing
/// anything: globals are checked against a `PicklePolicy` and calls are
/// recorded, never made.
///
/// Python 2 strings (STRING, BINSTRING, SHORT_BINSTRING) become `.string`:
/// UTF-8 when valid (what `torch.load`'s default `encoding='utf-8'` gives),
/// otherwise Latin-1 (what `encoding='latin1'` gives). In protocols 0-2 the
/// Python 2 module names `__builtin__` and `copy_reg` are read as `builtins`
/// and `copyreg`, as Python 3's `fix_imports` does.
public struct Unpickler: Sendable {
    /// The policy every global is checked against.
    public let policy: PicklePolicy

    /// An unpickler applying `policy`.
    public init(policy: PicklePolicy) {
        self.policy = policy
    }

    /// Reads one pickle from the start of `bytes` up to and including its
    /// STOP, and returns the value and the number of bytes used (legacy torch
    /// files hold several pickles back to back).
    ///
    /// Throws `PickleError` for malformed or truncated input, a global the
    /// policy refuses, or a result beyond `policy.limits`. Never traps.
    public func load(_ bytes: UnsafeRawBufferPointer) throws -> (value: PickleValue, consumed: Int) {
        var machine = Machine(bytes: bytes, policy: policy)
        return try machine.run()
    }

    /// `load(_:)` over an array.
    public func load(_ bytes: [UInt8]) throws -> (value: PickleValue, consumed: Int) {
        try bytes.withUnsafeBytes { try load($0) }
    }
}
