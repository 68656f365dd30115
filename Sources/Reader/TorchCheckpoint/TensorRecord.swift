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
    /// How a quantized tensor's stored integers (`dtype` qint8, quint8 or
    /// qint32) map to values; `nil` for any other tensor.
    public internal(set) var quantization: Quantization? = nil
    /// A sparse tensor's layout and component tensors; `nil` for a dense
    /// one. `dtype` is its values' type, `shape` its dense size, and the
    /// other fields describe its stored values.
    public internal(set) var sparse: SparseStructure? = nil

    /// The record whose elements `loadStateDict()` reads for this tensor:
    /// itself, or for a sparse tensor its stored values.
    var storedElements: TensorRecord { sparse?.components.last?.record ?? self }
}

/// How a quantized tensor's stored integers map to real values:
/// `(q - zeroPoint) * scale`, with one scale and zero point for the whole
/// tensor or one per index along `axis`.
public struct Quantization: Equatable, Sendable {
    /// PyTorch's name of the scheme: `per_tensor_affine`,
    /// `per_channel_affine` or `per_channel_affine_float_qparams`.
    public let scheme: String
    /// The scale of a per-tensor scheme.
    public let scale: Double?
    /// The zero point of a per-tensor scheme.
    public let zeroPoint: Int?
    /// The dimension a per-channel scheme's parameters run along.
    public let axis: Int?
    /// A per-channel scheme's scales and zero points, as the tensors the
    /// file stores them in (in that order); empty for a per-tensor scheme.
    public let channelParameters: [TensorRecord]
}

/// The components of a sparse tensor, as `torch._utils._rebuild_sparse_tensor`
/// receives them.
public struct SparseStructure: Equatable, Sendable {
    /// PyTorch's name of the layout: `sparse_coo`, `sparse_csr`,
    /// `sparse_csc`, `sparse_bsr` or `sparse_bsc`.
    public let layout: String
    /// The component tensors by role, values last: COO `indices`, `values`;
    /// compressed layouts `compressed_indices`, `plain_indices`, `values`.
    public let components: [Component]
    /// How many values (or blocks, for BSR and BSC) are stored.
    public var storedValues: Int { components.last?.record.shape.first ?? 0 }

    /// One part of a sparse tensor: what it is, and where its elements are.
    public struct Component: Equatable, Sendable {
        /// What the part is: `indices` and `values` (COO), or
        /// `compressed_indices`, `plain_indices` and `values` (CSR, CSC, BSR, BSC).
        public let role: String
        /// Where its elements are stored, with their dtype and shape.
        public let record: TensorRecord
    }
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
        case ("torch._utils", "_rebuild_qtensor"):
            return try quantizedTensor(arguments, name: name, file: file)
        case ("torch._utils", "_rebuild_sparse_tensor"):
            return try sparseTensor(arguments, name: name, file: file)
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

    /// `_rebuild_qtensor(storage, offset, size, stride, quantizer_params,
    /// requires_grad, backward_hooks)`; `quantizer_params` is
    /// `(scheme, scale, zero_point)` or `(scheme, scales, zero_points, axis)`.
    private static func quantizedTensor(_ arguments: [PickleValue], name: String, file: String) throws -> TensorRecord {
        guard arguments.count >= 5 else { throw bad(name, file, "_rebuild_qtensor takes 7 arguments, found \(arguments.count)") }
        var record = try plainTensor("_rebuild_tensor_v2", Array(arguments[0..<4]), name: name, file: file)
        guard record.dtype.isQuantized else {
            throw bad(name, file, "a quantized tensor over a \(record.dtype.rawValue) storage; expected qint8, quint8 or qint32")
        }
        guard case let .tuple(parameters) = arguments[4], case let .global(scheme)? = parameters.first,
              TorchAllowlist.quantizationSchemes.contains(scheme.name) else {
            throw bad(name, file, "its quantizer parameters are not (scheme, ...) with a known scheme")
        }
        switch (scheme.name, parameters.count) {
        case ("per_tensor_affine", 3):
            let scale: Double
            switch parameters[1] {
            case let .float(value): scale = value
            case let .int(value): scale = Double(value)
            default: throw bad(name, file, "its scale is not a number")
            }
            guard case let .int(zeroPoint) = parameters[2] else { throw bad(name, file, "its zero point is not an integer") }
            record.quantization = Quantization(scheme: scheme.name, scale: scale, zeroPoint: zeroPoint, axis: nil, channelParameters: [])
        case ("per_channel_affine", 4), ("per_channel_affine_float_qparams", 4):
            guard case let .int(axis) = parameters[3], axis >= 0, axis < record.shape.count else {
                throw bad(name, file, "its per-channel axis is not a dimension of shape \(record.shape)")
            }
            var channel = [TensorRecord]()
            for (index, role) in ["scales", "zero points"].enumerated() {
                // Not yet checked against its storage: its element count may overflow, so count without trapping.
                guard let tensor = try Self.record(from: parameters[1 + index], name: name + " (\(role))", file: file),
                      Tensor.elementCount(of: tensor.shape) == record.shape[axis] else {
                    throw bad(name, file, "its \(role) are not a tensor of \(record.shape[axis]) values (size along axis \(axis))")
                }
                channel.append(tensor)
            }
            record.quantization = Quantization(scheme: scheme.name, scale: nil, zeroPoint: nil, axis: axis, channelParameters: channel)
        default:
            throw bad(name, file, "\(scheme.name) with \(parameters.count - 1) parameters")
        }
        return record
    }

    /// `_rebuild_sparse_tensor(layout, data)`: `data` is `(indices, values,
    /// size[, is_coalesced])` for COO and `(compressed_indices,
    /// plain_indices, values, size)` for CSR, CSC, BSR and BSC.
    private static func sparseTensor(_ arguments: [PickleValue], name: String, file: String) throws -> TensorRecord {
        guard arguments.count == 2, case let .call(getLayout, layoutArguments, _) = arguments[0], getLayout.name == "_get_layout",
              let layoutName = layoutArguments.first.flatMap(PickleText.string), layoutName.hasPrefix("torch."),
              case let .tuple(data) = arguments[1] else {
            throw bad(name, file, "malformed _rebuild_sparse_tensor arguments")
        }
        let layout = String(layoutName.dropFirst("torch.".count))
        let roles: [String]
        switch (layout, data.count) {
        case ("sparse_coo", 3), ("sparse_coo", 4): roles = ["indices", "values"]
        case ("sparse_csr", 4), ("sparse_csc", 4), ("sparse_bsr", 4), ("sparse_bsc", 4):
            roles = ["compressed_indices", "plain_indices", "values"]
        default: throw bad(name, file, "sparse layout \(layout) with \(data.count) parts; expected sparse_coo, sparse_csr, sparse_csc, sparse_bsr or sparse_bsc")
        }
        var components = [SparseStructure.Component]()
        for (index, role) in roles.enumerated() {
            guard let component = try Self.record(from: data[index], name: name + " (\(role))", file: file),
                  component.sparse == nil, component.quantization == nil else {
                throw bad(name, file, "its \(role) are not a dense tensor")
            }
            components.append(SparseStructure.Component(role: role, record: component))
        }
        guard let size = integers(data[roles.count]), size.allSatisfy({ $0 >= 0 }) else {
            throw bad(name, file, "its size is not a tuple of sizes")
        }
        let values = components[components.count - 1].record
        var record = TensorRecord(dtype: values.dtype, shape: size, strides: values.strides, storageOffset: values.storageOffset,
                                  storageKey: values.storageKey, storage: values.storage)
        record.sparse = SparseStructure(layout: layout, components: components)
        return record
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
