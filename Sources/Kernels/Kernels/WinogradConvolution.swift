import SystemShim
import CVectorKernels
import Dispatch

/// A 3x3, stride-1, padding-1 convolution computed with Winograd's minimal
/// filtering F(2x2, 3x3) (Lavin & Gray, "Fast Algorithms for Convolutional
/// Neural Networks", 2015): each 2x2 block of outputs comes from a 4x4 input
/// tile with 16 multiplications per channel pair instead of 36, so the
/// matrix products shrink 2.25-fold. On the vector units it can also run
/// F(4x4, 3x3): 4x4 blocks from 6x6 tiles, 36 multiplications instead of
/// 144 (4-fold), with larger rounding (`outputTile`).
///
/// Per call: the input tiles are transformed (V = Bᵀ d B), then 16 (or 36)
/// products `M[ξ] = U[ξ] · V[ξ]` run over all images' tiles at once (`U[ξ]`
/// is `[O, I]`, the weights transformed once at load: U = G g Gᵀ), then each
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
    /// The side of the output block each tile gives: 2 for F(2x2, 3x3), 4 for F(4x4, 3x3).
    public let outputTile: Int
    /// The side of the input tiles (outputTile + 2).
    var tileSide: Int { outputTile + 2 }
    /// The transformed matrices (and products): 16 for F(2x2), 36 for F(4x4).
    var matrices: Int { tileSide * tileSide }
    /// The transformed weights: `matrices` matrices `[O, I]`, ξ = tileSide *
    /// row + column of the tile, `matrixCount` floats apart; row-major for
    /// `.portable`, packed in panels (`crnn_pack_rows`) for the vector units.
    let transformedWeights: [Float]
    /// Floats from one transformed matrix to the next.
    let matrixCount: Int
    /// One bias per output channel.
    let bias: [Float]

    /// Whether `kernel` has the geometry this algorithm computes: 3x3, stride 1, padding 1.
    public static func supports(_ kernel: ConvolutionKernel) -> Bool {
        kernel.kernelHeight == kernel.kernelWidth && kernel.strideY == kernel.strideX && kernel.paddingY == kernel.paddingX
            && supports(kernel: kernel.kernelHeight, stride: kernel.strideY, padding: kernel.paddingY)
    }

    /// Whether a square convolution of this size, stride and padding runs as
    /// Winograd (F(2x2, 3x3) or F(4x4, 3x3)): 3x3, stride 1, padding 1.
    public static func supports(kernel: Int, stride: Int, padding: Int) -> Bool {
        kernel == 3 && stride == 1 && padding == 1
    }

    /// The floating-point operations this form performs for `batch` images
    /// with an `outHeight` x `outWidth` output: (outputTile + 2)² products of
    /// [outChannels x inChannels] by [inChannels x tiles], one tile per
    /// outputTile x outputTile block of the output (F(2x2): about 16/36 of
    /// the direct count, F(4x4) about 36/144 where the tiles fill; transforms
    /// not counted).
    public static func operations(inChannels: Int, outChannels: Int, outHeight: Int, outWidth: Int, batch: Int = 1,
                                  outputTile: Int = 2) -> Int {
        let side = outputTile + 2
        return 2 * side * side * inChannels * outChannels * ((outHeight + outputTile - 1) / outputTile)
            * ((outWidth + outputTile - 1) / outputTile) * batch
    }

    /// The output tile the model's convolutions use on `unit`: F(4x4, 3x3)
    /// on the vector units where both channel counts are at most 64 (the
    /// model's layer 1, 13 x 50 with 64 channels: 170 instead of 232 µs per
    /// convolution on one thread of the Xeon, `bench/winograd_f4.c`, and
    /// 1.3 MB more weights for its four convolutions); F(2x2, 3x3) elsewhere
    /// and on the portable unit (for 128 channels F(4x4)'s transformed
    /// weights would add 4 MB, breaking the memory target, and from 256 its
    /// few tiles made it slower).
    public static func outputTile(inChannels: Int, outChannels: Int, unit: VectorUnit) -> Int {
        unit != .portable && inChannels <= 64 && outChannels <= 64 ? 4 : 2
    }

    /// The Winograd form of `kernel` (batch norm already folded in), run by
    /// `unit`, with output blocks of `outputTile` (2, or 4 on a vector unit).
    /// - Throws: `KernelError.invalidParameter` when `kernel` is not 3x3,
    ///   stride 1, padding 1, or `outputTile` is neither 2 nor (on a vector
    ///   unit) 4; `KernelError.vectorUnitUnavailable` when this CPU cannot
    ///   run `unit`; `.sizeOverflow` for sizes beyond 32 bits.
    public init(_ kernel: ConvolutionKernel, unit: VectorUnit = .preferred, outputTile: Int = 2) throws {
        guard outputTile == 2 || (outputTile == 4 && unit != .portable) else {
            throw KernelError.invalidParameter(
                operation: "winograd convolution", name: "output tile (2, or 4 on the AVX-512 and AVX2 units)",
                value: outputTile)
        }
        guard Self.supports(kernel) else {
            throw KernelError.invalidParameter(
                operation: "winograd convolution", name: "kernel size (3x3, stride 1, padding 1 only)",
                value: kernel.kernelHeight * 100 + kernel.strideY * 10 + kernel.paddingY)
        }
        try unit.checkAvailable()
        let outChannels = kernel.outChannels, inChannels = kernel.inChannels
        _ = try blasSize(outChannels, operation: "convolution")
        _ = try blasSize(inChannels, operation: "convolution")
        self.outChannels = outChannels
        self.inChannels = inChannels
        self.unit = unit
        self.outputTile = outputTile
        let matrices = (outputTile + 2) * (outputTile + 2)
        bias = kernel.bias
        let packed = unit != .portable
        let panelRows = Int(CRNN_PANEL_ROWS)
        let matrixCount = packed ? crnn_packed_count(Int32(outChannels), Int32(inChannels)) : outChannels * inChannels
        self.matrixCount = matrixCount
        let panels = (outChannels + panelRows - 1) / panelRows
        // Every element is written below (`matrices` per channel pair, padding rows
        // zeroed), so no zero fill; panels of CRNN_PANEL_ROWS output channels are split between the cores.
        transformedWeights = kernel.weights.withUnsafeBufferPointer { weights in
            [Float](unsafeUninitializedCapacity: matrices * matrixCount) { u, initialized in
                let chunks = min(onlineProcessorCount(), max(1, outChannels * inChannels / 4096))
                // Each chunk reads and writes its own panels only.
                nonisolated(unsafe) let source = weights.baseAddress!, destination = u.baseAddress!
                DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                    // One panel at a time through a small buffer (`matrices` matrices of
                    // `[CRNN_PANEL_ROWS, I]`), so that each matrix is written in long runs.
                    let block = panelRows * inChannels
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: matrices * block) { buffer in
                        let staging = buffer.baseAddress!
                        for panel in (panels * chunk / chunks)..<(panels * (chunk + 1) / chunks) {
                            let firstRow = panel * panelRows, rows = min(panelRows, outChannels - firstRow)
                            for pair in 0..<(rows * inChannels) {
                                Self.transform(source + (firstRow * inChannels + pair) * 9, into: staging + pair,
                                               stride: block, outputTile: outputTile)
                            }
                            for xi in 0..<matrices {
                                let matrix = staging + xi * block
                                if packed {
                                    // Panel layout: for each input channel, the panel's rows (zeros past O).
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
                initialized = matrices * matrixCount
            }
        }
    }

    /// F(4x4, 3x3)'s G (6x3), for the interpolation points 0, 1, -1, 2, -2 and infinity.
    private static let g4: [[Double]] = [[1.0 / 4, 0, 0], [-1.0 / 6, -1.0 / 6, -1.0 / 6], [-1.0 / 6, 1.0 / 6, -1.0 / 6],
                                         [1.0 / 24, 1.0 / 12, 1.0 / 6], [1.0 / 24, -1.0 / 12, 1.0 / 6], [0, 0, 1]]

    /// U = G g Gᵀ for one 3x3 kernel `g` (row-major), computed in Double; the
    /// (outputTile + 2)² values go to `u[ξ * stride]`, ξ = (outputTile + 2) * row + column.
    private static func transform(_ g: UnsafePointer<Float>, into u: UnsafeMutablePointer<Float>, stride: Int,
                                  outputTile: Int) {
        guard outputTile == 2 else {
            // G g (6x3), then (G g) Gᵀ (6x6).
            var gg = [[Double]](repeating: [0, 0, 0], count: 6)
            for r in 0..<6 {
                for j in 0..<3 { gg[r][j] = (0..<3).reduce(0) { $0 + g4[r][$1] * Double(g[3 * $1 + j]) } }
            }
            for r in 0..<6 {
                for c in 0..<6 { u[(6 * r + c) * stride] = Float((0..<3).reduce(0) { $0 + gg[r][$1] * g4[c][$1] }) }
            }
            return
        }
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
    func tiling(_ shape: FeatureShape) throws -> (rows: Int, columns: Int, total: Int) {
        let rows = (shape.height + outputTile - 1) / outputTile, columns = (shape.width + outputTile - 1) / outputTile
        return (rows, columns, try checkedProduct(shape.batch, rows, columns, operation: "convolution"))
    }

    /// Tiles a member puts through the pipeline at once when it splits by
    /// tiles: few enough that its transformed input and products stay in its
    /// core's cache, and that the scratch stays small.
    static let tileBlock = 96

    /// Whether a team of `members` splits a call of `tiles` tiles by tiles
    /// (each member every output channel of its own tiles) rather than by
    /// output channels (each member every tile of its own channels). Split
    /// by tiles, each member streams all of the transformed weights from L3;
    /// by channels, half of them, but each transforms the whole input. So
    /// tiles need enough of them per member (`ColumnBlocks.splitsByColumns`)
    /// and no more output channels than twice the tiles (the weights against
    /// the transformed input). Measured in the forward pass on a team of two
    /// (Xeon model 207, AVX-512, median of 1000-1500 images, each
    /// configuration in turn image by image): layer 2 (128 channels, 52
    /// tiles) 224-227 -> 205-209 us per convolution by channels, the pass
    /// 3538 -> 3492 us (this rule alone); layer 1 (64 channels, 52 tiles,
    /// F(4x4)) 159-179 -> 171-214 us by channels (slower); AVX2 level either
    /// way.
    func splitsByTiles(_ tiles: Int, members: Int) -> Bool {
        members == 1 || (ColumnBlocks.splitsByColumns(total: tiles, members: members) && outChannels < 2 * tiles)
    }

    /// Scratch elements `apply` needs for `input` when run by a team of
    /// `members` (at least 1; fewer count as 1): the `matrices` transformed input
    /// matrices and as many products, of all tiles (portable unit), of all
    /// tiles with a transformed input per member (split by channels), or of
    /// one block of tiles per member; the vector units space the matrices
    /// as `scratchLayout(tiles:members:)` says.
    /// - Throws: `KernelError.sizeOverflow` when the count exceeds `Int`.
    public func scratchCount(for input: FeatureShape, members: Int = 1) throws -> Int {
        try scratchLayout(tiles: try tiling(input).total, members: members).count
    }

    /// How the vector units lay out the scratch: floats from one of the 16
    /// (or 36) transformed input matrices to the next, the same for the products,
    /// and the scratch floats in all (the portable unit's matrices lie
    /// back to back: strides 0).
    struct ScratchLayout {
        let inputStride: Int
        let productStride: Int
        let count: Int
    }

    /// The scratch layout for `tiles` tiles and a team of `members`: split by
    /// channels, a transformed input per member and the products shared;
    /// split by tiles, each member's region holds the matrices of a block of
    /// up to `tileBlock` tiles.
    /// - Throws: `KernelError.sizeOverflow` beyond `Int`.
    func scratchLayout(tiles: Int, members requested: Int) throws -> ScratchLayout {
        let op = "convolution", members = max(1, requested)
        guard unit != .portable else {
            return ScratchLayout(inputStride: 0, productStride: 0,
                                 count: try checkedProduct(matrices, inChannels + outChannels, tiles, operation: op))
        }
        let splitsByTiles = splitsByTiles(tiles, members: members)
        let columns = splitsByTiles ? ColumnBlocks.capacity(total: tiles, members: members, limit: Self.tileBlock) : tiles
        let input = try Self.matrixStride(rows: inChannels, tileStride: columns)
        let products = try Self.matrixStride(rows: outChannels, tileStride: columns)
        let count = splitsByTiles
            ? try checkedProduct(members, matrices, try checkedSum(input, products, operation: op), operation: op)
            : try checkedProduct(matrices, try checkedSum(checkedProduct(members, input, operation: op), products, operation: op),
                                 operation: op)
        return ScratchLayout(inputStride: input, productStride: products, count: count)
    }

    /// Floats from one of the 16 (or 36) matrices of `rows` rows of `tileStride`
    /// floats to the next, as the vector units lay them out in the scratch:
    /// the smallest count of at least `rows * tileStride` that is 48 past a
    /// multiple of 1024, so that matrix k starts 3k cache lines (mod 64) into
    /// every 4 KB: a different line for each of up to 64 matrices (3 lines
    /// apart for the first 22). Matrices a multiple of 4 KB apart (64 channels by
    /// 96 tiles is 24 KB) made the transforms' 16 streams of stores meet in
    /// the same sets of the L1 cache: the layer-1 input transform took 69 µs
    /// instead of 40 (Xeon, AVX-512, one thread).
    /// - Throws: `KernelError.sizeOverflow` beyond `Int`.
    static func matrixStride(rows: Int, tileStride: Int) throws -> Int {
        let op = "convolution"
        let (page, offset) = (1024, 48)
        let beyond = max(0, try checkedProduct(rows, tileStride, operation: op) - offset)
        let pages = beyond / page + (beyond % page == 0 ? 0 : 1)
        return try checkedSum(checkedProduct(pages, page, operation: op), offset, operation: op)
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
        let tiles = try tiling(shape)
        let layout = try scratchLayout(tiles: tiles.total, members: team.size)
        try prepareConvolutionBuffers(input: input, shape: shape, residual: residual, outputShape: out,
                                      output: &output, scratch: &scratch, scratchCount: layout.count)
        // Every size the C kernels and OpenBLAS take, checked once: 32 bits each.
        for size in [outChannels, inChannels, tiles.total, shape.batch, shape.height, shape.width] {
            _ = try blasSize(size, operation: op)
        }
        let kernels = unit.vectorKernels
        let blas = kernels == nil ? try MatrixProduct.current() : nil
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
                                                residual: residualBase, relu: relu, scratch: work, layout: layout,
                                                output: destination)
                                if let kernels {
                                    if splitsByTiles(tiles.total, members: team.size) {
                                        runByTiles(call, kernels: kernels, team: team)
                                    } else {
                                        runByChannels(call, kernels: kernels, team: team)
                                    }
                                } else if let blas {
                                    runPortable(call, blas: blas, team: team)
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// One call's buffers and sizes, for the run methods (WinogradVector.swift,
    /// WinogradPortable.swift; sizes checked to fit 32 bits).
    struct Call {
        let input: UnsafePointer<Float>
        let shape: FeatureShape
        let tiles: (rows: Int, columns: Int, total: Int)
        let weights: UnsafePointer<Float>
        let bias: UnsafePointer<Float>
        let residual: UnsafePointer<Float>?
        let relu: Bool
        let scratch: UnsafeMutablePointer<Float>
        /// Where the matrices lie in `scratch`.
        let layout: ScratchLayout
        let output: UnsafeMutablePointer<Float>
        var batch: Int32 { Int32(shape.batch) }
        var height: Int32 { Int32(shape.height) }
        var width: Int32 { Int32(shape.width) }
    }
}
