import CVectorKernels

/// A convolution as im2col and one matrix product per image, run by the
/// AVX-512 unit: the weights are packed into panels once, at load
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

    /// Output channels (O).
    public var outChannels: Int { geometry.outChannels }
    /// Input channels (I).
    public var inChannels: Int { geometry.inChannels }

    /// The packed form of `kernel` (batch norm already folded in).
    /// - Throws: `KernelError.vectorUnitUnavailable` without AVX-512F;
    ///   `.sizeOverflow` for sizes beyond 32 bits.
    public init(_ kernel: ConvolutionKernel) throws {
        guard VectorUnit.avx512.isAvailable else { throw KernelError.vectorUnitUnavailable(unit: "avx512") }
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

    /// Scratch elements `apply` needs for `input` (the im2col matrix of one image).
    /// - Throws: as `outputShape(for:)`.
    public func scratchCount(for input: FeatureShape) throws -> Int { try geometry.scratchCount(for: input) }

    /// The im2col rows of `channels` in the columns of output `positions`
    /// (oy * width + ox), from one image, into `col` (`columns` wide, column 0
    /// = the first of `positions`); `sizes` are `apply`'s 32-bit geometry.
    private func im2col(_ image: UnsafePointer<Float>, channels: Range<Int>, positions: Range<Int>, sizes: [Int32],
                        scratch count: Int, into col: UnsafeMutablePointer<Float>, columns: Int32) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: count) { row in
            crnn_im2col_avx512(image, sizes[0], sizes[1], Int32(channels.lowerBound), Int32(channels.upperBound),
                               sizes[2], sizes[3], sizes[4], sizes[5], sizes[6], sizes[7], sizes[8], sizes[9],
                               Int32(positions.lowerBound), Int32(positions.upperBound), col, columns, row.baseAddress)
        }
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
                                      output: &output, scratch: &scratch, scratchCount: try scratchCount(for: shape))
        let g = geometry
        let k = g.reductionLength, p = out.planeCount
        let bK = try blasSize(k, operation: op), bP = try blasSize(p, operation: op)
        let sizes = try [shape.height, shape.width, g.kernelHeight, g.kernelWidth, g.strideY, g.strideX, g.paddingY,
                         g.paddingX, out.height, out.width].map { try blasSize($0, operation: op) }
        let rowScratch = crnn_im2col_scratch_count(sizes[1], sizes[3], sizes[5], sizes[7], sizes[9])
        let panelRows = Int(CRNN_PANEL_ROWS)
        let panels = (g.outChannels + panelRows - 1) / panelRows
        withOptionalBuffer(residual) { residualBase in
            input.withUnsafeBufferPointer { inputBuffer in
                packedWeights.withUnsafeBufferPointer { weightBuffer in
                    bias.withUnsafeBufferPointer { biasBuffer in
                        output.withUnsafeMutableBufferPointer { outputBuffer in
                            scratch.withUnsafeMutableBufferPointer { scratchBuffer in
                                guard let source = inputBuffer.baseAddress, let weights = weightBuffer.baseAddress,
                                      let biases = biasBuffer.baseAddress, let destination = outputBuffer.baseAddress
                                else { return }
                                for n in 0..<shape.batch {
                                    let image = source + n * shape.imageCount
                                    let result = destination + n * out.imageCount
                                    let shortcut = residualBase.map { $0 + n * out.imageCount }
                                    if team.size == 1 || WinogradConvolution.splitsByTiles(p, members: team.size) {
                                        // Each member: im2col and product of its own output positions, all
                                        // channels, its im2col columns in its own part of the scratch
                                        // (a matrix `count` wide), so no cache line is written by two members.
                                        team.run { member in
                                            let positions = team.share(of: p, member: member)
                                            guard !positions.isEmpty else { return }
                                            let first = positions.lowerBound, count = positions.count
                                            var columns = image + first, stride = bP
                                            if !g.isPointwise, let scratch = scratchBuffer.baseAddress {
                                                let own = scratch + k * first
                                                im2col(image, channels: 0..<g.inChannels, positions: positions,
                                                       sizes: sizes, scratch: rowScratch, into: own, columns: Int32(count))
                                                (columns, stride) = (UnsafePointer(own), Int32(count))
                                            }
                                            crnn_packed_product_epilogue_avx512(
                                                Int32(g.outChannels), Int32(count), bK, weights, columns, stride,
                                                result + first, bP, biases, shortcut.map { $0 + first }, relu ? 1 : 0)
                                        }
                                        continue
                                    }
                                    // Few output positions: the members split the im2col rows by input
                                    // channel, then (once all are done) the product by panels of output channels.
                                    var columnMatrix = image
                                    if !g.isPointwise, let col = scratchBuffer.baseAddress {
                                        team.run { member in
                                            let channels = team.share(of: g.inChannels, member: member)
                                            guard !channels.isEmpty else { return }
                                            im2col(image, channels: channels, positions: 0..<p, sizes: sizes,
                                                   scratch: rowScratch, into: col, columns: bP)
                                        }
                                        columnMatrix = UnsafePointer(col)
                                    }
                                    team.run { member in
                                        let share = team.share(of: panels, member: member)
                                        let first = share.lowerBound * panelRows
                                        let rows = min(g.outChannels, share.upperBound * panelRows) - first
                                        guard rows > 0 else { return }
                                        crnn_packed_product_epilogue_avx512(
                                            Int32(rows), bP, bK, weights + first * k, columnMatrix, bP,
                                            result + first * p, bP, biases + first, shortcut.map { $0 + first * p },
                                            relu ? 1 : 0)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }
}
