import Pickle
public import TensorCore

/// A storage as a persistent id in the pickle names it.
struct StorageReference: Equatable, Sendable {
    /// The key of the storage's bytes (`data/<key>` in a zip; a decimal
    /// pointer value in a legacy file).
    let key: String
    /// The storage's element type; `nil` for `torch.UntypedStorage` (bytes).
    let dtype: DType?
    /// Declared element count (bytes for an untyped storage).
    let elementCount: Int
    /// Legacy only: a view of `key`'s root storage, `(viewKey, offset, size)`
    /// in elements.
    let view: (key: String, offset: Int, size: Int)?

    static func == (a: StorageReference, b: StorageReference) -> Bool {
        a.key == b.key && a.dtype == b.dtype && a.elementCount == b.elementCount
            && a.view?.key == b.view?.key && a.view?.offset == b.view?.offset && a.view?.size == b.view?.size
    }

    /// Bytes the storage holds: `elementCount` times the element size.
    var byteCount: Int? {
        let (bytes, overflow) = elementCount.multipliedReportingOverflow(by: dtype?.byteWidth ?? 1)
        return overflow ? nil : bytes
    }

    /// The key the tensor's bytes are found under (the view's, if a view).
    var resolvedKey: String { view?.key ?? key }

    /// Parses a persistent id `('storage', type, key, location, numel[, view])`;
    /// `tensor` is the tensor it belongs to, when known, for messages.
    /// - Returns: `nil` for persistent ids of other kinds (`'module'`).
    /// - Throws: `CheckpointError` for a malformed or unsupported storage id.
    static func parse(_ id: PickleValue, tensor: String? = nil, file: String) throws -> StorageReference? {
        guard case let .tuple(fields) = id, let kind = fields.first.flatMap(PickleText.string) else {
            throw CheckpointError.malformed(file: file, reason: "a persistent id is not a tuple: \(PickleText.brief(id))")
        }
        if kind == "module" { return nil }
        guard kind == "storage", fields.count == 5 || fields.count == 6 else {
            throw CheckpointError.malformed(
                file: file, reason: "unknown persistent id '\(kind)' with \(fields.count) fields; expected ('storage', type, key, location, numel)")
        }
        guard case let .global(type) = fields[1] else {
            throw CheckpointError.malformed(file: file, reason: "a storage id names no storage class")
        }
        let dtype: DType?
        if type.name == "UntypedStorage" {
            dtype = nil
        } else if let known = TorchAllowlist.storageTypes[type.name] {
            dtype = known
        } else {
            throw CheckpointError.unsupportedDType(
                file: file, tensor: tensor ?? "(storage \(PickleText.string(fields[2]) ?? PickleText.brief(fields[2])))",
                dtype: type.qualifiedName)
        }
        guard let key = PickleText.string(fields[2]) ?? PickleText.integerKey(fields[2]) else {
            throw CheckpointError.malformed(file: file, reason: "a storage key is not a string")
        }
        guard case let .int(count) = fields[4], count >= 0 else {
            throw CheckpointError.malformed(file: file, reason: "storage '\(key)' has no valid element count")
        }
        var view: (String, Int, Int)?
        if fields.count == 6, case let .tuple(parts) = fields[5] {
            guard parts.count == 3, let viewKey = PickleText.string(parts[0]) ?? PickleText.integerKey(parts[0]),
                  case let .int(offset) = parts[1], case let .int(size) = parts[2], offset >= 0, size >= 0
            else {
                throw CheckpointError.malformed(file: file, reason: "storage '\(key)' has malformed view metadata")
            }
            view = (viewKey, offset, size)
        }
        return StorageReference(key: key, dtype: dtype, elementCount: count, view: view)
    }
}

/// A tensor of the checkpoint as the pickle describes it: where its elements
/// are and how to read them. No bytes are read to make one.
public struct TensorRecord: Equatable, Sendable {
    /// The element type.
    public let dtype: DType
    /// The size of each dimension.
    public let shape: [Int]
    /// The step in elements per index of each dimension.
    public let strides: [Int]
    /// The first element's index in the storage.
    public let storageOffset: Int
    /// The key of the storage holding the elements.
    public let storageKey: String
    /// The number of elements.
    public var elementCount: Int { shape.reduce(1, *) }

    let storage: StorageReference
}

/// Interprets the rebuild calls `torch.save` writes for tensors and parameters.
enum TensorRebuild {
    /// The tensor `value` rebuilds, or `nil` when `value` is not a tensor.
    /// - Throws: `CheckpointError` when `value` is a rebuild call with bad
    ///   arguments.
    static func record(from value: PickleValue, name: String, file: String) throws -> TensorRecord? {
        guard case let .call(function, arguments, _) = value else { return nil }
        switch (function.module, function.name) {
        case ("torch._utils", "_rebuild_parameter"), ("torch._utils", "_rebuild_parameter_with_state"):
            guard let data = arguments.first else { throw bad(name, file, "a parameter without data") }
            guard let tensor = try record(from: data, name: name, file: file) else {
                throw bad(name, file, "a parameter whose data is not a tensor")
            }
            return tensor
        case ("torch._tensor", "_rebuild_from_type_v2"):
            guard arguments.count >= 3, case let .global(inner) = arguments[0],
                  case let .tuple(innerArguments) = arguments[2] else {
                throw bad(name, file, "malformed _rebuild_from_type_v2 arguments")
            }
            return try record(from: .call(inner, arguments: innerArguments, state: nil), name: name, file: file)
        case ("torch._utils", "_rebuild_tensor"), ("torch._utils", "_rebuild_tensor_v2"),
             ("torch._utils", "_rebuild_tensor_v3"):
            return try plainTensor(function.name, arguments, name: name, file: file)
        default:
            return nil
        }
    }

    private static func plainTensor(_ function: String, _ arguments: [PickleValue], name: String, file: String) throws -> TensorRecord {
        let minimum = function == "_rebuild_tensor_v3" ? 7 : 4
        guard arguments.count >= minimum else {
            throw bad(name, file, "\(function) takes at least \(minimum) arguments, found \(arguments.count)")
        }
        guard case let .persistent(id) = arguments[0], let storage = try StorageReference.parse(id, tensor: name, file: file) else {
            throw bad(name, file, "its storage is not a persistent storage id")
        }
        guard case let .int(offset) = arguments[1] else { throw bad(name, file, "storage offset is not an integer") }
        guard let shape = integers(arguments[2]), let strides = integers(arguments[3]) else {
            throw bad(name, file, "size or stride is not a tuple of integers")
        }
        var dtype = storage.dtype
        if function == "_rebuild_tensor_v3" {
            guard case let .global(dtypeGlobal) = arguments[6] else { throw bad(name, file, "no dtype argument") }
            guard let named = TorchAllowlist.dtypes[dtypeGlobal.name] else {
                throw CheckpointError.unsupportedDType(file: file, tensor: name, dtype: dtypeGlobal.qualifiedName)
            }
            if let storageType = storage.dtype, storageType != named {
                throw bad(name, file, "dtype \(named.rawValue) differs from its \(storageType.rawValue) storage")
            }
            dtype = named
        }
        guard let dtype else { throw bad(name, file, "an untyped storage without a dtype") }
        return TensorRecord(dtype: dtype, shape: shape, strides: strides, storageOffset: offset,
                            storageKey: storage.resolvedKey, storage: storage)
    }

    private static func integers(_ value: PickleValue) -> [Int]? {
        let items: [PickleValue]
        switch value {
        case let .tuple(values), let .list(values): items = values
        case let .call(global, arguments, _) where global.name == "Size" && arguments.count == 1:
            return integers(arguments[0])
        default: return nil
        }
        var out = [Int]()
        for item in items {
            guard case let .int(number) = item else { return nil }
            out.append(number)
        }
        return out
    }

    private static func bad(_ name: String, _ file: String, _ reason: String) -> CheckpointError {
        .malformed(file: file, reason: "tensor '\(name)': \(reason)")
    }
}

/// Small readers of pickle values shared by the container parsers.
enum PickleText {
    /// The text of a `str` (or of Python 2 bytes holding ASCII).
    static func string(_ value: PickleValue) -> String? {
        switch value {
        case let .string(text): text
        case let .bytes(bytes) where bytes.allSatisfy({ $0 < 0x80 }): String(decoding: bytes, as: UTF8.self)
        default: nil
        }
    }

    /// An integer used as a key, as text.
    static func integerKey(_ value: PickleValue) -> String? {
        if case let .int(number) = value { return String(number) }
        return nil
    }

    /// A short description of a value for error messages.
    static func brief(_ value: PickleValue) -> String {
        switch value {
        case .none: "None"
        case let .bool(flag): flag ? "True" : "False"
        case let .int(number): String(number)
        case let .bigInt(bytes): "0x" + Hex.string(bytes.reversed())
        case let .float(number): String(number)
        case let .string(text): "'\(text.prefix(40))'"
        case let .bytes(bytes): "\(bytes.count) bytes"
        case let .tuple(items): "a tuple of \(items.count)"
        case let .list(items): "a list of \(items.count)"
        case let .dict(dict): "a dict of \(dict.entries.count)"
        case let .set(items): "a set of \(items.count)"
        case let .global(global): global.qualifiedName
        case let .call(global, _, _): "a \(global.qualifiedName)(...) value"
        case let .object(global, _, _): "a \(global.qualifiedName) object"
        case .persistent: "a persistent id"
        }
    }
}
