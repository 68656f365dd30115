import CVectorKernels

/// The vector units' Winograd: how a team's members share a convolution.
extension WinogradConvolution {
    /// The unit's input and output transforms for this form's tiles.
    private func transforms(_ kernels: crnn_vector_kernels) -> (
        input: @convention(c) (UnsafePointer<Float>?, Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int32,
                               UnsafeMutablePointer<Float>?, Int32, Int) -> Void,
        output: @convention(c) (UnsafePointer<Float>?, Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int,
                                UnsafePointer<Float>?, UnsafePointer<Float>?, Int32, UnsafeMutablePointer<Float>?) -> Void
    ) {
        outputTile == 4 ? (kernels.winograd4_input, kernels.winograd4_output) : (kernels.winograd_input, kernels.winograd_output)
    }

    /// A vector unit, enough tiles: each member takes its own run of tiles
    /// through the whole pipeline, all channels, a block of tiles at a time
    /// in its own part of the scratch (so no cache line is written by two
    /// members, and what a member wrote it reads from its own cache).
    func runByTiles(_ call: Call, kernels: crnn_vector_kernels, team: ThreadTeam) {
        let total = call.tiles.total
        let inputStride = call.layout.inputStride, productStride = call.layout.productStride
        let region = matrices * (inputStride + productStride)
        let (input, output) = transforms(kernels)
        let o = Int32(outChannels), i = Int32(inChannels)
        team.run { member in
            let share = team.share(of: total, member: member)
            guard !share.isEmpty else { return }
            let ownInput = call.scratch + member * region, ownProducts = ownInput + matrices * inputStride
            for block in ColumnBlocks(run: share, limit: Self.tileBlock) {
                let count = block.count, width = Int32(count)
                let first = Int32(block.lowerBound), end = Int32(block.upperBound)
                input(call.input, call.batch, i, call.height, call.width, 0, i, first, end, ownInput, width, inputStride)
                products(of: count, kernels: kernels, weights: call.weights, input: ownInput, products: ownProducts,
                         layout: call.layout)
                output(ownProducts, call.batch, o, call.height, call.width, 0, o, first, end, width, productStride,
                       call.bias, call.residual, call.relu ? 1 : 0, call.output)
            }
        }
    }

    /// The 16 (or 36) products of one block of `width` tiles: the
    /// transformed input matrices at `input` by the transformed weights at
    /// `weights`, into the product matrices at `products` (matrices
    /// `layout`'s strides apart, rows `width` floats long).
    private func products(of width: Int, kernels: crnn_vector_kernels, weights: UnsafePointer<Float>,
                          input: UnsafeMutablePointer<Float>, products: UnsafeMutablePointer<Float>, layout: ScratchLayout) {
        let w = Int32(width), o = Int32(outChannels), i = Int32(inChannels)
        for xi in 0..<matrices {
            kernels.packed_product(o, w, i, weights + xi * matrixCount, input + xi * layout.inputStride, w,
                                   products + xi * layout.productStride, w)
        }
    }

    /// The products that `apply` runs on one thread for `shape`, alone:
    /// every block of tiles through the 16 (or 36) products, without the
    /// transforms, over whatever `scratch` holds (after an `apply` on the
    /// same shape: its last block's transformed input). `crnn-bench
    /// --kernels` times them against the FMA peak.
    /// - Throws: `KernelError.vectorUnitUnavailable` on the portable unit
    ///   (its products are OpenBLAS's), `.sizeOverflow` for sizes beyond 32 bits.
    package func runProductsAlone(for shape: FeatureShape, scratch: inout [Float]) throws {
        guard let kernels = unit.vectorKernels else { throw KernelError.vectorUnitUnavailable(unit: unit.rawValue) }
        let tiles = try tiling(shape)
        for size in [outChannels, inChannels, tiles.total] { _ = try blasSize(size, operation: "convolution") }
        let layout = try scratchLayout(tiles: tiles.total, members: 1)
        growForOverwrite(&scratch, layout.count)
        transformedWeights.withUnsafeBufferPointer { weightBuffer in
            scratch.withUnsafeMutableBufferPointer { scratchBuffer in
                guard let weights = weightBuffer.baseAddress, let work = scratchBuffer.baseAddress else { return }
                for block in ColumnBlocks(run: 0..<tiles.total, limit: Self.tileBlock) {
                    products(of: block.count, kernels: kernels, weights: weights, input: work,
                             products: work + matrices * layout.inputStride, layout: layout)
                }
            }
        }
    }

    /// A vector unit, too few tiles to split (a product a few columns wide
    /// runs far below its rate) or weights large against the input (see
    /// `splitsByTiles`): each member transforms the whole input into
    /// its own part of the scratch (a small transform, done twice, instead of
    /// a wait and reading what the other core wrote), then runs the 16 (or 36)
    /// products and the output pass of its panels of output channels.
    func runByChannels(_ call: Call, kernels: crnn_vector_kernels, team: ThreadTeam) {
        let total = call.tiles.total, n = Int32(total)
        let inputStride = call.layout.inputStride, productStride = call.layout.productStride
        let products = call.scratch, transformedInputs = call.scratch + matrices * productStride
        let (input, output) = transforms(kernels)
        let o = Int32(outChannels), i = Int32(inChannels)
        let panelRows = Int(CRNN_PANEL_ROWS)
        let panels = (outChannels + panelRows - 1) / panelRows
        team.run { member in
            let share = team.share(of: panels, member: member)
            let first = share.lowerBound * panelRows, end = min(outChannels, share.upperBound * panelRows)
            guard end > first else { return }
            let transformedInput = transformedInputs + member * matrices * inputStride
            input(call.input, call.batch, i, call.height, call.width, 0, i, 0, n, transformedInput, n, inputStride)
            for xi in 0..<matrices {
                kernels.packed_product(Int32(end - first), n, i, call.weights + xi * matrixCount + first * inChannels,
                                       transformedInput + xi * inputStride, n,
                                       products + xi * productStride + first * total, n)
            }
            output(products, call.batch, o, call.height, call.width, Int32(first), Int32(end), 0, n, n, productStride,
                   call.bias, call.residual, call.relu ? 1 : 0, call.output)
        }
    }
}
