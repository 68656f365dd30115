import Pickle
public import TensorCore

/// A tensor anywhere in a checkpoint's object, named by its path: dict keys
/// and list or tuple positions joined with `.` (`optimizer.state.0.exp_avg`,
/// `layers.1`), as walking the object `torch.load` returns would name it.
public struct LocatedTensor: Equatable, Sendable {
    /// Where it is in the pickled object.
    public let path: String
    /// Its element type.
    public let dtype: DType
    /// Its shape.
    public let shape: [Int]
    /// Whether it is one of the state_dict's tensors.
    public let inStateDict: Bool
}

/// Every tensor in the file, and what of it the state_dict leaves out.
public struct TensorInventory: Equatable, Sendable {
    /// Every tensor in the pickled object, in the order the object holds
    /// them (a tensor the object names twice is listed twice).
    public let all: [LocatedTensor]
    /// How many of `all` are not the state_dict's tensors.
    public let outsideCount: Int
    /// The top-level keys (or positions) the tensors outside the state_dict
    /// sit under, with how many each holds, in file order.
    public let outsideUnder: [Place]

    /// A top-level key and how many tensors outside the state_dict it holds.
    public struct Place: Equatable, Sendable {
        /// The key, or the position for a list.
        public let key: String
        /// How many tensors outside the state_dict are under it.
        public internal(set) var count: Int
    }
}

/// Walks a checkpoint's unpickled object for tensors.
enum TensorWalk {
    /// Deeper than this the walk stops (the pickle machine bounds nesting
    /// too; real checkpoints nest a few levels).
    static let maxDepth = 256

    /// Every tensor under `root`, with its path.
    /// - Throws: `CheckpointError` for a tensor whose rebuild arguments are malformed.
    static func tensors(in root: PickleValue, file: String) throws -> [(path: String, record: TensorRecord)] {
        var found = [(path: String, record: TensorRecord)]()
        try walk(root, path: [], depth: 0, file: file, into: &found)
        return found
    }

    private static func walk(_ value: PickleValue, path: [String], depth: Int, file: String,
                             into found: inout [(path: String, record: TensorRecord)]) throws {
        guard depth < maxDepth else { return }
        let joined = path.joined(separator: ".")
        if let record = try TensorRebuild.record(from: value, name: joined.isEmpty ? "(top level)" : joined, file: file) {
            found.append((joined, record))
            return
        }
        switch value {
        case let .dict(dict):
            for entry in dict.entries {
                let key = PickleText.string(entry.key) ?? PickleText.integerKey(entry.key) ?? PickleText.brief(entry.key)
                try walk(entry.value, path: path + [key], depth: depth + 1, file: file, into: &found)
            }
        case let .list(items), let .tuple(items):
            for (index, item) in items.enumerated() {
                try walk(item, path: path + [String(index)], depth: depth + 1, file: file, into: &found)
            }
        case let .object(_, _, state?), let .call(_, _, state?):
            // An inert object (a pickled module, a config object): its state, as its attributes.
            try walk(state, path: path, depth: depth + 1, file: file, into: &found)
        default:
            return
        }
    }

    /// The inventory of `all` against the state_dict's `chosen` tensors:
    /// those not matched (by what they view, counted with multiplicity)
    /// are outside it.
    static func inventory(all: [(path: String, record: TensorRecord)], chosen: [TensorRecord]) -> TensorInventory {
        // What a record views, as a key: two names of one view count as one tensor each.
        func view(_ record: TensorRecord) -> String {
            "\(record.storageKey)|\(record.storageOffset)|\(record.shape)|\(record.strides)|\(record.dtype.rawValue)"
        }
        var remaining = [String: Int]()
        for record in chosen { remaining[view(record), default: 0] += 1 }
        var under = [TensorInventory.Place]()
        var outside = 0
        var located = [LocatedTensor]()
        for (path, record) in all {
            let key = view(record)
            if let left = remaining[key], left > 0 {
                remaining[key] = left - 1
                located.append(LocatedTensor(path: path, dtype: record.dtype, shape: record.shape, inStateDict: true))
                continue
            }
            located.append(LocatedTensor(path: path, dtype: record.dtype, shape: record.shape, inStateDict: false))
            outside += 1
            let top = String(path.split(separator: ".", maxSplits: 1).first ?? "")
            if let index = under.firstIndex(where: { $0.key == top }) {
                under[index].count += 1
            } else {
                under.append(TensorInventory.Place(key: top, count: 1))
            }
        }
        return TensorInventory(all: located, outsideCount: outside, outsideUnder: under)
    }
}
