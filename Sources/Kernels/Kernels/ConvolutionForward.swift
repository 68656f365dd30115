extension ConvolutionKernel {
    /// Runs the convolution on the NCHW `input` of `shape` and writes the result
    /// to the first `outputShape(for: shape).count` elements of `output`, then
    /// in the same pass adds the bias, adds `residual` (same shape as the
    /// output) if given, and applies ReLU if `relu`.
    ///
    /// Per image: im2col into `scratch` (skipped for 1x1 stride-1 kernels), then
    /// one `sgemm` [O, K] x [K, P]. `output` and `scratch` grow when too small
    /// and are otherwise reused, so a caller can keep them across calls. No
    /// state is shared between calls: calls on different threads are safe.
    /// With a `team`, its members split the im2col rows by input channel and
    /// the product and output pass by output channel.
    /// - Returns: the output shape.
    /// - Throws: `KernelError` when `input` or `residual` is shorter than its shape
    ///   needs, or the shape does not fit the kernel.
    @discardableResult
    public func apply(_ input: [Float], shape: FeatureShape, residual: [Float]? = nil, relu: Bool = false,
                      output: inout [Float], scratch: inout [Float], team: ThreadTeam = .alone) throws -> FeatureShape {
        let op = "convolution"
        let out = try outputShape(for: shape)
        try prepareConvolutionBuffers(input: input, shape: shape, residual: residual, outputShape: out,
                                      output: &output, scratch: &scratch, scratchCount: try scratchCount(for: shape))

        let k = reductionLength, p = out.planeCount
        let pointwise = geometry.isPointwise
        let bk = try blasSize(k, operation: op), bp = try blasSize(p, operation: op)
        // Checked once here: each member's block of output channels below is no larger.
        _ = try blasSize(outChannels, operation: op)
        let blas = try MatrixProduct.current()
        withOptionalBuffer(residual) { residualBase in
            input.withUnsafeBufferPointer { inputBuffer in
                weights.withUnsafeBufferPointer { weightBuffer in
                    output.withUnsafeMutableBufferPointer { outputBuffer in
                        scratch.withUnsafeMutableBufferPointer { scratchBuffer in
                            // All sizes were checked above; the buffers hold at least what is addressed.
                            guard let source = inputBuffer.baseAddress, let w = weightBuffer.baseAddress,
                                  let destination = outputBuffer.baseAddress else { return }
                            for n in 0..<shape.batch {
                                let image = source + n * shape.imageCount
                                let columnMatrix: UnsafePointer<Float>
                                if pointwise {
                                    columnMatrix = image
                                } else {
                                    guard let col = scratchBuffer.baseAddress else { return }
                                    team.run { member in
                                        geometry.im2col(image, channels: team.share(of: inChannels, member: member),
                                                        shape: shape, output: out, into: col)
                                    }
                                    columnMatrix = UnsafePointer(col)
                                }
                                // Each member: its block of output channels, product then output pass.
                                team.run { member in
                                    let rows = team.share(of: outChannels, member: member)
                                    guard !rows.isEmpty else { return }
                                    let result = destination + n * out.imageCount + rows.lowerBound * p
                                    blas.sgemm(m: Int32(rows.count), n: bp, k: bk, a: w + rows.lowerBound * k, lda: bk,
                                               b: columnMatrix, ldb: bp, beta: 0, c: result, ldc: bp)
                                    applyEpilogue(result, channels: rows, plane: p,
                                                  residual: residualBase.map { $0 + n * out.imageCount + rows.lowerBound * p },
                                                  relu: relu)
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// The output pass over `channels` consecutive planes starting at `row`:
    /// bias, then the residual (same layout), then ReLU.
    private func applyEpilogue(_ row: UnsafeMutablePointer<Float>, channels: Range<Int>, plane: Int,
                               residual: UnsafePointer<Float>?, relu: Bool) {
        for (index, c) in channels.enumerated() {
            let values = row + index * plane
            let value = bias[c]
            if let residual {
                let r = residual + index * plane
                if relu {
                    for i in 0..<plane { values[i] = rectified(values[i] + value + r[i]) }
                } else {
                    for i in 0..<plane { values[i] = values[i] + value + r[i] }
                }
            } else if relu {
                for i in 0..<plane { values[i] = rectified(values[i] + value) }
            } else {
                for i in 0..<plane { values[i] += value }
            }
        }
    }
}

extension ConvolutionGeometry {
    /// Writes the rows of `channels` of one image's im2col matrix
    /// `[I*kh*kw, OH*OW]` to `col`: row (c*kh + ky)*kw + kx holds, for every
    /// output position, the input value the kernel tap (ky, kx) of channel c
    /// meets there, or 0 in the padding.
    func im2col(_ image: UnsafePointer<Float>, channels: Range<Int>, shape: FeatureShape, output: FeatureShape,
                        into col: UnsafeMutablePointer<Float>) {
        let h = shape.height, w = shape.width
        let oh = output.height, ow = output.width, p = output.planeCount
        var row = col + channels.lowerBound * kernelHeight * kernelWidth * p
        for c in channels {
            let plane = image + c * h * w
            for ky in 0..<kernelHeight {
                for kx in 0..<kernelWidth {
                    // Output columns whose input column ox*sx - px + kx lies inside [0, w).
                    let shift = kx - paddingX
                    let first = shift >= 0 ? 0 : min(ow, (-shift + strideX - 1) / strideX)
                    let lastInput = w - 1 - shift
                    let end = lastInput < 0 ? 0 : min(ow, lastInput / strideX + 1)
                    let validEnd = max(first, end)
                    for oy in 0..<oh {
                        let destination = row + oy * ow
                        let iy = oy * strideY - paddingY + ky
                        if iy < 0 || iy >= h {
                            destination.update(repeating: 0, count: ow)
                            continue
                        }
                        let source = plane + iy * w + shift
                        if first > 0 { destination.update(repeating: 0, count: first) }
                        if strideX == 1 {
                            if validEnd > first {
                                (destination + first).update(from: source + first, count: validEnd - first)
                            }
                        } else {
                            var ox = first
                            while ox < validEnd {
                                destination[ox] = source[ox * strideX]
                                ox += 1
                            }
                        }
                        if validEnd < ow { (destination + validEnd).update(repeating: 0, count: ow - validEnd) }
                    }
                    row += p
                }
            }
        }
    }
}
