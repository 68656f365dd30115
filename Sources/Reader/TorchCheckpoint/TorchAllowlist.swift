import Pickle
import TensorCore

/// The globals a torch checkpoint may name, and what each may do. Checked
/// against PyTorch's own `weights_only` allowlist
/// (`torch/_weights_only_unpickler.py`, `_get_allowed_globals`): containers,
/// the tensor rebuild functions, storage classes and dtypes. Nothing here is
/// ever called; the unpickler records calls and this module interprets them.
enum TorchAllowlist {
    /// Typed storage class names (`torch.FloatStorage`, ...) and their dtype.
    static let storageTypes: [String: DType] = [
        "DoubleStorage": .float64, "FloatStorage": .float32, "HalfStorage": .float16,
        "BFloat16Storage": .bfloat16, "LongStorage": .int64, "IntStorage": .int32,
        "ShortStorage": .int16, "CharStorage": .int8, "ByteStorage": .uint8, "BoolStorage": .bool,
        "ComplexFloatStorage": .complex64, "ComplexDoubleStorage": .complex128,
        "QInt8Storage": .qint8, "QUInt8Storage": .quint8, "QInt32Storage": .qint32,
    ]
    /// Storage classes torch can write whose elements this reader does not decode.
    static let unsupportedStorageTypes = [
        "QUInt2x4Storage", "QUInt4x2Storage",
    ]
    /// `torch.<name>` dtype objects and the DType each stands for.
    static let dtypes: [String: DType] = [
        "float32": .float32, "float16": .float16, "bfloat16": .bfloat16, "float64": .float64,
        "int64": .int64, "int32": .int32, "int16": .int16, "int8": .int8, "uint8": .uint8, "bool": .bool,
        "float": .float32, "half": .float16, "double": .float64, "long": .int64, "int": .int32, "short": .int16,
        "complex64": .complex64, "complex128": .complex128, "cfloat": .complex64, "cdouble": .complex128,
        "uint16": .uint16, "uint32": .uint32, "uint64": .uint64,
        "float8_e4m3fn": .float8_e4m3fn, "float8_e5m2": .float8_e5m2,
        "float8_e4m3fnuz": .float8_e4m3fnuz, "float8_e5m2fnuz": .float8_e5m2fnuz,
        "qint8": .qint8, "quint8": .quint8, "qint32": .qint32,
    ]
    /// dtype objects torch can write that this reader recognises but does not decode.
    static let unsupportedDTypes = [
        "complex32", "chalf", "bcomplex32", "quint4x2", "quint2x4",
        "float8_e8m0fnu", "float4_e2m1fn_x2", "bits8", "bits16", "bits1x8", "bits2x4", "bits4x2",
    ]

    /// Tensor rebuild functions in `torch._utils` that this reader interprets.
    static let rebuildFunctions = [
        "_rebuild_tensor", "_rebuild_tensor_v2", "_rebuild_tensor_v3",
        "_rebuild_parameter", "_rebuild_parameter_with_state", "_rebuild_qtensor", "_rebuild_sparse_tensor",
    ]
    /// The quantization schemes a quantized tensor names (`torch.per_tensor_affine`, ...).
    static let quantizationSchemes = ["per_tensor_affine", "per_channel_affine", "per_channel_affine_float_qparams"]

    /// The list builders `torch.jit.save` writes for typed list attributes
    /// (`torch.jit._pickle`); recorded as calls, never made.
    static let torchScriptBuilders = [
        "build_intlist", "build_doublelist", "build_boollist", "build_tensorlist", "build_genericlist",
        "build_complexlist", "restore_type_tag",
    ]

    /// The policy for reading checkpoints; `allowingModules` also admits the
    /// classes of a whole pickled `nn.Module` as inert objects; `torchScript`
    /// admits a TorchScript archive's `__torch__.*` classes as inert objects
    /// and its `torch.jit._pickle` list builders as recorded calls.
    static func policy(allowingModules: Bool, torchScript: Bool = false, limits: PickleLimits) -> PicklePolicy {
        var globals = [PickleGlobal: PicklePolicy.Role]()
        globals[PickleGlobal("collections", "OrderedDict")] = .dictType
        globals[PickleGlobal("builtins", "dict")] = .dictType
        globals[PickleGlobal("builtins", "set")] = .setType
        globals[PickleGlobal("builtins", "frozenset")] = .setType
        globals[PickleGlobal("builtins", "list")] = .listType
        globals[PickleGlobal("_codecs", "encode")] = .bytesFromText
        globals[PickleGlobal("copyreg", "_reconstructor")] = .reconstructor
        globals[PickleGlobal("builtins", "object")] = .value
        for name in rebuildFunctions { globals[PickleGlobal("torch._utils", name)] = .callable }
        globals[PickleGlobal("torch._tensor", "_rebuild_from_type_v2")] = .callable
        globals[PickleGlobal("torch", "Size")] = .callable
        globals[PickleGlobal("torch", "device")] = .callable
        globals[PickleGlobal("torch.serialization", "_get_layout")] = .callable
        globals[PickleGlobal("torch", "Tensor")] = .value
        globals[PickleGlobal("torch._tensor", "Tensor")] = .value
        globals[PickleGlobal("torch.nn.parameter", "Parameter")] = .value
        for name in Array(storageTypes.keys) + unsupportedStorageTypes {
            globals[PickleGlobal("torch", name)] = .value
            globals[PickleGlobal("torch.cuda", name)] = .value
        }
        globals[PickleGlobal("torch", "UntypedStorage")] = .value
        globals[PickleGlobal("torch.storage", "UntypedStorage")] = .value
        globals[PickleGlobal("torch.storage", "TypedStorage")] = .value
        for name in Array(dtypes.keys) + unsupportedDTypes + quantizationSchemes { globals[PickleGlobal("torch", name)] = .value }
        // Plain values that training scripts put beside the weights.
        for module in ["numpy.core.multiarray", "numpy._core.multiarray"] {
            globals[PickleGlobal(module, "scalar")] = .callable
            globals[PickleGlobal(module, "_reconstruct")] = .callable
        }
        globals[PickleGlobal("numpy", "dtype")] = .callable
        globals[PickleGlobal("numpy", "ndarray")] = .value
        if torchScript {
            for name in torchScriptBuilders { globals[PickleGlobal("torch.jit._pickle", name)] = .callable }
        }
        var policy = PicklePolicy(globals: globals, allowsInertClasses: allowingModules, limits: limits)
        if torchScript { policy.inertClassModules = [TorchScriptState.classModule] }
        policy.persistentIDResolver = moduleClass
        return policy
    }

    /// Legacy whole-module saves name each module class as a persistent id
    /// `('module', cls, source_file, source)` that stands for `cls`
    /// (`torch.serialization._legacy_load`'s `persistent_load`). The class is
    /// only named; storage ids are left for the container to resolve.
    @Sendable static func moduleClass(_ id: PickleValue) -> PickleValue? {
        guard case let .tuple(fields) = id, fields.count == 4, PickleText.string(fields[0]) == "module",
              case .global = fields[1] else { return nil }
        return fields[1]
    }
}
