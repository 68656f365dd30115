/// Why a pickle could not be read. Every case carries the byte offset (from
/// the start of the pickle) of the opcode that failed, and the opcode's name.
public enum PickleError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The bytes end before the opcode's argument (or before STOP).
    case truncated(opcode: String, offset: Int)
    /// A byte that is no pickle opcode.
    case unknownOpcode(byte: UInt8, offset: Int)
    /// A global the policy does not allow, or one from a blocked module.
    case forbiddenGlobal(module: String, name: String, offset: Int)
    /// An allowed global used in a way its role does not permit (REDUCE of a
    /// `.value` or unknown global, NEWOBJ of a function role, ...).
    case notCallable(module: String, name: String, opcode: String, offset: Int)
    /// The opcode needs more stack items than there are above the last MARK.
    case stackUnderflow(opcode: String, offset: Int)
    /// The opcode needs a MARK and there is none.
    case markMissing(opcode: String, offset: Int)
    /// A memo GET of a key never PUT.
    case memoMissing(key: Int, offset: Int)
    /// An argument or stack item of the wrong kind or form.
    case invalidValue(opcode: String, offset: Int, reason: String)
    /// The result nests containers deeper than `PickleLimits.maxDepth`;
    /// `offset` is where the too-deep container was made.
    case tooDeep(limit: Int, offset: Int)
    /// The result has more nodes than `PickleLimits.maxValues` (a memo bomb).
    case tooManyValues(limit: Int, offset: Int)
    /// A container contains itself; `offset` is where it was made.
    case cycle(offset: Int)
    /// A declared length exceeds the bytes present.
    case tooLarge(opcode: String, offset: Int, declared: UInt64, available: Int)
    /// The stack or memo outgrew its limit.
    case limitExceeded(what: String, limit: Int, offset: Int)
    /// A valid opcode or feature this reader refuses (extension registry,
    /// out-of-band buffers, protocol above 5).
    case unsupported(opcode: String, offset: Int, reason: String)

    /// The byte offset the error refers to.
    public var offset: Int {
        switch self {
        case .truncated(_, let o), .unknownOpcode(_, let o), .forbiddenGlobal(_, _, let o),
             .notCallable(_, _, _, let o), .stackUnderflow(_, let o), .markMissing(_, let o),
             .memoMissing(_, let o), .invalidValue(_, let o, _), .tooDeep(_, let o),
             .tooManyValues(_, let o), .cycle(let o), .tooLarge(_, let o, _, _),
             .limitExceeded(_, _, let o), .unsupported(_, let o, _):
            return o
        }
    }

    public var description: String {
        switch self {
        case .truncated(let op, let o):
            return "pickle truncated: \(op) at byte \(o) needs more bytes than the input has"
        case .unknownOpcode(let b, let o):
            return "unknown pickle opcode 0x\(String(b, radix: 16)) at byte \(o): not a pickle, or corrupt"
        case .forbiddenGlobal(let m, let n, let o):
            return "pickle names forbidden global \(m).\(n) at byte \(o); it is not in the allowlist (or its module is blocked)"
        case .notCallable(let m, let n, let op, let o):
            return "\(op) at byte \(o) would call or instantiate \(m).\(n), which the policy does not allow"
        case .stackUnderflow(let op, let o):
            return "\(op) at byte \(o) needs more items than the pickle stack holds: corrupt pickle"
        case .markMissing(let op, let o):
            return "\(op) at byte \(o) needs a MARK and none is open: corrupt pickle"
        case .memoMissing(let k, let o):
            return "memo GET of key \(k) at byte \(o), which was never PUT: corrupt pickle"
        case .invalidValue(let op, let o, let reason):
            return "\(op) at byte \(o): \(reason)"
        case .tooDeep(let limit, let o):
            return "pickle nests containers deeper than \(limit) (container made at byte \(o)); refused: the limit keeps a hostile file from exhausting the reader's stack"
        case .tooManyValues(let limit, let o):
            return "pickle expands to more than \(limit) values (at the container made at byte \(o)): a memo bomb? refused: the limit keeps a hostile file from exhausting memory"
        case .cycle(let o):
            return "the container made at byte \(o) contains itself; recursive structures are not supported"
        case .tooLarge(let op, let o, let declared, let available):
            return "\(op) at byte \(o) declares \(declared) bytes but only \(available) remain: corrupt or truncated pickle"
        case .limitExceeded(let what, let limit, let o):
            return "pickle \(what) exceeds \(limit) at byte \(o); refused: the limit keeps a hostile file from exhausting memory"
        case .unsupported(let op, let o, let reason):
            return "\(op) at byte \(o) is not supported: \(reason)"
        }
    }
}
