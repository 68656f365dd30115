import Pickle
import TensorCore

/// Which attributes of a TorchScript class are parameters and which are
/// buffers, as the class's declaration in `code/` lists them:
///
///     class BatchNorm2d(Module):
///       __parameters__ = ["weight", "bias", ]
///       __buffers__ = ["running_mean", "running_var", "num_batches_tracked", ]
///
/// `data.pkl` holds every attribute's value but not its kind (a plain tensor
/// attribute pickles exactly like a buffer), so these two lines are the only
/// place the archive says it. They are read as text, strictly: a `class`
/// header at the start of a line and the two list literals of quoted names
/// that follow it. Nothing else in `code/` is read, and nothing is ever run.
struct TorchScriptDeclarations {
    /// The declared parameter and buffer names of one class.
    struct Kinds: Equatable {
        var parameters: [String] = []
        var buffers: [String] = []
    }

    /// Declarations by class, as `data.pkl` names it (`__torch__.a.b`, `C`).
    var classes: [PickleGlobal: Kinds] = [:]

    /// Reads the declarations of every `code/**.py` record under `root`.
    init(archive: ZipArchive, root: String, file: String, limit: Int) throws {
        let folder = root + "/code/"
        for entry in archive.entries where entry.name.hasPrefix(folder) && entry.name.hasSuffix(".py") {
            let path = entry.name.dropFirst(folder.count).dropLast(3)
            let module = path.split(separator: "/", omittingEmptySubsequences: false).joined(separator: ".")
            let bytes = try archive.read(entry, limit: limit)
            let text = bytes.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
            try read(text, module: module, record: entry.name, file: file)
        }
    }

    private mutating func read(_ text: String, module: String, record: String, file: String) throws {
        var current: PickleGlobal?
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("class ") {
                let name = line.dropFirst("class ".count).prefix { $0 != "(" && $0 != ":" }
                current = name.isEmpty ? nil : PickleGlobal(module, String(name))
                continue
            }
            guard let owner = current else { continue }
            for (label, isParameter) in [("  __parameters__ = ", true), ("  __buffers__ = ", false)] where line.hasPrefix(label) {
                let names = try Self.names(line.dropFirst(label.count), record: record, file: file)
                if isParameter { classes[owner, default: Kinds()].parameters = names } else { classes[owner, default: Kinds()].buffers = names }
            }
        }
    }

    /// The names of a list literal `["a", "b", ]`; anything else is refused.
    private static func names(_ literal: Substring, record: String, file: String) throws -> [String] {
        let refuse = CheckpointError.malformed(
            file: file, reason: "\(record) declares \(literal.prefix(60)); expected a list of quoted attribute names")
        guard literal.hasPrefix("["), literal.hasSuffix("]") else { throw refuse }
        var names = [String]()
        for item in literal.dropFirst().dropLast().split(separator: ",") {
            let quoted = item.trimmingSpaces
            if quoted.isEmpty { continue }
            guard quoted.count >= 2, quoted.hasPrefix("\""), quoted.hasSuffix("\"") else { throw refuse }
            let name = quoted.dropFirst().dropLast()
            guard !name.isEmpty, !name.contains("\""), !name.contains("\\") else { throw refuse }
            names.append(String(name))
        }
        return names
    }
}

extension Substring {
    /// The text without leading and trailing spaces.
    fileprivate var trimmingSpaces: Substring {
        let start = drop { $0 == " " }
        return start.dropLast(start.reversed().prefix { $0 == " " }.count)
    }
}

/// The state_dict of a TorchScript archive, as `torch.jit.load(f).state_dict()`
/// gives it. `data.pkl` is a pickle of the module object: each module is an
/// inert object of a `__torch__.*` class whose BUILD state is a dict of its
/// attributes in slot order (tensors via the same storage persistent ids as
/// `torch.save`, submodules as nested objects, plain values). For each
/// module, in attribute order: its declared parameters, then its declared
/// buffers (non-persistent ones included, as TorchScript keeps them), then
/// each submodule's entries under `name.`. A submodule is an attribute
/// holding a `__torch__.*` object whose state has a `training` flag (every
/// scripted `nn.Module` has one). A module class without declarations in
/// `code/` is refused: which of its tensors belong to the state_dict is then
/// unknowable. `constants.pkl` (the code's tensor
/// constants) is not part of a state_dict and is not read.
enum TorchScriptState {
    /// The module TorchScript puts every scripted class under.
    static let classModule = "__torch__"

    /// The state_dict of the module `root`.
    static func locate(_ root: PickleValue, declarations: TorchScriptDeclarations, file: String, maxNameBytes: Int) throws -> LocatedStateDict {
        guard case let .object(cls, _, _) = root, isModule(root) else {
            throw CheckpointError.noStateDict(file: file, found: "a TorchScript archive whose data.pkl holds \(PickleText.brief(root)), not a module")
        }
        var entries = [(name: String, record: TensorRecord)]()
        try gather(root, prefix: "", into: &entries, declarations: declarations, names: NameCheck(file: file, limit: maxNameBytes), depth: 0)
        return LocatedStateDict(entries: entries, source: .torchScript(className: cls.qualifiedName))
    }

    /// True for an object of a `__torch__.*` class with a `training` attribute.
    static func isModule(_ value: PickleValue) -> Bool {
        guard case let .object(cls, _, .dict(attributes)?) = value,
              cls.module == classModule || cls.module.hasPrefix(classModule + ".") else { return false }
        return attributes["training"] != nil
    }

    private static func gather(_ module: PickleValue, prefix: String, into entries: inout [(name: String, record: TensorRecord)],
                               declarations: TorchScriptDeclarations, names: NameCheck, depth: Int) throws {
        guard case let .object(cls, _, .dict(attributes)?) = module else { return }
        guard depth < 200 else {
            throw CheckpointError.malformed(file: names.file, reason: "TorchScript modules nest deeper than 200 at '\(names.shown(prefix))'")
        }
        let named = attributes.entries.compactMap { entry in PickleText.string(entry.key).map { (name: $0, value: entry.value) } }
        guard let kinds = declarations.classes[cls] else {
            throw CheckpointError.malformed(
                file: names.file, reason: "TorchScript class \(cls.qualifiedName) has no declaration in code/; expected its __parameters__ and __buffers__ lists")
        }
        for group in [Set(kinds.parameters), Set(kinds.buffers)] {
            for attribute in named where group.contains(attribute.name) && attribute.value != .none {
                let fullName = try names.checked(prefix + attribute.name)
                guard let record = try TensorRebuild.record(from: attribute.value, name: fullName, file: names.file) else {
                    throw CheckpointError.malformed(
                        file: names.file, reason: "TorchScript attribute '\(fullName)' is declared a parameter or buffer but holds \(PickleText.brief(attribute.value))")
                }
                entries.append((fullName, record))
            }
        }
        for attribute in named where isModule(attribute.value) {
            let path = try names.checked(prefix + attribute.name)
            try gather(attribute.value, prefix: path + ".", into: &entries, declarations: declarations, names: names, depth: depth + 1)
        }
    }
}
