import CRNNFormat
public import Conversion
public import TensorCore
import TorchCheckpoint

/// What `crnn-inspect A --compare B` found: names only one file has, dtype
/// or shape differences, and per tensor the largest absolute and relative
/// difference of the values. The JSON form is a stable interface (README.md).
public struct ComparisonReport: Codable, Equatable, Sendable {
    /// One tensor both files have.
    public struct TensorComparison: Codable, Equatable, Sendable {
        /// The state_dict name (a shared prefix such as `module.` removed, as the reader does).
        public var name: String
        /// PyTorch's dtype name in A.
        public var dtypeA: String
        /// PyTorch's dtype name in B.
        public var dtypeB: String
        /// The shape in A.
        public var shapeA: [Int]
        /// The shape in B.
        public var shapeB: [Int]
        /// The largest |a - b| over the elements; `nil` when the shapes
        /// differ (nothing compared). Infinite where exactly one is NaN, or
        /// an infinity meets another value.
        public var maxAbsolute: Double?
        /// The largest |a - b| / max(|a|, |b|) (0 where both are 0); `nil`
        /// when the shapes differ.
        public var maxRelative: Double?
        /// Elements whose absolute difference is over the tolerance (NaN
        /// against NaN counts as equal).
        public var differingElements: Int
        /// Elements compared (0 when the shapes differ).
        public var elements: Int

        /// True when dtype and shape agree and no element differs beyond the tolerance.
        public var isEqual: Bool { dtypeA == dtypeB && shapeA == shapeB && differingElements == 0 }
    }

    /// The first file, as given.
    public var fileA: String
    /// The second file (`--compare`), as given.
    public var fileB: String
    /// The largest absolute difference still counted as equal (0: exact).
    public var tolerance: Double
    /// Names in A only, in A's order.
    public var onlyInA: [String]
    /// Names in B only, in B's order.
    public var onlyInB: [String]
    /// Every tensor both files have, in A's order.
    public var tensors: [TensorComparison]

    /// True when both files have the same names, dtypes and shapes and every
    /// value agrees within `tolerance`.
    public var isEqual: Bool { onlyInA.isEmpty && onlyInB.isEmpty && tensors.allSatisfy(\.isEqual) }

    /// The tensors whose dtype or shape differ.
    public var typeOrShapeDifferences: [TensorComparison] { tensors.filter { $0.dtypeA != $0.dtypeB || $0.shapeA != $0.shapeB } }

    /// The tensors of equal shape whose values differ beyond the tolerance.
    public var valueDifferences: [TensorComparison] { tensors.filter { $0.shapeA == $0.shapeB && $0.differingElements > 0 } }
}

/// Compares the state_dicts of two supported files (`.pt` in either layout,
/// `.safetensors`, our `.bin`): "did the conversion change my weights?",
/// "what changed between two epochs?".
public enum Comparison {
    /// Reads both files' tensors and compares them, name by name.
    /// - Parameters:
    ///   - tolerance: the largest absolute difference counted as equal
    ///     (default 0: exact; NaN equals NaN).
    ///   - allowPickledModules: admit whole pickled modules (`torch.save(model)`).
    /// - Throws: `ConversionError` (`.checkpoint` or `.format`) for either
    ///   file, naming it.
    public static func compare(
        _ a: String, _ b: String, tolerance: Double = 0, allowPickledModules: Bool = false
    ) throws(ConversionError) -> ComparisonReport {
        let first = try stateDict(path: a, allowPickledModules: allowPickledModules)
        let second = try stateDict(path: b, allowPickledModules: allowPickledModules)
        var tensors = [ComparisonReport.TensorComparison]()
        for (name, x) in first.entries {
            guard let y = second[name] else { continue }
            tensors.append(compare(name: name, x, y, tolerance: tolerance))
        }
        return ComparisonReport(
            fileA: a, fileB: b, tolerance: tolerance,
            onlyInA: first.names.filter { second[$0] == nil }, onlyInB: second.names.filter { first[$0] == nil }, tensors: tensors)
    }

    /// The tensors of a `.bin`, or of anything the checkpoint reader opens.
    /// - Throws: `ConversionError.format` for a `.bin`, `.checkpoint` for
    ///   anything else.
    public static func stateDict(path: String, allowPickledModules: Bool = false) throws(ConversionError) -> StateDict {
        do {
            if try ConversionError.isCRNNFile(path) { return try CRNNFile.open(path: path).tensors }
            return try TorchCheckpoint.open(path: path, options: CheckpointOptions(allowPickledModules: allowPickledModules)).loadStateDict()
        } catch { throw ConversionError.converted(error, file: path) }
    }

    /// One tensor of both files, element by element.
    static func compare(name: String, _ a: Tensor, _ b: Tensor, tolerance: Double) -> ComparisonReport.TensorComparison {
        var result = ComparisonReport.TensorComparison(
            name: name, dtypeA: a.dtype.rawValue, dtypeB: b.dtype.rawValue, shapeA: a.shape, shapeB: b.shape,
            maxAbsolute: nil, maxRelative: nil, differingElements: 0, elements: 0)
        guard a.shape == b.shape else { return result }
        result.elements = a.elementCount
        var largestAbsolute = 0.0, largestRelative = 0.0, differing = 0
        func record(_ absolute: Double, _ relative: Double) {
            largestAbsolute = max(largestAbsolute, absolute)
            largestRelative = max(largestRelative, relative)
            if absolute > tolerance { differing += 1 }
        }
        if a.dtype == b.dtype && a.hasSamePackedBytes(as: b) {
            // Identical bytes: every difference is 0.
        } else if a.dtype == .int64 && b.dtype == .int64 {
            // Exact, beyond the 2^53 a Double holds.
            for (x, y) in zip(int64Values(a), int64Values(b)) where x != y {
                let (difference, overflow) = x.subtractingReportingOverflow(y)
                let absolute = overflow ? abs(Double(x) - Double(y)) : Double(difference.magnitude)
                record(absolute, absolute / max(Double(x.magnitude), Double(y.magnitude)))
            }
        } else {
            for (x, y) in zip(a.doubleValues(), b.doubleValues()) {
                let (absolute, relative) = difference(x, y)
                record(absolute, relative)
            }
        }
        result.maxAbsolute = largestAbsolute
        result.maxRelative = largestRelative
        result.differingElements = differing
        return result
    }

    /// |x - y| and |x - y| / max(|x|, |y|), with NaN equal to NaN, an
    /// infinity equal to itself, and any other meeting of a non-finite
    /// value infinitely different.
    static func difference(_ x: Double, _ y: Double) -> (absolute: Double, relative: Double) {
        if x == y || (x.isNaN && y.isNaN) { return (0, 0) }
        if !x.isFinite || !y.isFinite { return (.infinity, .infinity) }
        let absolute = abs(x - y)
        return (absolute, absolute / max(abs(x), abs(y)))
    }

    private static func int64Values(_ tensor: Tensor) -> [Int64] {
        tensor.withContiguousBytes { raw in
            (0..<tensor.elementCount).map { Int64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
        }
    }
}
