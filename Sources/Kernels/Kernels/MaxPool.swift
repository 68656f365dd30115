import CVectorKernels

/// 2-D max pooling with PyTorch's `MaxPool2d` semantics (no dilation, floor
/// mode): the padding counts as -infinity, so it never wins, and a NaN in a
/// window wins as it does in PyTorch.
public struct MaxPoolKernel: Sendable, Equatable {
    /// Window side.
    public let kernel: Int
    /// Step between windows.
    public let stride: Int
    /// Implicit -infinity border on each side.
    public let padding: Int
    /// The unit that runs it.
    public let unit: VectorUnit

    /// A pooling window, run by `unit`.
    /// - Throws: `KernelError.invalidParameter` for a non-positive kernel or stride
    ///   or negative padding, `KernelError.poolingPaddingTooLarge` when padding
    ///   exceeds kernel / 2, `.vectorUnitUnavailable` when this CPU cannot run `unit`.
    public init(kernel: Int, stride: Int, padding: Int, unit: VectorUnit = .preferred) throws {
        for (name, value) in [("kernel", kernel), ("stride", stride)] where value < 1 {
            throw KernelError.invalidParameter(operation: "max pool", name: name, value: value)
        }
        guard padding >= 0 else {
            throw KernelError.invalidParameter(operation: "max pool", name: "padding", value: padding)
        }
        guard padding <= kernel / 2 else { throw KernelError.poolingPaddingTooLarge(kernel: kernel, padding: padding) }
        try unit.checkAvailable()
        self.unit = unit
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
    }

    /// The output shape: floor((n + 2p - k) / s) + 1 per axis, channels unchanged.
    /// - Throws: `KernelError.emptyOutput` when the window never fits.
    public func outputShape(for input: FeatureShape) throws -> FeatureShape {
        guard let h = slidingOutputLength(input: input.height, kernel: kernel, stride: stride, padding: padding),
              let w = slidingOutputLength(input: input.width, kernel: kernel, stride: stride, padding: padding)
        else { throw KernelError.emptyOutput(operation: "max pool", height: input.height, width: input.width) }
        return try FeatureShape(batch: input.batch, channels: input.channels, height: h, width: w)
    }

    /// Pools `input` of `shape` into the first `outputShape(for:).count`
    /// elements of `output` (grown when too small).
    /// - Returns: the output shape.
    /// - Throws: `KernelError` when `input` is shorter than `shape` or the window never fits.
    @discardableResult
    public func apply(_ input: [Float], shape: FeatureShape, output: inout [Float],
                      team: ThreadTeam = .alone) throws -> FeatureShape {
        let out = try outputShape(for: shape)
        guard input.count >= shape.count else {
            throw KernelError.inputTooShort(operation: "max pool", name: "input", expected: shape.count, found: input.count)
        }
        growForOverwrite(&output, out.count)
        if let kernels = unit.vectorKernels {
            try applyVector(input, shape: shape, out: out, output: &output, kernels: kernels, team: team)
            return out
        }
        let h = shape.height, w = shape.width
        // Separable: the largest value of each column over the window's rows,
        // then the largest of those over the window's columns.
        input.withUnsafeBufferPointer { inputBuffer in
            output.withUnsafeMutableBufferPointer { outputBuffer in
                guard let source = inputBuffer.baseAddress, let destination = outputBuffer.baseAddress else { return }
                team.run { member in
                    let columns = UnsafeMutablePointer<Float>.allocate(capacity: w)
                    defer { columns.deallocate() }
                    for plane in team.share(of: shape.batch * shape.channels, member: member) {
                        let src = source + plane * h * w
                        let dst = destination + plane * out.planeCount
                        for oy in 0..<out.height {
                            // padding <= kernel/2 guarantees every window meets at least one real row and column
                            let y0 = max(0, oy * stride - padding), y1 = min(h, oy * stride - padding + kernel)
                            columns.update(from: src + y0 * w, count: w)
                            for y in (y0 + 1)..<max(y0 + 1, y1) {
                                let row = src + y * w
                                // Plain maxima (vectorised); NaNs are then put back where PyTorch keeps them.
                                var sawNaN = false
                                for x in 0..<w {
                                    let value = row[x]
                                    sawNaN = sawNaN || value != value
                                    columns[x] = value > columns[x] ? value : columns[x]
                                }
                                if sawNaN {
                                    for x in 0..<w where row[x].isNaN { columns[x] = row[x] }
                                }
                            }
                            let outRow = dst + oy * out.width
                            // Sizes were checked by outputShape: no index arithmetic can overflow here.
                            for ox in 0..<out.width {
                                let start = ox &* stride &- padding
                                let x0 = max(0, start), x1 = min(w, start &+ kernel)
                                var best = columns[x0]
                                var x = x0 &+ 1
                                while x < x1 {
                                    best = larger(best, columns[x])
                                    x &+= 1
                                }
                                outRow[ox] = best
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// A vector unit's pass: each member pools its own output rows of every plane.
    private func applyVector(_ input: [Float], shape: FeatureShape, out: FeatureShape, output: inout [Float],
                             kernels: crnn_vector_kernels, team: ThreadTeam) throws {
        let op = "max pool"
        func size(_ value: Int) throws -> Int32 { try blasSize(value, operation: op) }
        let planes = try size(try checkedProduct(shape.batch, shape.channels, operation: op))
        let (height, width, outHeight, outWidth) = (try size(shape.height), try size(shape.width),
                                                    try size(out.height), try size(out.width))
        let (window, step, border) = (try size(kernel), try size(stride), try size(padding))
        let scratch = crnn_max_pool_scratch_count(width, window, step, border, outWidth)
        input.withUnsafeBufferPointer { inputBuffer in
            output.withUnsafeMutableBufferPointer { outputBuffer in
                guard let source = inputBuffer.baseAddress, let destination = outputBuffer.baseAddress else { return }
                team.run { member in
                    let rows = team.share(of: out.height, member: member)
                    guard !rows.isEmpty else { return }
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: scratch) { row in
                        kernels.max_pool(source, planes, height, width, window, step, border, outHeight, outWidth,
                                         Int32(rows.lowerBound), Int32(rows.upperBound), destination, row.baseAddress)
                    }
                }
            }
        }
    }

    /// PyTorch's comparison: the later value wins when larger or NaN.
    @inline(__always)
    private func larger(_ current: Float, _ value: Float) -> Float {
        value > current || value != value ? value : current
    }
}
