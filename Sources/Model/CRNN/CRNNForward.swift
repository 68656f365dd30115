import Kernels

extension CRNNModel {
    /// Runs the trunk and cn6 on `input` (`shape` = [N, 3, H, W]) and returns
    /// the features `[N * T, c3 * rows]` (row n * T + t; feature c * rows + r,
    /// as PyTorch's permute(0, 3, 1, 2) then reshape lays them out) and T.
    /// The layers are split between the members of `team`.
    func trunkFeatures(_ input: [Float], shape inputShape: FeatureShape,
                       team: ThreadTeam = .alone) throws -> (features: [Float], steps: Int) {
        // Per-call buffers, reused layer after layer (they only grow).
        var current = [Float](), first = [Float](), shortcut = [Float](), next = [Float](), scratch = [Float]()
        var shape = try stem.apply(input, shape: inputShape, relu: true, output: &first, scratch: &scratch, team: team)
        shape = try pool.apply(first, shape: shape, output: &current, team: team)
        for block in blocks {
            let middle = try block.conv1.apply(current, shape: shape, relu: true, output: &first, scratch: &scratch,
                                               team: team)
            let residual: [Float]
            if let downsample = block.downsample {
                try downsample.apply(current, shape: shape, output: &shortcut, scratch: &scratch, team: team)
                residual = shortcut
            } else {
                residual = current
            }
            shape = try block.conv2.apply(first, shape: middle, residual: residual, relu: true,
                                          output: &next, scratch: &scratch, team: team)
            swap(&current, &next)
        }
        shape = try cn6.apply(current, shape: shape, relu: true, output: &next, scratch: &scratch, team: team)
        guard shape.height == configuration.featureRows else {
            throw CRNNError.inputHeight(height: inputShape.height, accepted: configuration.acceptedHeights)
        }

        let rows = shape.height, steps = shape.width, channels = shape.channels
        let featureCount = channels * rows
        // Row by row of the result, so that the writes run along memory: written
        // column by column they lay featureCount floats apart (4 KB for the
        // reference model), all in one set of the L1 cache, and this took about
        // 65 µs per image instead of 25 (Xeon model 207, measured in the forward pass).
        let features = [Float](unsafeUninitializedCapacity: shape.count) { destination, initialized in
            next.withUnsafeBufferPointer { source in
                for n in 0..<shape.batch {
                    for t in 0..<steps {
                        let row = n * steps * featureCount + t * featureCount
                        for c in 0..<channels {
                            for r in 0..<rows {
                                destination[row + c * rows + r] = source[((n * channels + c) * rows + r) * steps + t]
                            }
                        }
                    }
                }
            }
            initialized = shape.count
        }
        return (features, steps)
    }

    /// linear1 -> gru1 (halves summed) -> gru2 (halves concatenated) -> linear2
    /// on `[sequenceLength, sequences, features]`, PyTorch's non-batch-first
    /// layout; returns `[sequenceLength * sequences, vocabulary]`. The members
    /// of `team` split linear1's outputs (which also keeps them awake for the
    /// GRUs), and each GRU's two directions run on two members at once.
    func head(_ features: [Float], sequenceLength: Int, sequences: Int, team: ThreadTeam = .alone) throws -> [Float] {
        let rows = sequenceLength * sequences
        let hidden = configuration.hiddenSize
        var projected = [Float]()
        try linear1.apply(features, rows: rows, output: &projected, team: team)

        let (forward1, backward1) = try bothDirections(gru1, projected, steps: sequenceLength, batch: sequences, team: team)
        var summed = forward1
        for i in 0..<(rows * hidden) { summed[i] += backward1[i] }

        let (forward2, backward2) = try bothDirections(gru2, summed, steps: sequenceLength, batch: sequences, team: team)
        var concatenated = [Float](repeating: 0, count: rows * 2 * hidden)
        for row in 0..<rows {
            concatenated[(row * 2 * hidden)..<(row * 2 * hidden + hidden)] = forward2[(row * hidden)..<((row + 1) * hidden)]
            concatenated[(row * 2 * hidden + hidden)..<((row + 1) * 2 * hidden)] =
                backward2[(row * hidden)..<((row + 1) * hidden)]
        }

        var scores = [Float]()
        try linear2.apply(concatenated, rows: rows, output: &scores)
        return Array(scores.prefix(rows * configuration.vocabularySize))
    }

    /// The outputs `[rows, hidden]` of the layer's forward and backward
    /// directions over `input`, side by side on a team of two or more.
    private func bothDirections(_ layer: BidirectionalKernel, _ input: [Float], steps: Int, batch: Int,
                                team: ThreadTeam) throws -> (forward: [Float], backward: [Float]) {
        let hidden = configuration.hiddenSize
        var results: [Result<[Float], Error>] = Array(repeating: .success([]), count: 2)
        results.withUnsafeMutableBufferPointer { buffer in
            let slots = buffer
            func run(_ direction: Int) {
                slots[direction] = Result {
                    var output = [Float]()
                    try (direction == 0 ? layer.forward : layer.backward).run(
                        input, steps: steps, batch: batch, reverse: direction == 1,
                        output: &output, outputStride: hidden, outputOffset: 0)
                    return output
                }
            }
            if team.size >= 2 {
                team.run { member in if member < 2 { run(member) } }
            } else {
                run(0)
                run(1)
            }
        }
        return (try results[0].get(), try results[1].get())
    }
}
