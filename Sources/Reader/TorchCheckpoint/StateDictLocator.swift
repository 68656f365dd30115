import Pickle

/// Where in the checkpoint the state_dict was found.
public enum StateDictSource: Equatable, Sendable, CustomStringConvertible {
    /// The file's object is the state_dict itself.
    case topLevel
    /// Inside checkpoint dict keys, outermost first (`["state_dict"]`).
    case wrapper(keys: [String])
    /// Gathered from a whole pickled `nn.Module` (`torch.save(model)`), whose
    /// class is only named, never loaded; `keys` lead to it inside a wrapper.
    case pickledModule(className: String, keys: [String])
    /// The parameters and buffers of a TorchScript archive's module
    /// (`torch.jit.save`), named as `torch.jit.load(f).state_dict()` names them.
    case torchScript(className: String)

    /// True for a TorchScript archive's module.
    public var isTorchScript: Bool {
        if case .torchScript = self { true } else { false }
    }

    public var description: String {
        switch self {
        case .topLevel: "top level"
        case let .wrapper(keys): "checkpoint key " + keys.map { "'\($0)'" }.joined(separator: " > ")
        case let .pickledModule(className, keys):
            "pickled module \(className)" + (keys.isEmpty ? "" : " under key " + keys.map { "'\($0)'" }.joined(separator: " > "))
        case let .torchScript(className): "TorchScript module \(className)"
        }
    }
}

/// A state_dict found in an unpickled checkpoint: tensor descriptors in order.
struct LocatedStateDict {
    var entries: [(name: String, record: TensorRecord)]
    var source: StateDictSource
    var strippedPrefix: String?
    /// The other candidates the search saw and did not choose, by path.
    var passedOver: [String] = []
}

/// Finds the state_dict in a checkpoint's object: a dict of tensors at the
/// top, inside the usual wrappers, or in a pickled module's parameters and
/// buffers; then removes a prefix every name shares (`module.` from
/// DataParallel, `_orig_mod.` from torch.compile).
enum StateDictLocator {
    /// Wrapper keys tried first, in this order; any other key whose value is a
    /// non-empty dict of tensors follows in file order.
    static let preferredKeys = [
        "state_dict", "model_state_dict", "model", "net", "network", "module", "weights", "params",
        "model_ema", "ema", "ema_state_dict",
    ]
    /// Prefixes removed when every name starts with them.
    static let wrapperPrefixes = ["module.", "_orig_mod."]

    /// The state_dict in `root`; names longer than `maxNameBytes` are refused.
    static func locate(_ root: PickleValue, file: String, maxNameBytes: Int, stripsPrefixes: Bool = true) throws -> LocatedStateDict {
        let names = NameCheck(file: file, limit: maxNameBytes)
        guard var found = try search(root, keys: [], names: names, allowEmpty: true, depth: 0) else {
            throw CheckpointError.noStateDict(file: file, found: describe(root))
        }
        if stripsPrefixes { stripWrapperPrefixes(&found) }
        let chosen: [String] = switch found.source {
        case let .wrapper(keys), let .pickledModule(_, keys): keys
        case .topLevel, .torchScript: []
        }
        if !chosen.isEmpty {
            found.passedOver = try candidates(root, keys: [], names: names, depth: 0)
                .filter { $0 != chosen }.map { $0.joined(separator: ".") }
        }
        return found
    }

    /// The key paths (within two levels, as the search looks) of every
    /// non-empty dict of tensors or pickled module.
    private static func candidates(_ value: PickleValue, keys: [String], names: NameCheck, depth: Int) throws -> [[String]] {
        if !keys.isEmpty {
            if let entries = try? tensorDict(value, names: names), !entries.isEmpty { return [keys] }
            if case .object = value, (try? moduleTensors(value, names: names)) != nil { return [keys] }
        }
        guard depth < 2, case let .dict(dict) = value else { return [] }
        var found = [[String]]()
        for entry in dict.entries {
            guard let key = PickleText.string(entry.key) else { continue }
            found += try candidates(entry.value, keys: keys + [key], names: names, depth: depth + 1)
        }
        return found
    }

    /// Removes from every name the `wrapperPrefixes` all names share, and
    /// records what was removed.
    static func stripWrapperPrefixes(_ found: inout LocatedStateDict) {
        var stripped = ""
        while let prefix = wrapperPrefixes.first(where: { prefix in
            !found.entries.isEmpty && found.entries.allSatisfy { $0.name.hasPrefix(prefix) && $0.name.count > prefix.count }
        }) {
            found.entries = found.entries.map { (String($0.name.dropFirst(prefix.count)), $0.record) }
            stripped += prefix
        }
        found.strippedPrefix = stripped.isEmpty ? nil : stripped
    }

    private static func search(_ value: PickleValue, keys: [String], names: NameCheck, allowEmpty: Bool, depth: Int) throws -> LocatedStateDict? {
        if let entries = try tensorDict(value, names: names), allowEmpty || !entries.isEmpty {
            return LocatedStateDict(entries: entries, source: keys.isEmpty ? .topLevel : .wrapper(keys: keys))
        }
        if case let .object(cls, _, _) = value, let entries = try moduleTensors(value, names: names) {
            return LocatedStateDict(entries: entries, source: .pickledModule(className: cls.qualifiedName, keys: keys))
        }
        guard depth < 2, case let .dict(dict) = value else { return nil }
        let named = dict.entries.compactMap { entry in PickleText.string(entry.key).map { ($0, entry.value) } }
        let ordered = preferredKeys.compactMap { key in named.first { $0.0 == key } }
            + named.filter { !preferredKeys.contains($0.0) }
        for (key, inner) in ordered {
            if let found = try search(inner, keys: keys + [key], names: names, allowEmpty: preferredKeys.contains(key), depth: depth + 1) {
                return found
            }
        }
        return nil
    }

    /// The entries of a dict whose keys are all strings and values all
    /// tensors; `nil` for anything else.
    private static func tensorDict(_ value: PickleValue, names: NameCheck) throws -> [(name: String, record: TensorRecord)]? {
        guard case let .dict(dict) = value else { return nil }
        var entries = [(name: String, record: TensorRecord)]()
        for entry in dict.entries {
            guard let name = PickleText.string(entry.key),
                  let record = try TensorRebuild.record(from: entry.value, name: names.shown(name), file: names.file) else { return nil }
            entries.append((try names.checked(name), record))
        }
        return entries
    }

    /// The parameters and persistent buffers of a pickled module tree, in
    /// `state_dict()` order; `nil` when `value` is not a module.
    private static func moduleTensors(_ value: PickleValue, names: NameCheck) throws -> [(name: String, record: TensorRecord)]? {
        var entries = [(name: String, record: TensorRecord)]()
        guard try gather(value, prefix: "", into: &entries, names: names) else { return nil }
        return entries
    }

    private static func gather(_ value: PickleValue, prefix: String, into entries: inout [(name: String, record: TensorRecord)], names: NameCheck) throws -> Bool {
        let file = names.file
        guard case let .object(_, _, state) = value, case let .dict(attributes)? = state,
              case let .dict(parameters)? = attributes["_parameters"],
              case let .dict(modules)? = attributes["_modules"] else { return false }
        var skipped = Set<String>()
        if case let .set(names)? = attributes["_non_persistent_buffers_set"] {
            skipped = Set(names.compactMap(PickleText.string))
        }
        var groups = [parameters]
        if case let .dict(buffers)? = attributes["_buffers"] { groups.append(buffers) }
        for group in groups {
            for entry in group.entries {
                guard let name = PickleText.string(entry.key) else { continue }
                if entry.value == .none || skipped.contains(name) { continue }
                let fullName = try names.checked(prefix + name)
                guard let record = try TensorRebuild.record(from: entry.value, name: fullName, file: file) else {
                    throw CheckpointError.malformed(file: file, reason: "module entry '\(fullName)' is not a tensor")
                }
                entries.append((fullName, record))
            }
        }
        for entry in modules.entries {
            guard let name = PickleText.string(entry.key), entry.value != .none else { continue }
            let path = try names.checked(prefix + name)
            guard try gather(entry.value, prefix: path + ".", into: &entries, names: names) else {
                throw CheckpointError.malformed(file: file, reason: "submodule '\(path)' is not a pickled module")
            }
        }
        return true
    }

    /// What the top level holds, for the "no state_dict" error.
    static func describe(_ root: PickleValue) -> String {
        guard case let .dict(dict) = root else { return PickleText.brief(root) }
        if dict.entries.isEmpty { return "an empty dict" }
        let keys = dict.entries.prefix(20).map { entry in
            PickleText.string(entry.key).map { $0.utf8.count > 80 ? "'\($0.prefix(40))...'" : "'\($0)'" } ?? PickleText.brief(entry.key)
        }
        return "a dict with keys " + keys.joined(separator: ", ") + (dict.entries.count > 20 ? ", ..." : "")
    }
}

/// The tensor-name limit (`CheckpointOptions.maxTensorNameBytes`).
struct NameCheck {
    let file: String
    let limit: Int

    /// `name`, or `CheckpointError.tensorNameTooLong` when it has more than `limit` UTF-8 bytes.
    func checked(_ name: String) throws -> String {
        let bytes = name.utf8.count
        guard bytes <= limit else {
            throw CheckpointError.tensorNameTooLong(file: file, start: String(name.prefix(40)), bytes: bytes, limit: limit)
        }
        return name
    }

    /// `name` as messages may show it: cut short when over the limit.
    func shown(_ name: String) -> String { name.utf8.count <= limit ? name : String(name.prefix(40)) + "..." }
}
