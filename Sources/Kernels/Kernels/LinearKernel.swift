
/// A fully connected layer, PyTorch's `Linear`: y = x W^T + b with `W` of
/// shape `[out, in]`, applied to every row of a `[rows, in]` matrix by one
/// matrix product (`WeightMatrix`).
public struct LinearKernel: Sendable {
    /// Features per input row.
    public let inFeatures: Int
    /// Features per output row.
    public let outFeatures: Int
    /// `[out, in]` row-major.
    public var weights: [Float] { matrix.rowMajor }
    /// W laid out for its vector unit.
    let matrix: WeightMatrix
    /// Bytes of weights one `apply` reads, as stored for its unit (packed
    /// panels on the vector units), bias included.
    package var storedWeightBytes: Int { matrix.storedBytes + bias.count * MemoryLayout<Float>.stride }
    /// `out` values.
    public let bias: [Float]

    /// A layer from PyTorch's `weight [out, in]` and `bias [out]` (zeros if
    /// nil), run by `unit`.
    /// - Throws: `KernelError.invalidParameter` for a size below 1,
    ///   `KernelError.parameterCount` when the arrays do not match,
    ///   `.vectorUnitUnavailable` when this CPU cannot run `unit`.
    public init(inFeatures: Int, outFeatures: Int, weights: [Float], bias: [Float]?,
                unit: VectorUnit = .preferred) throws {
        let op = "linear"
        for (name, value) in [("in features", inFeatures), ("out features", outFeatures)] where value < 1 {
            throw KernelError.invalidParameter(operation: op, name: name, value: value)
        }
        let expected = try checkedProduct(inFeatures, outFeatures, operation: op)
        guard weights.count == expected else {
            throw KernelError.parameterCount(operation: op, name: "weights", expected: expected, found: weights.count)
        }
        if let bias, bias.count != outFeatures {
            throw KernelError.parameterCount(operation: op, name: "bias", expected: outFeatures, found: bias.count)
        }
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        matrix = try WeightMatrix(rowMajor: weights, outFeatures: outFeatures, inFeatures: inFeatures, operation: op,
                                  unit: unit)
        self.bias = bias ?? [Float](repeating: 0, count: outFeatures)
    }

    /// Writes `rows` output rows `[rows, out]` to the start of `output` (grown
    /// when too small) from the first `rows * in` values of `input`. With a
    /// `team`, its members split the output features.
    /// - Throws: `KernelError.inputTooShort` when `input` holds fewer values,
    ///   `KernelError.invalidParameter` when `rows` < 1.
    public func apply(_ input: [Float], rows: Int, output: inout [Float], team: ThreadTeam = .alone) throws {
        guard rows >= 1 else { throw KernelError.invalidParameter(operation: "linear", name: "rows", value: rows) }
        let needed = try checkedProduct(rows, inFeatures, operation: "linear")
        guard input.count >= needed else {
            throw KernelError.inputTooShort(operation: "linear", name: "input", expected: needed, found: input.count)
        }
        let produced = try checkedProduct(rows, outFeatures, operation: "linear")
        growForOverwrite(&output, produced)
        let product = try matrix.product(rows: rows, operation: "linear")
        input.withUnsafeBufferPointer { x in
            bias.withUnsafeBufferPointer { b in
                output.withUnsafeMutableBufferPointer { y in
                    // All three hold at least one value (sizes checked above).
                    guard let xp = x.baseAddress, let bp = b.baseAddress, let yp = y.baseAddress else { return }
                    team.run { member in
                        matrix.multiply(product, xp, bias: bp, into: yp, outputs: matrix.outputs(for: member, of: team))
                    }
                }
            }
        }
    }
}
