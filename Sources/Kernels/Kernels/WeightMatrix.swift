import CVectorKernels

/// A layer's weight matrix `W [out, in]` for the products `y = x Wᵀ + b`
/// over the rows of `x` (PyTorch's `Linear`, a GRU's input projection),
/// stored as its vector unit wants it: row-major for the portable unit
/// (OpenBLAS), in panels packed once at load for the vector units (so no
/// product re-packs a megabyte of weights for a dozen rows).
struct WeightMatrix: Sendable {
    /// Rows of W (output features).
    let outFeatures: Int
    /// Columns of W (input features).
    let inFeatures: Int
    /// The unit whose layout `storage` has.
    let unit: VectorUnit
    /// Row-major (portable) or packed by `crnn_pack_rows` (vector units).
    private let storage: [Float]
    /// Bytes of `storage`: what one product over any number of rows reads of W.
    var storedBytes: Int { storage.count * MemoryLayout<Float>.stride }

    /// W from its row-major values, laid out for `unit`.
    /// - Throws: `KernelError.vectorUnitUnavailable`, or `.sizeOverflow`
    ///   for sizes beyond 32 bits.
    init(rowMajor: [Float], outFeatures: Int, inFeatures: Int, operation: String, unit: VectorUnit) throws {
        try unit.checkAvailable()
        let m = try blasSize(outFeatures, operation: operation), k = try blasSize(inFeatures, operation: operation)
        self.outFeatures = outFeatures
        self.inFeatures = inFeatures
        self.unit = unit
        switch unit {
        case .portable:
            storage = rowMajor
        case .avx512, .avx2:
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
        guard unit != .portable else { return storage }
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

    /// The output features `member` of `team` computes when a product is
    /// split between them: whole panels for the packed layout.
    func outputs(for member: Int, of team: ThreadTeam) -> Range<Int> {
        let granule = unit == .portable ? 1 : Int(CRNN_PANEL_ROWS)
        let share = team.share(of: (outFeatures + granule - 1) / granule, member: member)
        return min(outFeatures, share.lowerBound * granule)..<min(outFeatures, share.upperBound * granule)
    }

    /// A product over `rows` rows with everything that can fail checked:
    /// the 32-bit sizes, and the library for the portable unit.
    enum Product {
        case portable(rows: Int32, blas: MatrixProduct)
        case vector(rows: Int32, kernels: crnn_vector_kernels)
    }

    /// Checks a product over `rows` rows once (before a team splits it).
    /// - Throws: `KernelError.sizeOverflow` when `rows * max(in, out)` does not
    ///   fit 32 bits (the transpositions' strides); `.blasUnavailable` when the
    ///   portable unit's OpenBLAS cannot be opened.
    func product(rows: Int, operation: String) throws -> Product {
        let n = try blasSize(rows, operation: operation)
        _ = try blasSize(try checkedProduct(rows, max(inFeatures, outFeatures), operation: operation), operation: operation)
        if let kernels = unit.vectorKernels { return .vector(rows: n, kernels: kernels) }
        return .portable(rows: n, blas: try MatrixProduct.current())
    }

    /// `y[r, o] = bias[o] + x[r, :] · W[o, :]` for the product's rows and the
    /// output features `outputs` (all by default; a range from
    /// `outputs(for:of:)` when split): `x` is `[rows, in]`, `y` `[rows, out]`,
    /// `bias` `out` values. Callers have checked the buffers.
    func multiply(_ product: Product, _ x: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                  into y: UnsafeMutablePointer<Float>, outputs: Range<Int>? = nil) {
        let range = outputs ?? 0..<outFeatures
        guard !range.isEmpty else { return }
        let m = Int32(range.count), k = Int32(inFeatures), ldy = Int32(outFeatures)
        switch product {
        case let .portable(n, blas):
            for r in 0..<Int(n) {
                (y + r * outFeatures + range.lowerBound).update(from: bias + range.lowerBound, count: range.count)
            }
            storage.withUnsafeBufferPointer { w in
                blas.sgemm(transposeB: true, m: n, n: m, k: k, a: x, lda: k, b: w.baseAddress! + range.lowerBound * inFeatures,
                           ldb: k, beta: 1, c: y + range.lowerBound, ldc: ldy)
            }
        case let .vector(n, kernels):
            // (W xᵀ)ᵀ: the packed product runs along the rows of x, so x goes in
            // transposed and the result comes out transposed. `range` starts on a panel.
            let rows = Int(n)
            withUnsafeTemporaryAllocation(of: Float.self, capacity: rows * (inFeatures + range.count)) { buffer in
                let xT = buffer.baseAddress!, yT = xT + rows * inFeatures
                kernels.transpose(n, k, x, k, xT, n)
                storage.withUnsafeBufferPointer { w in
                    kernels.packed_product_epilogue(m, n, k, w.baseAddress! + range.lowerBound * inFeatures, xT, n,
                                                    yT, n, bias + range.lowerBound, nil, 0)
                }
                kernels.transpose(m, n, yT, n, y + range.lowerBound, ldy)
            }
        }
    }
}
