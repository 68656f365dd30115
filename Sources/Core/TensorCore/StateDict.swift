/// Named tensors in the order the checkpoint lists them, like PyTorch's
/// `state_dict()` (an `OrderedDict[str, Tensor]`).
public struct StateDict: Sendable {
    /// The entries in file order.
    public private(set) var entries: [(name: String, tensor: Tensor)]
    private var positions: [String: Int]

    /// An empty state_dict.
    public init() {
        entries = []
        positions = [:]
    }

    /// A state_dict of `entries`; a later entry with a name already present
    /// replaces the earlier one in place, as a Python dict does.
    public init(_ entries: [(name: String, tensor: Tensor)]) {
        self.init()
        for entry in entries { self[entry.name] = entry.tensor }
    }

    /// The tensor called `name`, if any; setting appends a new name at the end.
    public subscript(name: String) -> Tensor? {
        get { positions[name].map { entries[$0].tensor } }
        set {
            if let position = positions[name] {
                if let newValue {
                    entries[position].tensor = newValue
                } else {
                    entries.remove(at: position)
                    positions = Dictionary(uniqueKeysWithValues: entries.enumerated().map { ($1.name, $0) })
                }
            } else if let newValue {
                positions[name] = entries.count
                entries.append((name, newValue))
            }
        }
    }

    /// The names in order.
    public var names: [String] { entries.map(\.name) }
    /// How many tensors there are.
    public var count: Int { entries.count }
    /// True when there are no tensors.
    public var isEmpty: Bool { entries.isEmpty }
}
