// TEMPORARY interface stub (replaced by the pickle branch): the agreed API.
public struct PickleGlobal: Hashable, Sendable {
    public let module: String
    public let name: String
    public init(_ module: String, _ name: String) { self.module = module; self.name = name }
    public var qualifiedName: String { "\(module).\(name)" }
}
public indirect enum PickleValue: Equatable, Sendable {
    case none, bool(Bool), int(Int)
    case bigInt([UInt8])
    case float(Double), string(String), bytes([UInt8])
    case tuple([PickleValue]), list([PickleValue]), dict(PickleDict), set([PickleValue])
    case global(PickleGlobal)
    case call(PickleGlobal, arguments: [PickleValue], state: PickleValue?)
    case object(PickleGlobal, arguments: [PickleValue], state: PickleValue?)
    case persistent(PickleValue)
}
public struct PickleDict: Equatable, Sendable {
    public var entries: [(key: PickleValue, value: PickleValue)]
    public var attributes: PickleValue?
    public subscript(key: String) -> PickleValue? { entries.first { $0.key == .string(key) }?.value }
    public static func == (a: PickleDict, b: PickleDict) -> Bool { a.entries.count == b.entries.count }
}
public struct PickleLimits: Sendable { public init() {} }
public struct PicklePolicy: Sendable {
    public enum Role: Sendable { case dictType, setType, listType, bytesFromText, reconstructor, callable, value }
    public var globals: [PickleGlobal: Role]
    public var allowsInertClasses: Bool
    public var limits: PickleLimits
    public init(globals: [PickleGlobal: Role], allowsInertClasses: Bool = false, limits: PickleLimits = .init()) {
        self.globals = globals; self.allowsInertClasses = allowsInertClasses; self.limits = limits
    }
}
public enum PickleError: Error, Equatable, CustomStringConvertible {
    case truncated(offset: Int)
    public var description: String { "" }
}
public struct Unpickler: Sendable {
    public init(policy: PicklePolicy) {}
    public func load(_ bytes: UnsafeRawBufferPointer) throws -> (value: PickleValue, consumed: Int) { throw PickleError.truncated(offset: 0) }
}
