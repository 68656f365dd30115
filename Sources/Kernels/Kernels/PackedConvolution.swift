import CVectorKernels

/// A convolution as im2col and one matrix product per image, run by a
/// vector unit (AVX-512 or AVX2): the weights are packed into panels once, at load
/// (`crnn_pack_rows`), so no product re-packs them, and the bias, residual
/// and ReLU are applied as the product stores its results. Same contract
/// and results (to float rounding) as `ConvolutionKernel.apply`.
public struct PackedConvolution: Sendable {
    /// Channels, kernel size, strides and padding.
    let geometry: ConvolutionGeometry
    /// The `[O, I*kh*kw]` weights in panels of `CRNN_PANEL_ROWS` rows.
    let packedWeights: [Float]
    /// One bias per output channel.
    let bias: [Float]
    /// The unit that runs it (`.avx512` or `.avx2`).
    public let unit: VectorUnit
    /// That unit's C kernels.
    let kernels: crnn_vector_kernels

    /// Output channels (O).
    public var outChannels: Int { geometry.outChannels }
    /// Input channels (I).
    public var inChannels: Int { geometry.inChannels }

    /// The packed form of `kernel` (batch norm already folded in), run by
    /// the vector unit `unit`.
    /// - Throws: `KernelError.vectorUnitUnavailable` when this CPU cannot run
    ///   `unit`, or for `.portable` (which has no packed products);
    ///   `.sizeOverflow` for sizes beyond 32 bits.
    public init(_ kernel: ConvolutionKernel, unit: VectorUnit) throws {
        try unit.checkAvailable()
        guard let kernels = unit.vectorKernels else { throw KernelError.vectorUnitUnavailable(unit: unit.rawValue) }
        self.unit = unit
        self.kernels = kernels
        geometry = kernel.geometry
        bias = kernel.bias
        let m = try blasSize(kernel.outChannels, operation: "convolution")
        let k = try blasSize(kernel.reductionLength, operation: "convolution")
        let count = crnn_packed_count(m, k)
        packedWeights = kernel.weights.withUnsafeBufferPointer { weights in
            [Float](unsafeUninitializedCapacity: count) { packed, initialized in
                crnn_pack_rows(weights.baseAddress, k, m, k, packed.baseAddress)
                initialized = count
            }
        }
    }

    /// The output shape for `input`.
    /// - Throws: `KernelError.channelMismatch` or `KernelError.emptyOutput`.
    public func outputShape(for input: FeatureShape) throws -> FeatureShape { try geometry.outputShape(for: input) }

    /// The product that `apply` runs on one thread for one image of `shape`
    /// (the first of `input`), alone: every block of positions through the
    /// packed product with the bias and ReLU, without im2col, each block
    /// reading the im2col columns `scratch` holds (after an `apply` on the
    /// same shape: its last block's; a 1x1 stride-1 kernel reads `input`
    /// itself, as `apply` does). `crnn-bench --kernels` times it against the
    /// FMA peak.
    /// - Throws: `KernelError` when a buffer is shorter than its shape needs,
    ///   as `apply` does.
    package func runProductAlone(_ input: [Float], shape: FeatureShape, output: inout [Float],
                                 scratch: inout [Float]) throws {
        let out = try outputShape(for: shape)
        try prepareConvolutionBuffers(input: input, shape: shape, residual: nil, outputShape: out, output: &output,
                                      scratch: &scratch, scratchCount: try scratchCount(for: shape, members: 1))
        let sizes = try Sizes(geometry: geometry, input: shape, output: out, operation: "convolution")
        let positions = out.planeCount
        withBuffers(input, &output, &scratch) { image, weights, biases, destination, work in
            for block in ColumnBlocks(run: 0..<positions, limit: Self.positionBlock) {
                let (columns, stride) = if let work, !geometry.isPointwise {
                    (UnsafePointer(work), Int32(block.count))
                } else {
                    (image + block.lowerBound, sizes.positions)
                }
                kernels.packed_product_epilogue(sizes.outChannels, Int32(block.count), sizes.reduction, weights, columns,
                                                stride, destination + block.lowerBound, sizes.positions, biases, nil, 1)
            }
        }
    }

    /// The base addresses of `input`, the packed weights, the biases,
    /// `output` and `scratch` (nil when it is empty), for `body`; `body`
    /// does not run when another of them is empty.
    private func withBuffers(_ input: [Float], _ output: inout [Float], _ scratch: inout [Float],
                             _ body: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>,
                                      UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>?) -> Void) {
        input.withUnsafeBufferPointer { inputBuffer in
            packedWeights.withUnsafeBufferPointer { weightBuffer in
                bias.withUnsafeBufferPointer { biasBuffer in
                    output.withUnsafeMutableBufferPointer { outputBuffer in
                        scratch.withUnsafeMutableBufferPointer { scratchBuffer in
                            guard let image = inputBuffer.baseAddress, let weights = weightBuffer.baseAddress,
                                  let biases = biasBuffer.baseAddress, let destination = outputBuffer.baseAddress
                            else { return }
                            body(image, weights, biases, destination, scratchBuffer.baseAddress)
                        }
                    }
                }
            }
        }
    }

    /// Output positions a member puts through im2col and the product at
    /// once when it splits by positions (the im2col block then stays in its
    /// core's cache, and the scratch small).
    static let positionBlock = 256

    /// Scratch elements `apply` needs for `input` when run by a team of
    /// `members` (at least 1; fewer count as 1): the im2col matrix of one
    /// image, all of it (split by channels) or one block of positions per member.
    /// - Throws: as `outputShape(for:)`, and `KernelError.sizeOverflow`.
    public func scratchCount(for input: FeatureShape, members requested: Int = 1) throws -> Int {
        let out = try outputShape(for: input), members = max(1, requested)
        guard !geometry.isPointwise else { return 0 }
        guard ColumnBlocks.splitsByColumns(total: out.planeCount, members: members) else {
            return try geometry.scratchCount(for: input)
        }
        let capacity = ColumnBlocks.capacity(total: out.planeCount, members: members, limit: Self.positionBlock)
        return try checkedProduct(geometry.reductionLength, members, capacity, operation: "convolution")
    }

    /// Runs the convolution on the NCHW `input` of `shape` into `output`, with
    /// the bias, `residual` (if given, the output's shape) and ReLU (if
    /// `relu`) applied as results are stored. With a `team`, its members split
    /// the output positions (when each gets 16 or more), or else the im2col
    /// rows by input channel and the product by panels of output channels.
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
        let g = geometry
        let sizes = try Sizes(geometry: g, input: shape, output: out, operation: op)
        withOptionalBuffer(residual) { residualBase in
            withBuffers(input, &output, &scratch) { source, weights, biases, destination, work in
                for n in 0..<shape.batch {
                    let call = Call(image: source + n * shape.imageCount, sizes: sizes, weights: weights, bias: biases,
                                    residual: residualBase.map { $0 + n * out.imageCount }, relu: relu,
                                    scratch: g.isPointwise ? nil : work, output: destination + n * out.imageCount)
                    if ColumnBlocks.splitsByColumns(total: out.planeCount, members: team.size) {
                        runByPositions(call, team: team)
                    } else {
                        runByChannels(call, team: team)
                    }
                }
            }
        }
        return out
    }

    /// Every size the C kernels take, as the 32-bit values they take (checked once).
    private struct Sizes {
        let height, width, kernelHeight, kernelWidth, strideY, strideX, paddingY, paddingX: Int32
        let outHeight, outWidth: Int32
        /// Inputs per output value (the product's K).
        let reduction: Int32
        /// Output positions per image.
        let positions: Int32
        let outChannels: Int32

        /// - Throws: `KernelError.sizeOverflow` when a size does not fit 32 bits.
        init(geometry g: ConvolutionGeometry, input: FeatureShape, output: FeatureShape, operation: String) throws {
            func size(_ value: Int) throws -> Int32 { try blasSize(value, operation: operation) }
            (height, width) = (try size(input.height), try size(input.width))
            (kernelHeight, kernelWidth) = (try size(g.kernelHeight), try size(g.kernelWidth))
            (strideY, strideX, paddingY, paddingX) = (try size(g.strideY), try size(g.strideX), try size(g.paddingY),
                                                      try size(g.paddingX))
            (outHeight, outWidth) = (try size(output.height), try size(output.width))
            (reduction, positions, outChannels) = (try size(g.reductionLength), try size(output.planeCount),
                                                   try size(g.outChannels))
        }
    }

    /// One image's buffers and sizes, for the run methods.
    private struct Call {
        let image: UnsafePointer<Float>
        let sizes: Sizes
        let weights: UnsafePointer<Float>
        let bias: UnsafePointer<Float>
        let residual: UnsafePointer<Float>?
        let relu: Bool
        /// nil for a pointwise kernel (the image is its own im2col matrix).
        let scratch: UnsafeMutablePointer<Float>?
        let output: UnsafeMutablePointer<Float>
        var reduction: Int { Int(sizes.reduction) }
        var positions: Int { Int(sizes.positions) }
    }

    /// The im2col rows of `channels` in the columns of output `positions`
    /// (oy * width + ox), from one image, into `col` (`columns` wide, column 0
    /// = the first of `positions`).
    private func im2col(_ call: Call, channels: Range<Int>, positions: Range<Int>, into col: UnsafeMutablePointer<Float>,
                        columns: Int32) {
        let s = call.sizes
        let count = crnn_im2col_scratch_count(s.width, s.kernelWidth, s.strideX, s.paddingX, s.outWidth)
        withUnsafeTemporaryAllocation(of: Float.self, capacity: count) { row in
            kernels.im2col(call.image, s.height, s.width, Int32(channels.lowerBound), Int32(channels.upperBound),
                           s.kernelHeight, s.kernelWidth, s.strideY, s.strideX, s.paddingY, s.paddingX, s.outHeight,
                           s.outWidth, Int32(positions.lowerBound), Int32(positions.upperBound), col, columns,
                           row.baseAddress)
        }
    }

    /// Each member: im2col and product of its own output positions, all
    /// channels, a block at a time in its own part of the scratch (so no
    /// cache line is written by two members).
    private func runByPositions(_ call: Call, team: ThreadTeam) {
        let total = call.positions, k = call.reduction, positions = call.sizes.positions
        let capacity = ColumnBlocks.capacity(total: total, members: team.size, limit: Self.positionBlock)
        team.run { member in
            for block in ColumnBlocks(run: team.share(of: total, member: member), limit: Self.positionBlock) {
                var columns = call.image + block.lowerBound, stride = positions
                if let scratch = call.scratch {
                    let own = scratch + member * k * capacity
                    im2col(call, channels: 0..<inChannels, positions: block, into: own, columns: Int32(block.count))
                    (columns, stride) = (UnsafePointer(own), Int32(block.count))
                }
                kernels.packed_product_epilogue(
                    call.sizes.outChannels, Int32(block.count), call.sizes.reduction, call.weights, columns, stride,
                    call.output + block.lowerBound, positions, call.bias, call.residual.map { $0 + block.lowerBound },
                    call.relu ? 1 : 0)
            }
        }
    }

    /// Few output positions: the members split the im2col rows by input
    /// channel, then (once all are done) the product by panels of output channels.
    private func runByChannels(_ call: Call, team: ThreadTeam) {
        let p = call.positions, k = call.reduction, positions = call.sizes.positions
        var columnMatrix = call.image
        if let col = call.scratch {
            team.run { member in
                let channels = team.share(of: inChannels, member: member)
                guard !channels.isEmpty else { return }
                im2col(call, channels: channels, positions: 0..<p, into: col, columns: positions)
            }
            columnMatrix = UnsafePointer(col)
        }
        let panelRows = Int(CRNN_PANEL_ROWS)
        let panels = (outChannels + panelRows - 1) / panelRows
        team.run { member in
            let share = team.share(of: panels, member: member)
            let first = share.lowerBound * panelRows, rows = min(outChannels, share.upperBound * panelRows) - first
            guard rows > 0 else { return }
            kernels.packed_product_epilogue(
                Int32(rows), positions, call.sizes.reduction, call.weights + first * k, columnMatrix, positions,
                call.output + first * p, positions, call.bias + first, call.residual.map { $0 + first * p },
                call.relu ? 1 : 0)
        }
    }
}
