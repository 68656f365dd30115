/// A 2-D convolution ready to run: PyTorch's `Conv2d` weights `[O, I, kh, kw]`
/// (stored as the matrix `[O, I*kh*kw]`), a bias per output channel (zeros when
/// the layer has none) and its geometry. Batch norm folds into it at load time
/// (`foldingBatchNorm`), so the forward pass is one product plus one output pass.
public struct ConvolutionKernel: Sendable {
    /// Output channels (O).
    public let outChannels: Int
    /// Input channels (I).
    public let inChannels: Int
    /// Kernel rows.
    public let kernelHeight: Int
    /// Kernel columns.
    public let kernelWidth: Int
    /// Vertical stride.
    public let strideY: Int
    /// Horizontal stride.
    public let strideX: Int
    /// Zero rows added above and below.
    public let paddingY: Int
    /// Zero columns added left and right.
    public let paddingX: Int
    /// The weights, `[O, I*kh*kw]` row-major (PyTorch's layout flattened).
    public let weights: [Float]
    /// One bias per output channel.
    public let bias: [Float]

    /// A convolution with `weights` in PyTorch's `[O, I, kh, kw]` order and an
    /// optional `bias` of `O` values.
    /// - Throws: `KernelError.invalidParameter` for a non-positive size or
    ///   negative padding, `KernelError.parameterCount` when the arrays do not
    ///   match the sizes.
    public init(
        outChannels: Int, inChannels: Int, kernelHeight: Int, kernelWidth: Int,
        strideY: Int = 1, strideX: Int = 1, paddingY: Int = 0, paddingX: Int = 0,
        weights: [Float], bias: [Float]? = nil
    ) throws {
        let op = "convolution"
        for (name, value) in [("out channels", outChannels), ("in channels", inChannels),
                              ("kernel height", kernelHeight), ("kernel width", kernelWidth),
                              ("stride y", strideY), ("stride x", strideX)] where value < 1 {
            throw KernelError.invalidParameter(operation: op, name: name, value: value)
        }
        for (name, value) in [("padding y", paddingY), ("padding x", paddingX)] where value < 0 {
            throw KernelError.invalidParameter(operation: op, name: name, value: value)
        }
        let expected = try checkedProduct(outChannels, inChannels, kernelHeight, kernelWidth, operation: op)
        guard weights.count == expected else {
            throw KernelError.parameterCount(operation: op, name: "weights", expected: expected, found: weights.count)
        }
        if let bias, bias.count != outChannels {
            throw KernelError.parameterCount(operation: op, name: "bias", expected: outChannels, found: bias.count)
        }
        self.outChannels = outChannels
        self.inChannels = inChannels
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.strideY = strideY
        self.strideX = strideX
        self.paddingY = paddingY
        self.paddingX = paddingX
        self.weights = weights
        self.bias = bias ?? [Float](repeating: 0, count: outChannels)
    }

    /// A square kernel with equal strides and paddings on both axes.
    /// - Throws: as the full initializer.
    public init(outChannels: Int, inChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                weights: [Float], bias: [Float]? = nil) throws {
        try self.init(outChannels: outChannels, inChannels: inChannels, kernelHeight: kernel, kernelWidth: kernel,
                      strideY: stride, strideX: stride, paddingY: padding, paddingX: padding,
                      weights: weights, bias: bias)
    }

    /// The channels, kernel size, strides and padding, without the values.
    var geometry: ConvolutionGeometry {
        ConvolutionGeometry(outChannels: outChannels, inChannels: inChannels, kernelHeight: kernelHeight,
                            kernelWidth: kernelWidth, strideY: strideY, strideX: strideX, paddingY: paddingY,
                            paddingX: paddingX)
    }

    /// Inputs per output value: I * kh * kw (the product's K).
    public var reductionLength: Int { geometry.reductionLength }

    /// This convolution followed by an eval-mode `BatchNorm2d`, as one
    /// convolution: w' = w * g, b' = beta + (b - mean) * g with
    /// g = gamma / sqrt(variance + epsilon), per output channel.
    /// - Throws: `KernelError.parameterCount` when a statistic does not have
    ///   one value per output channel.
    public func foldingBatchNorm(gamma: [Float], beta: [Float], mean: [Float], variance: [Float],
                                 epsilon: Float = 1e-5) throws -> ConvolutionKernel {
        for (name, values) in [("gamma", gamma), ("beta", beta), ("mean", mean), ("variance", variance)]
        where values.count != outChannels {
            throw KernelError.parameterCount(operation: "batch norm", name: name, expected: outChannels, found: values.count)
        }
        let k = reductionLength
        var folded = weights
        var foldedBias = bias
        for o in 0..<outChannels {
            let scale = gamma[o] / (variance[o] + epsilon).squareRoot()
            for i in (o * k)..<((o + 1) * k) { folded[i] *= scale }
            foldedBias[o] = beta[o] + (bias[o] - mean[o]) * scale
        }
        return try ConvolutionKernel(
            outChannels: outChannels, inChannels: inChannels, kernelHeight: kernelHeight, kernelWidth: kernelWidth,
            strideY: strideY, strideX: strideX, paddingY: paddingY, paddingX: paddingX,
            weights: folded, bias: foldedBias)
    }

    /// The output shape for `input`, PyTorch's floor((n + 2p - k) / s) + 1 per axis.
    /// - Throws: `KernelError.channelMismatch` or `KernelError.emptyOutput`.
    public func outputShape(for input: FeatureShape) throws -> FeatureShape { try geometry.outputShape(for: input) }

    /// Scratch elements `apply` needs for `input` (the im2col matrix of one image).
    /// - Throws: as `outputShape(for:)`.
    public func scratchCount(for input: FeatureShape) throws -> Int { try geometry.scratchCount(for: input) }
}

/// A convolution's shape without its values: channels, kernel size, strides
/// and padding, and what follows from them (output shape, im2col layout).
struct ConvolutionGeometry: Sendable, Equatable {
    let outChannels: Int, inChannels: Int
    let kernelHeight: Int, kernelWidth: Int
    let strideY: Int, strideX: Int
    let paddingY: Int, paddingX: Int

    /// Inputs per output value: I * kh * kw (the product's K).
    var reductionLength: Int { inChannels * kernelHeight * kernelWidth }

    /// True when the input itself is the im2col matrix (1x1, stride 1, no padding).
    var isPointwise: Bool {
        kernelHeight == 1 && kernelWidth == 1 && strideY == 1 && strideX == 1 && paddingY == 0 && paddingX == 0
    }

    /// The output shape for `input`, PyTorch's floor((n + 2p - k) / s) + 1 per axis.
    /// - Throws: `KernelError.channelMismatch` or `KernelError.emptyOutput`.
    func outputShape(for input: FeatureShape) throws -> FeatureShape {
        guard input.channels == inChannels else {
            throw KernelError.channelMismatch(operation: "convolution", expected: inChannels, found: input.channels)
        }
        guard let h = slidingOutputLength(input: input.height, kernel: kernelHeight, stride: strideY, padding: paddingY),
              let w = slidingOutputLength(input: input.width, kernel: kernelWidth, stride: strideX, padding: paddingX)
        else { throw KernelError.emptyOutput(operation: "convolution", height: input.height, width: input.width) }
        return try FeatureShape(batch: input.batch, channels: outChannels, height: h, width: w)
    }

    /// Scratch elements an im2col form needs for `input` (the im2col matrix of one image).
    /// - Throws: as `outputShape(for:)`.
    func scratchCount(for input: FeatureShape) throws -> Int {
        let out = try outputShape(for: input)
        return isPointwise ? 0 : try checkedProduct(reductionLength, out.planeCount, operation: "convolution")
    }
}
