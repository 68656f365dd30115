#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CVectorKernels
import Dispatch

/// A 3x3, stride-1, padding-1 convolution computed with Winograd's minimal
/// filtering F(2x2, 3x3) (Lavin & Gray, "Fast Algorithms for Convolutional
/// Neural Networks", 2015): each 2x2 block of outputs comes from a 4x4 input
/// tile with 16 multiplications per channel pair instead of 36, so the
/// matrix products shrink 2.25-fold.
///
/// Per call: the input tiles are transformed (V = Bᵀ d B), then 16 products
/// `M[ξ] = U[ξ] · V[ξ]` run over all images' tiles at once (`U[ξ]` is
/// `[O, I]`, the weights transformed once at load: U = G g Gᵀ), then each
/// output block is `Aᵀ m A`, with bias, residual and ReLU applied in the same
/// pass. The extra additions change the rounding, not the result: it stays
/// within 1e-5 relative of the direct product (checked against PyTorch in
/// the tests).
public struct WinogradConvolution: Sendable {
    /// Output channels (O).
    public let outChannels: Int
    /// Input channels (I).
    public let inChannels: Int
    /// The unit that runs the transforms and products.
    public let unit: VectorUnit
    /// The transformed weights: 16 matrices `[O, I]`, ξ = 4 * row + column of
    /// the tile, `matrixCount` floats apart; row-major for `.portable`,
    /// packed in panels (`crnn_pack_rows`) for `.avx512`.
    let transformedWeights: [Float]
    /// Floats from one transformed matrix to the next.
    let matrixCount: Int
    /// One bias per output channel.
    let bias: [Float]

    /// Whether `kernel` has the geometry this algorithm computes: 3x3, stride 1, padding 1.
    public static func supports(_ kernel: ConvolutionKernel) -> Bool {
        kernel.kernelHeight == 3 && kernel.kernelWidth == 3 && kernel.strideY == 1 && kernel.strideX == 1
            && kernel.paddingY == 1 && kernel.paddingX == 1
    }

    /// The Winograd form of `kernel` (batch norm already folded in), run by `unit`.
    /// - Throws: `KernelError.invalidParameter` when `kernel` is not 3x3,
    ///   stride 1, padding 1; `KernelError.vectorUnitUnavailable` when this
    ///   CPU cannot run `unit`; `.sizeOverflow` for sizes beyond 32 bits.
    public init(_ kernel: ConvolutionKernel, unit: VectorUnit = .preferred) throws {
        guard Self.supports(kernel) else {
            throw KernelError.invalidParameter(
                operation: "winograd convolution", name: "kernel size (3x3, stride 1, padding 1 only)",
                value: kernel.kernelHeight * 100 + kernel.strideY * 10 + kernel.paddingY)
        }
        guard unit.isAvailable else { throw KernelError.vectorUnitUnavailable(unit: unit.rawValue) }
        let outChannels = kernel.outChannels, inChannels = kernel.inChannels
        _ = try blasSize(outChannels, operation: "convolution")
        _ = try blasSize(inChannels, operation: "convolution")
        self.outChannels = outChannels
        self.inChannels = inChannels
        self.unit = unit
        bias = kernel.bias
        let packed = unit == .avx512
        let panelRows = Int(CRNN_PANEL_ROWS)
        let matrixCount = packed ? crnn_packed_count(Int32(outChannels), Int32(inChannels)) : outChannels * inChannels
        self.matrixCount = matrixCount
        let panels = (outChannels + panelRows - 1) / panelRows
        // Every element is written below (16 per channel pair, padding rows
        // zeroed), so no zero fill; panels of 8 output channels are split between the cores.
        transformedWeights = kernel.weights.withUnsafeBufferPointer { weights in
            [Float](unsafeUninitializedCapacity: 16 * matrixCount) { u, initialized in
                let chunks = min(Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), max(1, outChannels * inChannels / 4096))
                // Each chunk reads and writes its own panels only.
                nonisolated(unsafe) let source = weights.baseAddress!, destination = u.baseAddress!
                DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                    // One panel at a time through a small buffer (16 matrices of
                    // `[8, I]`), so that each matrix is written in long runs.
                    let block = panelRows * inChannels
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: 16 * block) { buffer in
                        let staging = buffer.baseAddress!
                        for panel in (panels * chunk / chunks)..<(panels * (chunk + 1) / chunks) {
                            let firstRow = panel * panelRows, rows = min(panelRows, outChannels - firstRow)
                            for pair in 0..<(rows * inChannels) {
                                Self.transform(source + (firstRow * inChannels + pair) * 9, into: staging + pair,
                                               stride: block)
                            }
                            for xi in 0..<16 {
                                let matrix = staging + xi * block
                                if packed {
                                    // Panel layout: for each input channel, the panel's 8 rows (zeros past O).
                                    (matrix + rows * inChannels).update(repeating: 0, count: block - rows * inChannels)
                                    crnn_pack_rows(matrix, Int32(inChannels), Int32(panelRows), Int32(inChannels),
                                                   destination + xi * matrixCount + panel * block)
                                } else {
                                    (destination + xi * matrixCount + firstRow * inChannels)
                                        .update(from: matrix, count: rows * inChannels)
                                }
                            }
                        }
                    }
                }
                initialized = 16 * matrixCount
            }
        }
    }

    /// U = G g Gᵀ for one 3x3 kernel `g` (row-major), computed in Double; the
    /// 16 values go to `u[ξ * stride]`, ξ = 4 * row + column.
    private static func transform(_ g: UnsafePointer<Float>, into u: UnsafeMutablePointer<Float>, stride: Int) {
        // G g (4x3), column by column: (a, (a + b + c) / 2, (a - b + c) / 2, c) of g's column (a, b, c).
        func column(_ j: Int) -> (Double, Double, Double, Double) {
            let a = Double(g[j]), b = Double(g[3 + j]), c = Double(g[6 + j])
            return (a, (a + b + c) / 2, (a - b + c) / 2, c)
        }
        let c0 = column(0), c1 = column(1), c2 = column(2)
        // (G g) Gᵀ: each row (a, b, c) of G g becomes (a, (a + b + c) / 2, (a - b + c) / 2, c).
        func emit(row: Int, _ a: Double, _ b: Double, _ c: Double) {
            let base = row * 4 * stride
            u[base] = Float(a)
            u[base + stride] = Float((a + b + c) / 2)
            u[base + 2 * stride] = Float((a - b + c) / 2)
            u[base + 3 * stride] = Float(c)
        }
        emit(row: 0, c0.0, c1.0, c2.0)
        emit(row: 1, c0.1, c1.1, c2.1)
        emit(row: 2, c0.2, c1.2, c2.2)
        emit(row: 3, c0.3, c1.3, c2.3)
    }

    /// The output shape for `input`: the same rows and columns, `outChannels` planes.
    /// - Throws: `KernelError.channelMismatch`.
    public func outputShape(for input: FeatureShape) throws -> FeatureShape {
        guard input.channels == inChannels else {
            throw KernelError.channelMismatch(operation: "convolution", expected: inChannels, found: input.channels)
        }
        return try FeatureShape(batch: input.batch, channels: outChannels, height: input.height, width: input.width)
    }

    /// Tiles along each axis and in all (over the whole batch) for `shape`.
    private func tiling(_ shape: FeatureShape) throws -> (rows: Int, columns: Int, total: Int) {
        let rows = (shape.height + 1) / 2, columns = (shape.width + 1) / 2
        return (rows, columns, try checkedProduct(shape.batch, rows, columns, operation: "convolution"))
    }

    /// Whether `members` should split a convolution by tiles: when each gets
    /// at least a vector's worth (16). Otherwise they split by channels,
    /// which costs a wait and reading what the other member wrote, but keeps
    /// the products wide.
    static func splitsByTiles(_ tiles: Int, members: Int) -> Bool { tiles / members >= 16 }

    /// Tiles a member puts through the pipeline at once when it splits by
    /// tiles: few enough that its transformed input and products stay in its
    /// core's cache, and that the scratch stays small.
    static let tileBlock = 96

    /// Scratch elements `apply` needs for `input` when run by a team of
    /// `members`: the transformed input and the 16 products, of all tiles
    /// (portable unit, or split by channels) or of one block of tiles per member.
    /// - Throws: as `outputShape(for:)`.
    public func scratchCount(for input: FeatureShape, members: Int = 1) throws -> Int {
        let tiles = try tiling(input).total
        let perTile = try checkedProduct(16, inChannels + outChannels, operation: "convolution")
        guard unit == .avx512 else { return try checkedProduct(perTile, tiles, operation: "convolution") }
        guard members == 1 || Self.splitsByTiles(tiles, members: members) else {
            // Split by channels: a transformed input per member, the products shared.
            return try checkedProduct(16, try checkedProduct(members, inChannels, operation: "convolution") + outChannels, tiles,
                                      operation: "convolution")
        }
        let capacity = ColumnBlocks.capacity(total: tiles, members: members, limit: Self.tileBlock)
        return try checkedProduct(perTile, members, capacity, operation: "convolution")
    }

    /// Runs the convolution on the NCHW `input` of `shape` into `output`, then
    /// adds the bias, `residual` (if given, the output's shape) and applies
    /// ReLU if `relu`. Same contract as `ConvolutionKernel.apply`.
    /// - Returns: the output shape.
    /// - Throws: `KernelError` when a buffer is shorter than its shape needs.
    @discardableResult
    public func apply(_ input: [Float], shape: FeatureShape, residual: [Float]? = nil, relu: Bool = false,
                      output: inout [Float], scratch: inout [Float], team: ThreadTeam = .alone) throws -> FeatureShape {
        let op = "convolution"
        let out = try outputShape(for: shape)
        try prepareConvolutionBuffers(input: input, shape: shape, residual: residual, outputShape: out,
                                      output: &output, scratch: &scratch,
                                      scratchCount: try scratchCount(for: shape, members: team.size))
        let tiles = try tiling(shape)
        // Every size the C kernels and OpenBLAS take, checked once: 32 bits each.
        for size in [outChannels, inChannels, tiles.total, shape.batch, shape.height, shape.width] {
            _ = try blasSize(size, operation: op)
        }
        let blas = unit == .portable ? try OpenBLAS.library() : nil
        withOptionalBuffer(residual) { residualBase in
            input.withUnsafeBufferPointer { inputBuffer in
                transformedWeights.withUnsafeBufferPointer { weightBuffer in
                    bias.withUnsafeBufferPointer { biasBuffer in
                        scratch.withUnsafeMutableBufferPointer { scratchBuffer in
                            output.withUnsafeMutableBufferPointer { outputBuffer in
                                guard let source = inputBuffer.baseAddress, let weights = weightBuffer.baseAddress,
                                      let biases = biasBuffer.baseAddress, let work = scratchBuffer.baseAddress,
                                      let destination = outputBuffer.baseAddress
                                else { return }
                                let call = Call(input: source, shape: shape, tiles: tiles, weights: weights, bias: biases,
                                                residual: residualBase, relu: relu, scratch: work, output: destination)
                                if let blas {
                                    runPortable(call, blas: blas, team: team)
                                } else if team.size == 1 || Self.splitsByTiles(tiles.total, members: team.size) {
                                    runByTiles(call, team: team)
                                } else {
                                    runByChannels(call, team: team)
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// One call's buffers and sizes, for the run methods (sizes checked to fit 32 bits).
    private struct Call {
        let input: UnsafePointer<Float>
        let shape: FeatureShape
        let tiles: (rows: Int, columns: Int, total: Int)
        let weights: UnsafePointer<Float>
        let bias: UnsafePointer<Float>
        let residual: UnsafePointer<Float>?
        let relu: Bool
        let scratch: UnsafeMutablePointer<Float>
        let output: UnsafeMutablePointer<Float>
        var batch: Int32 { Int32(shape.batch) }
        var height: Int32 { Int32(shape.height) }
        var width: Int32 { Int32(shape.width) }
    }

    /// Portable unit: each member takes whole rows of the tile (ξ = 4 * row +
    /// column), transform then OpenBLAS products; then each a block of output
    /// channels for the output pass.
    private func runPortable(_ call: Call, blas: OpenBLAS, team: ThreadTeam) {
        let total = call.tiles.total
        let transformedInput = call.scratch, products = call.scratch + 16 * inChannels * total
        let o = Int32(outChannels), i = Int32(inChannels), n = Int32(total)
        team.run { member in
            let rows = team.share(of: 4, member: member)
            guard !rows.isEmpty else { return }
            transformInput(call.input, shape: call.shape, tiles: call.tiles, rows: rows, into: transformedInput)
            for xi in (4 * rows.lowerBound)..<(4 * rows.upperBound) {
                blas.sgemm(m: o, n: n, k: i, a: call.weights + xi * matrixCount, lda: i,
                           b: transformedInput + xi * inChannels * total, ldb: n, beta: 0,
                           c: products + xi * outChannels * total, ldc: n)
            }
        }
        team.run { member in
            transformOutput(UnsafePointer(products), shape: call.shape, tiles: call.tiles,
                            channels: team.share(of: outChannels, member: member), residual: call.residual,
                            relu: call.relu, into: call.output)
        }
    }

    /// AVX-512 unit, enough tiles: each member takes its own run of tiles
    /// through the whole pipeline, all channels, a block of tiles at a time
    /// in its own part of the scratch (so no cache line is written by two
    /// members, and what a member wrote it reads from its own cache).
    private func runByTiles(_ call: Call, team: ThreadTeam) {
        let total = call.tiles.total
        let capacity = ColumnBlocks.capacity(total: total, members: team.size, limit: Self.tileBlock)
        let region = 16 * (inChannels + outChannels) * capacity
        let o = Int32(outChannels), i = Int32(inChannels)
        team.run { member in
            let share = team.share(of: total, member: member)
            guard !share.isEmpty else { return }
            let ownInput = call.scratch + member * region, ownProducts = ownInput + 16 * inChannels * capacity
            for block in ColumnBlocks(run: share, limit: Self.tileBlock) {
                let count = block.count, width = Int32(count)
                let first = Int32(block.lowerBound), end = Int32(block.upperBound)
                crnn_winograd_input_avx512(call.input, call.batch, i, call.height, call.width, 0, i, first, end,
                                           ownInput, width)
                for xi in 0..<16 {
                    crnn_packed_product_avx512(o, width, i, call.weights + xi * matrixCount,
                                               ownInput + xi * inChannels * count, width,
                                               ownProducts + xi * outChannels * count, width)
                }
                crnn_winograd_output_avx512(ownProducts, call.batch, o, call.height, call.width, 0, o, first, end,
                                            width, call.bias, call.residual, call.relu ? 1 : 0, call.output)
            }
        }
    }

    /// AVX-512 unit, too few tiles to split (a product a few columns wide
    /// runs far below its rate): each member transforms the whole input into
    /// its own part of the scratch (a small transform, done twice, instead of
    /// a wait and reading what the other core wrote), then runs the 16
    /// products and the output pass of its panels of output channels.
    private func runByChannels(_ call: Call, team: ThreadTeam) {
        let total = call.tiles.total, n = Int32(total)
        let products = call.scratch, transformedInputs = call.scratch + 16 * outChannels * total
        let o = Int32(outChannels), i = Int32(inChannels)
        let panelRows = Int(CRNN_PANEL_ROWS)
        let panels = (outChannels + panelRows - 1) / panelRows
        team.run { member in
            let share = team.share(of: panels, member: member)
            let first = share.lowerBound * panelRows, end = min(outChannels, share.upperBound * panelRows)
            guard end > first else { return }
            let transformedInput = transformedInputs + member * 16 * inChannels * total
            crnn_winograd_input_avx512(call.input, call.batch, i, call.height, call.width, 0, i, 0, n, transformedInput, n)
            for xi in 0..<16 {
                crnn_packed_product_avx512(Int32(end - first), n, i, call.weights + xi * matrixCount + first * inChannels,
                                           transformedInput + xi * inChannels * total, n,
                                           products + (xi * outChannels + first) * total, n)
            }
            crnn_winograd_output_avx512(products, call.batch, o, call.height, call.width, Int32(first), Int32(end), 0,
                                        n, n, call.bias, call.residual, call.relu ? 1 : 0, call.output)
        }
    }

    /// V = Bᵀ d B for every 4x4 tile d (rows 2ty-1 ... 2ty+2, columns
    /// 2tx-1 ... 2tx+2, zero outside the image), written as 16 matrices
    /// `[I, tiles]`, tile index n * rows * columns + ty * columns + tx; only
    /// the matrices of the transformed tile's `rows` (ξ = 4 * row + column).
    private func transformInput(_ input: UnsafePointer<Float>, shape: FeatureShape,
                                tiles: (rows: Int, columns: Int, total: Int), rows tileRows: Range<Int>,
                                into v: UnsafeMutablePointer<Float>) {
        let height = shape.height, width = shape.width
        let paddedWidth = 2 * tiles.columns + 2
        let matrixStride = inChannels * tiles.total
        // Four padded input rows, then the four row combinations Bᵀ d.
        let rows = UnsafeMutablePointer<Float>.allocate(capacity: 8 * paddedWidth)
        defer { rows.deallocate() }
        rows.initialize(repeating: 0, count: 8 * paddedWidth)
        let combined = rows + 4 * paddedWidth
        for n in 0..<shape.batch {
            for c in 0..<inChannels {
                let plane = input + (n * inChannels + c) * height * width
                for ty in 0..<tiles.rows {
                    for r in 0..<4 {
                        let row = rows + r * paddedWidth
                        let y = 2 * ty - 1 + r
                        if y >= 0 && y < height {
                            (row + 1).update(from: plane + y * width, count: width)
                            (row + 1 + width).update(repeating: 0, count: paddedWidth - 1 - width)
                        } else {
                            row.update(repeating: 0, count: paddedWidth)
                        }
                    }
                    let d0 = rows, d1 = rows + paddedWidth, d2 = rows + 2 * paddedWidth, d3 = rows + 3 * paddedWidth
                    // Bᵀ d, row r: d0 - d2, d1 + d2, d2 - d1, d1 - d3.
                    for r in tileRows {
                        let t = combined + r * paddedWidth
                        switch r {
                        case 0: for x in 0..<paddedWidth { t[x] = d0[x] - d2[x] }
                        case 1: for x in 0..<paddedWidth { t[x] = d1[x] + d2[x] }
                        case 2: for x in 0..<paddedWidth { t[x] = d2[x] - d1[x] }
                        default: for x in 0..<paddedWidth { t[x] = d1[x] - d3[x] }
                        }
                    }
                    let firstTile = (n * tiles.rows + ty) * tiles.columns
                    let base = v + c * tiles.total + firstTile
                    for r in tileRows {
                        let t = combined + r * paddedWidth
                        let m0 = base + (4 * r) * matrixStride, m1 = base + (4 * r + 1) * matrixStride
                        let m2 = base + (4 * r + 2) * matrixStride, m3 = base + (4 * r + 3) * matrixStride
                        for tx in 0..<tiles.columns {
                            let x = 2 * tx
                            m0[tx] = t[x] - t[x + 2]
                            m1[tx] = t[x + 1] + t[x + 2]
                            m2[tx] = t[x + 2] - t[x + 1]
                            m3[tx] = t[x + 1] - t[x + 3]
                        }
                    }
                }
            }
        }
    }

    /// Y = Aᵀ m A for every tile (2x2 outputs, cut at the image's edge), plus
    /// bias, residual and ReLU, into the NCHW `output`, for output `channels`.
    private func transformOutput(_ m: UnsafePointer<Float>, shape: FeatureShape,
                                 tiles: (rows: Int, columns: Int, total: Int), channels: Range<Int>,
                                 residual: UnsafePointer<Float>?, relu: Bool, into output: UnsafeMutablePointer<Float>) {
        let height = shape.height, width = shape.width
        let matrixStride = outChannels * tiles.total
        // Two output rows at a time, full tiles wide (2 * columns >= width).
        let block = UnsafeMutablePointer<Float>.allocate(capacity: 4 * tiles.columns)
        defer { block.deallocate() }
        for n in 0..<shape.batch {
            for k in channels {
                let value = bias[k]
                let planeOffset = (n * outChannels + k) * height * width
                for ty in 0..<tiles.rows {
                    let base = m + k * tiles.total + (n * tiles.rows + ty) * tiles.columns
                    let top = block, bottom = block + 2 * tiles.columns
                    for tx in 0..<tiles.columns {
                        let m00 = base[tx], m01 = base[matrixStride + tx]
                        let m02 = base[2 * matrixStride + tx], m03 = base[3 * matrixStride + tx]
                        let m10 = base[4 * matrixStride + tx], m11 = base[5 * matrixStride + tx]
                        let m12 = base[6 * matrixStride + tx], m13 = base[7 * matrixStride + tx]
                        let m20 = base[8 * matrixStride + tx], m21 = base[9 * matrixStride + tx]
                        let m22 = base[10 * matrixStride + tx], m23 = base[11 * matrixStride + tx]
                        let m30 = base[12 * matrixStride + tx], m31 = base[13 * matrixStride + tx]
                        let m32 = base[14 * matrixStride + tx], m33 = base[15 * matrixStride + tx]
                        // Aᵀ m: rows (m0 + m1 + m2) and (m1 - m2 - m3).
                        let r00 = m00 + m10 + m20, r01 = m01 + m11 + m21, r02 = m02 + m12 + m22, r03 = m03 + m13 + m23
                        let r10 = m10 - m20 - m30, r11 = m11 - m21 - m31, r12 = m12 - m22 - m32, r13 = m13 - m23 - m33
                        // (Aᵀ m) A: columns (r0 + r1 + r2) and (r1 - r2 - r3).
                        top[2 * tx] = r00 + r01 + r02 + value
                        top[2 * tx + 1] = r01 - r02 - r03 + value
                        bottom[2 * tx] = r10 + r11 + r12 + value
                        bottom[2 * tx + 1] = r11 - r12 - r13 + value
                    }
                    for i in 0..<2 {
                        let y = 2 * ty + i
                        guard y < height else { break }
                        let source = block + i * 2 * tiles.columns
                        let destination = output + planeOffset + y * width
                        // The same output pass as the im2col form's.
                        switch (residual.map { $0 + planeOffset + y * width }, relu) {
                        case let (add?, true): for x in 0..<width { destination[x] = rectified(source[x] + add[x]) }
                        case let (add?, false): for x in 0..<width { destination[x] = source[x] + add[x] }
                        case (nil, true): for x in 0..<width { destination[x] = rectified(source[x]) }
                        case (nil, false): destination.update(from: source, count: width)
                        }
                    }
                }
            }
        }
    }
}
