import CVectorKernels

/// A layer's weight matrix `W [out, in]` for the products `y = x Wᵀ + b`
/// over the rows of `x` (PyTorch's `Linear`, a GRU's input projection),
/// stored as its vector unit wants it: row-major for the portable unit
/// (OpenBLAS), in panels packed once at load for the AVX-512 unit (so no
/// product re-packs a megabyte of weights for a dozen rows).
struct WeightMatrix: Sendable {
    /// Rows of W (output features).
    let outFeatures: Int
    /// Columns of W (input features).
    let inFeatures: Int
    /// The unit whose layout `storage` has.
    let unit: VectorUnit
    /// Row-major (portable) or packed by `crnn_pack_rows` (AVX-512).
    private let storage: [Float]

    /// W from its row-major values, laid out for `unit`.
    /// - Throws: `KernelError.vectorUnitUnavailable`, or `.sizeOverflow`
    ///   for sizes beyond 32 bits.
    init(rowMajor: [Float], outFeatures: Int, inFeatures: Int, operation: String, unit: VectorUnit) throws {
        guard unit.isAvailable else { throw KernelError.vectorUnitUnavailable(unit: unit.rawValue) }
        let m = try blasSize(outFeatures, operation: operation), k = try blasSize(inFeatures, operation: operation)
        self.outFeatures = outFeatures
        self.inFeatures = inFeatures
        self.unit = unit
        switch unit {
        case .portable:
            storage = rowMajor
        case .avx512:
            let count = crnn_packed_count(m, k)
            storage = rowMajor.withUnsafeBufferPointer { source in
                [Float](unsafeUninitializedCapacity: count) { packed, initialized in
                    crnn_pack_rows(source.baseAddress, k, m, k, packed.baseAddress)
                    initialized = count
                }
            }
        }
    }

    /// W row-major `[out, in]`, as PyTorch stores it.
    var rowMajor: [Float] {
        guard unit == .avx512 else { return storage }
        let panelRows = Int(CRNN_PANEL_ROWS)
        var values = [Float](repeating: 0, count: outFeatures * inFeatures)
        for row in 0..<outFeatures {
            let panel = storage[((row / panelRows) * inFeatures * panelRows)...]
            for column in 0..<inFeatures {
                values[row * inFeatures + column] = panel[panel.startIndex + column * panelRows + row % panelRows]
            }
        }
        return values
    }

    /// `y[r, :] = bias + x[r, :] Wᵀ` for `rows` rows: `x` is `[rows, in]`,
    /// `y` `[rows, out]`, `bias` `out` values. Callers have checked the
    /// buffers and that `rows * max(in, out)` fits 32 bits.
    func multiply(_ x: UnsafePointer<Float>, rows: Int, bias: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>,
                  operation: String) throws {
        let m = Int32(outFeatures), k = Int32(inFeatures), n = try blasSize(rows, operation: operation)
        switch unit {
        case .portable:
            let blas = try OpenBLAS.library()
            for r in 0..<rows { (y + r * outFeatures).update(from: bias, count: outFeatures) }
            storage.withUnsafeBufferPointer { w in
                blas.sgemm(transposeB: true, m: n, n: m, k: k, a: x, lda: k, b: w.baseAddress!, ldb: k, beta: 1, c: y,
                           ldc: m)
            }
        case .avx512:
            // (W xᵀ)ᵀ: the packed product runs along the rows of x, so x goes in
            // transposed and the result comes out transposed.
            withUnsafeTemporaryAllocation(of: Float.self, capacity: rows * (inFeatures + outFeatures)) { buffer in
                let xT = buffer.baseAddress!, yT = xT + rows * inFeatures
                for r in 0..<rows {
                    for c in 0..<inFeatures { xT[c * rows + r] = x[r * inFeatures + c] }
                }
                storage.withUnsafeBufferPointer { w in
                    crnn_packed_product_epilogue_avx512(m, n, k, w.baseAddress, xT, n, yT, n, bias, nil, 0)
                }
                for o in 0..<outFeatures {
                    for r in 0..<rows { y[r * outFeatures + o] = yT[o * rows + r] }
                }
            }
        }
    }
}
