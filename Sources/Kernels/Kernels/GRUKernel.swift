import SystemShim
import CVectorKernels

/// One direction of one layer of PyTorch's `nn.GRU`: `weight_ih [3H, I]`,
/// `weight_hh [3H, H]`, `bias_ih [3H]`, `bias_hh [3H]`, row blocks r, z, n.
///
/// Per step, exactly as PyTorch defines it:
///
///     r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
///     z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
///     n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
///     h = (1 - z) * n + z * h        (computed as n + z * (h - n), as PyTorch does)
public struct GRUDirectionKernel: Sendable {
    /// Features per input vector (I).
    public let inputSize: Int
    /// Features of the hidden state (H).
    public let hiddenSize: Int
    /// `[3H, I]` row-major.
    public var weightIH: [Float] { inputWeights.rowMajor }
    /// `weight_ih` laid out for the vector unit (the input product of all steps at once).
    let inputWeights: WeightMatrix
    /// Bytes of weights a run from h0 = 0 over sequences of length 1 reads
    /// (the input matrix as stored, both biases; `W_hh` is never touched then).
    package var storedInputWeightBytes: Int {
        inputWeights.storedBytes + (biasIH.count + biasHH.count) * MemoryLayout<Float>.stride
    }
    /// The unit that runs the products.
    public var unit: VectorUnit { inputWeights.unit }
    /// `[3H, H]` row-major.
    public let weightHH: [Float]
    /// `3H` values.
    public let biasIH: [Float]
    /// `3H` values.
    public let biasHH: [Float]

    /// A direction from PyTorch's four tensors, flattened row-major, run by `unit`.
    /// - Throws: `KernelError.invalidParameter` for a size below 1,
    ///   `KernelError.parameterCount` when an array does not match,
    ///   `.vectorUnitUnavailable` when this CPU cannot run `unit`.
    public init(inputSize: Int, hiddenSize: Int, weightIH: [Float], weightHH: [Float],
                biasIH: [Float], biasHH: [Float], unit: VectorUnit = .preferred) throws {
        let op = "GRU"
        for (name, value) in [("input size", inputSize), ("hidden size", hiddenSize)] where value < 1 {
            throw KernelError.invalidParameter(operation: op, name: name, value: value)
        }
        let gates = try checkedProduct(3, hiddenSize, operation: op)
        for (name, array, expected) in [
            ("weight_ih", weightIH, try checkedProduct(gates, inputSize, operation: op)),
            ("weight_hh", weightHH, try checkedProduct(gates, hiddenSize, operation: op)),
            ("bias_ih", biasIH, gates), ("bias_hh", biasHH, gates),
        ] where array.count != expected {
            throw KernelError.parameterCount(operation: op, name: name, expected: expected, found: array.count)
        }
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        inputWeights = try WeightMatrix(rowMajor: weightIH, outFeatures: gates, inFeatures: inputSize, operation: op,
                                        unit: unit)
        self.weightHH = weightHH
        self.biasIH = biasIH
        self.biasHH = biasHH
    }

    /// Runs the GRU over `steps` time steps of `batch` independent sequences.
    ///
    /// `input` is `[steps, batch, I]` (PyTorch's non-batch-first layout);
    /// `initialHidden` is `[batch, H]`, or nil for zeros. With nil, the first
    /// step skips the `W_hh h` product: h is exactly 0 there, so only `b_hh`
    /// remains and the result is unchanged. `reverse` runs from the last step to
    /// the first (PyTorch's `_reverse` direction).
    ///
    /// The hidden state after step t, sequence b, feature j is written to
    /// `output[(t * batch + b) * outputStride + outputOffset + j]`, or added to
    /// what is there when `accumulate` (how the two halves of a bidirectional
    /// output are summed). `output` grows when too small.
    /// - Throws: `KernelError` when a size is invalid or a buffer is too short,
    ///   or `outputOffset + H` exceeds `outputStride`.
    public func run(_ input: [Float], steps: Int, batch: Int, reverse: Bool, initialHidden: [Float]? = nil,
                    output: inout [Float], outputStride: Int, outputOffset: Int, accumulate: Bool = false) throws {
        let op = "GRU"
        let hs = hiddenSize, g = 3 * hiddenSize
        for (name, value) in [("steps", steps), ("batch", batch)] where value < 1 {
            throw KernelError.invalidParameter(operation: op, name: name, value: value)
        }
        guard outputOffset >= 0 else {
            throw KernelError.invalidParameter(operation: op, name: "output offset", value: outputOffset)
        }
        guard outputOffset <= outputStride - hs else {
            throw KernelError.invalidParameter(operation: op, name: "output stride", value: outputStride)
        }
        let rows = try checkedProduct(steps, batch, operation: op)
        let inputCount = try checkedProduct(rows, inputSize, operation: op)
        guard input.count >= inputCount else {
            throw KernelError.inputTooShort(operation: op, name: "input", expected: inputCount, found: input.count)
        }
        if let initialHidden, initialHidden.count < batch * hs {
            throw KernelError.inputTooShort(
                operation: op, name: "initial hidden", expected: batch * hs, found: initialHidden.count)
        }
        ensureCapacity(&output, try checkedProduct(rows, outputStride, operation: op))
        let bBatch = try blasSize(batch, operation: op)
        let bG = try blasSize(g, operation: op), bH = try blasSize(hs, operation: op)
        let inputProduct = try inputWeights.product(rows: rows, operation: op)
        // The portable unit's library (the hidden products use it too), or a vector unit's kernels.
        let blas: MatrixProduct? = if case let .portable(_, library) = inputProduct { library } else { nil }
        let kernels: crnn_vector_kernels? = if case let .vector(_, table) = inputProduct { table } else { nil }

        // Per-call buffers: input gates for all steps, hidden gates of one step, the state.
        var inputGates = [Float](repeating: 0, count: try checkedProduct(rows, g, operation: op))
        var hiddenGates = [Float](repeating: 0, count: batch * g)
        var hidden = initialHidden.map { Array($0.prefix(batch * hs)) } ?? [Float](repeating: 0, count: batch * hs)
        var hiddenIsZero = initialHidden == nil

        input.withUnsafeBufferPointer { x in
            biasIH.withUnsafeBufferPointer { bih in
                inputGates.withUnsafeMutableBufferPointer { gi in
                    // All three hold at least one value (sizes checked above).
                    guard let xp = x.baseAddress, let bp = bih.baseAddress, let gp = gi.baseAddress else { return }
                    inputWeights.multiply(inputProduct, xp, bias: bp, into: gp)
                }
            }
        }

        for s in 0..<steps {
            let t = reverse ? steps - 1 - s : s
            weightHH.withUnsafeBufferPointer { whh in
                biasHH.withUnsafeBufferPointer { bhh in
                    hidden.withUnsafeBufferPointer { h in
                        hiddenGates.withUnsafeMutableBufferPointer { gh in
                            guard let wp = whh.baseAddress, let bp = bhh.baseAddress, let hp = h.baseAddress,
                                  let ghp = gh.baseAddress else { return }
                            if hiddenIsZero {
                                for b in 0..<batch { (ghp + b * g).update(from: bp, count: g) }
                            } else if let kernels {
                                // A few rows of h against W_hh: no packing, one pass over the weights.
                                kernels.row_products(bG, bH, wp, bH, hp, bBatch, bH, bp, ghp, bG)
                            } else if let blas {
                                for b in 0..<batch { (ghp + b * g).update(from: bp, count: g) }
                                blas.sgemm(transposeB: true, m: bBatch, n: bG, k: bH, a: hp, lda: bH,
                                           b: wp, ldb: bH, beta: 1, c: ghp, ldc: bG)
                            }
                        }
                    }
                }
            }
            inputGates.withUnsafeBufferPointer { gi in
                hiddenGates.withUnsafeBufferPointer { gh in
                    hidden.withUnsafeMutableBufferPointer { h in
                        output.withUnsafeMutableBufferPointer { out in
                            guard let gip = gi.baseAddress, let ghp = gh.baseAddress, let hp = h.baseAddress,
                                  let outputBase = out.baseAddress else { return }
                            for b in 0..<batch {
                                let xg = gip + (t * batch + b) * g
                                let hg = ghp + b * g
                                let state = hp + b * hs
                                let destination = outputBase + (t * batch + b) * outputStride + outputOffset
                                if let kernels {
                                    kernels.gru_gates(bH, xg, hg, state, destination, accumulate ? 1 : 0)
                                    continue
                                }
                                for j in 0..<hs {
                                    let r = sigmoid(xg[j] + hg[j])
                                    let z = sigmoid(xg[hs + j] + hg[hs + j])
                                    let n = hyperbolicTangent(xg[2 * hs + j] + r * hg[2 * hs + j])
                                    let next = n + z * (state[j] - n)
                                    state[j] = next
                                    if accumulate { destination[j] += next } else { destination[j] = next }
                                }
                            }
                        }
                    }
                }
            }
            hiddenIsZero = false
        }
    }
}

/// The logistic function 1 / (1 + e^-x).
@inline(__always)
func sigmoid(_ x: Float) -> Float { 1 / (1 + expf(-x)) }

/// tanh(x) = 1 - 2 / (e^2x + 1): one `expf` (several times faster than
/// `tanhf`), exact at the limits (e^2x overflowing to infinity gives 1, to 0
/// gives -1) and within 2e-7 of `tanhf` in between (absolute).
@inline(__always)
func hyperbolicTangent(_ x: Float) -> Float { 1 - 2 / (expf(2 * x) + 1) }
