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
                for xi in 0..<matrices {
                    kernels.packed_product(o, width, i, call.weights + xi * matrixCount, ownInput + xi * inputStride,
                                           width, ownProducts + xi * productStride, width)
                }
                output(ownProducts, call.batch, o, call.height, call.width, 0, o, first, end, width, productStride,
                       call.bias, call.residual, call.relu ? 1 : 0, call.output)
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
