import TensorCore

/// Reads a state_dict layer by layer while collecting every problem instead of
/// stopping at the first: a key that is missing or malformed yields an empty
/// array so the walk goes on (nothing is built from it: `finish()` then throws),
/// and `finish()` reports all problems at once.
struct WeightReader {
    private let stateDict: StateDict
    private(set) var problems: [StateDictProblem] = []
    private(set) var specs: [ParameterSpec] = []
    private var requested: Set<String> = []

    /// True: check keys, shapes and dtypes only, returning no values.
    private let checkingOnly: Bool

    init(_ stateDict: StateDict, checkingOnly: Bool = false) {
        self.stateDict = stateDict
        self.checkingOnly = checkingOnly
    }

    /// Records an inconsistency found outside a single tensor.
    mutating func report(_ problem: StateDictProblem) { problems.append(problem) }

    /// The float values of `key`, which must have `shape`; empty when it does not.
    mutating func floats(_ key: String, shape: [Int]) -> [Float] {
        specs.append(ParameterSpec(key: key, shape: shape, kind: .float))
        requested.insert(key)
        let placeholder: [Float] = []
        guard let tensor = stateDict[key] else {
            problems.append(.missing(key: key, expectedShape: shape))
            return placeholder
        }
        var ok = true
        if tensor.shape != shape {
            problems.append(.shapeMismatch(key: key, expected: shape, found: tensor.shape))
            ok = false
        }
        if !tensor.dtype.isFloatingPoint {
            problems.append(.wrongDType(key: key, found: tensor.dtype))
            ok = false
        }
        guard ok, !checkingOnly else { return placeholder }
        let values = tensor.floatValues()
        // Copied out: a memory-mapped file's pages for it are no longer needed.
        tensor.storage.releaseResidentPages()
        return values
    }

    /// Checks that the counter `key` (a batch-norm `num_batches_tracked`) is a scalar.
    mutating func counter(_ key: String) {
        specs.append(ParameterSpec(key: key, shape: [], kind: .counter))
        requested.insert(key)
        guard let tensor = stateDict[key] else {
            problems.append(.missing(key: key, expectedShape: []))
            return
        }
        if tensor.elementCount != 1 || tensor.shape.count > 1 {
            problems.append(.shapeMismatch(key: key, expected: [], found: tensor.shape))
        }
    }

    /// Adds an `unexpected` problem for every key never asked for, then
    /// throws if any problem was found.
    /// - Throws: `CRNNError.stateDictMismatch` with every problem.
    mutating func finish() throws {
        for (name, tensor) in stateDict.entries where !requested.contains(name) {
            problems.append(.unexpected(key: name, shape: tensor.shape))
        }
        if !problems.isEmpty { throw CRNNError.stateDictMismatch(problems) }
    }
}

extension WeightReader {
    /// The keys and shapes `build` asks for, in order: runs it against an empty
    /// state_dict, so every layer's `parameters` comes from the same code that loads it.
    static func specs(_ build: (inout WeightReader) -> Void) -> [ParameterSpec] {
        var reader = WeightReader(StateDict())
        build(&reader)
        return reader.specs
    }
}
