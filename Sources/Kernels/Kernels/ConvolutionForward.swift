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
    /// - Returns: the output shape.
    /// - Throws: `KernelError` when `input` or `residual` is shorter than its shape
    ///   needs, or the shape does not fit the kernel.
    @discardableResult
    public func apply(_ input: [Float], shape: FeatureShape, residual: [Float]? = nil, relu: Bool = false,
                      output: inout [Float], scratch: inout [Float]) throws -> FeatureShape {
        let op = "convolution"
        let out = try outputShape(for: shape)
        guard input.count >= shape.count else {
            throw KernelError.inputTooShort(operation: op, name: "input", expected: shape.count, found: input.count)
        }
        if let residual, residual.count < out.count {
            throw KernelError.inputTooShort(operation: op, name: "residual", expected: out.count, found: residual.count)
        }
        ensureCapacity(&output, out.count)
        let columns = try scratchCount(for: shape)
        ensureCapacity(&scratch, columns)

        let m = outChannels, k = reductionLength, p = out.planeCount
        let pointwise = isPointwise
        let blas = try OpenBLAS.library()
        let bm = try blasSize(m, operation: op), bk = try blasSize(k, operation: op), bp = try blasSize(p, operation: op)
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
                                im2col(image, shape: shape, output: out, into: col)
                                columnMatrix = UnsafePointer(col)
                            }
                            blas.sgemm(m: bm, n: bp, k: bk, a: w, lda: bk, b: columnMatrix, ldb: bp,
                                       beta: 0, c: destination + n * out.imageCount, ldc: bp)
                        }
                    }
                }
            }
        }
        applyEpilogue(output: &output, shape: out, residual: residual, relu: relu)
        return out
    }

    /// The output pass: bias, then the residual, then ReLU, over every element.
    private func applyEpilogue(output: inout [Float], shape: FeatureShape, residual: [Float]?, relu: Bool) {
        let plane = shape.planeCount
        bias.withUnsafeBufferPointer { biasBuffer in
            output.withUnsafeMutableBufferPointer { outputBuffer in
                guard let out = outputBuffer.baseAddress, let b = biasBuffer.baseAddress else { return }
                func pass(_ res: UnsafePointer<Float>?) {
                    for n in 0..<shape.batch {
                        for c in 0..<shape.channels {
                            let offset = (n * shape.channels + c) * plane
                            let row = out + offset
                            let value = b[c]
                            if let res {
                                let r = res + offset
                                if relu {
                                    for i in 0..<plane { row[i] = max(0, row[i] + value + r[i]) }
                                } else {
                                    for i in 0..<plane { row[i] = row[i] + value + r[i] }
                                }
                            } else if relu {
                                for i in 0..<plane { row[i] = max(0, row[i] + value) }
                            } else {
                                for i in 0..<plane { row[i] += value }
                            }
                        }
                    }
                }
                if let residual {
                    residual.withUnsafeBufferPointer { pass($0.baseAddress) }
                } else {
                    pass(nil)
                }
            }
        }
    }

    /// Writes one image's im2col matrix `[I*kh*kw, OH*OW]` to `col`: row
    /// (c*kh + ky)*kw + kx holds, for every output position, the input value the
    /// kernel tap (ky, kx) of channel c meets there, or 0 in the padding.
    private func im2col(_ image: UnsafePointer<Float>, shape: FeatureShape, output: FeatureShape,
                        into col: UnsafeMutablePointer<Float>) {
        let h = shape.height, w = shape.width
        let oh = output.height, ow = output.width, p = output.planeCount
        var row = col
        for c in 0..<inChannels {
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
