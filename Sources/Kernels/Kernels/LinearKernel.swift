
/// A fully connected layer, PyTorch's `Linear`: y = x W^T + b with `W` of
/// shape `[out, in]`, applied to every row of a `[rows, in]` matrix by one sgemm.
public struct LinearKernel: Sendable {
    /// Features per input row.
    public let inFeatures: Int
    /// Features per output row.
    public let outFeatures: Int
    /// `[out, in]` row-major.
    public let weights: [Float]
    /// `out` values.
    public let bias: [Float]

    /// A layer from PyTorch's `weight [out, in]` and `bias [out]` (zeros if nil).
    /// - Throws: `KernelError.invalidParameter` for a size below 1,
    ///   `KernelError.parameterCount` when the arrays do not match.
    public init(inFeatures: Int, outFeatures: Int, weights: [Float], bias: [Float]?) throws {
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
        self.weights = weights
        self.bias = bias ?? [Float](repeating: 0, count: outFeatures)
    }

    /// Writes `rows` output rows `[rows, out]` to the start of `output` (grown
    /// when too small) from the first `rows * in` values of `input`.
    /// - Throws: `KernelError.inputTooShort` when `input` holds fewer values,
    ///   `KernelError.invalidParameter` when `rows` < 1.
    public func apply(_ input: [Float], rows: Int, output: inout [Float]) throws {
        guard rows >= 1 else { throw KernelError.invalidParameter(operation: "linear", name: "rows", value: rows) }
        let needed = try checkedProduct(rows, inFeatures, operation: "linear")
        guard input.count >= needed else {
            throw KernelError.inputTooShort(operation: "linear", name: "input", expected: needed, found: input.count)
        }
        let produced = try checkedProduct(rows, outFeatures, operation: "linear")
        ensureCapacity(&output, produced)
        let m = try blasSize(rows, operation: "linear"), n = try blasSize(outFeatures, operation: "linear")
        let k = try blasSize(inFeatures, operation: "linear")
        let blas = try OpenBLAS.library()
        input.withUnsafeBufferPointer { x in
            weights.withUnsafeBufferPointer { w in
                bias.withUnsafeBufferPointer { b in
                    output.withUnsafeMutableBufferPointer { y in
                        guard let xp = x.baseAddress, let wp = w.baseAddress, let bp = b.baseAddress,
                              let yp = y.baseAddress else { return }
                        // start from the bias in every row, then y += x W^T
                        for r in 0..<rows { (yp + r * outFeatures).update(from: bp, count: outFeatures) }
                        blas.sgemm(transposeB: true, m: m, n: n, k: k, a: xp, lda: k, b: wp, ldb: k,
                                   beta: 1, c: yp, ldc: n)
                    }
                }
            }
        }
    }
}
