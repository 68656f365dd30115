/// A convolution in the fastest form this module has for its geometry:
/// Winograd F(2x2, 3x3) for 3x3 stride-1 padding-1 kernels, otherwise im2col
/// and one matrix product. Both take the same inputs and give the same
/// outputs (to float rounding).
public enum Convolution: Sendable {
    /// im2col + one product per image.
    case im2col(ConvolutionKernel)
    /// Winograd F(2x2, 3x3).
    case winograd(WinogradConvolution)

    /// The best form of `kernel` (batch norm already folded in).
    public init(_ kernel: ConvolutionKernel) throws {
        self = WinogradConvolution.supports(kernel) ? .winograd(try WinogradConvolution(kernel)) : .im2col(kernel)
    }

    /// "im2col" or "winograd", for reports.
    public var algorithm: String {
        switch self {
        case .im2col: "im2col"
        case .winograd: "winograd"
        }
    }

    /// The output shape for `input`.
    /// - Throws: `KernelError.channelMismatch` or `KernelError.emptyOutput`.
    public func outputShape(for input: FeatureShape) throws -> FeatureShape {
        switch self {
        case .im2col(let kernel): try kernel.outputShape(for: input)
        case .winograd(let kernel): try kernel.outputShape(for: input)
        }
    }

    /// Runs the convolution with bias, optional residual and ReLU fused into
    /// the output pass (see `ConvolutionKernel.apply`), split between the
    /// members of `team`.
    /// - Returns: the output shape.
    /// - Throws: `KernelError` for buffers shorter than their shapes.
    @discardableResult
    public func apply(_ input: [Float], shape: FeatureShape, residual: [Float]? = nil, relu: Bool = false,
                      output: inout [Float], scratch: inout [Float], team: ThreadTeam = .alone) throws -> FeatureShape {
        switch self {
        case .im2col(let kernel):
            try kernel.apply(input, shape: shape, residual: residual, relu: relu, output: &output, scratch: &scratch,
                             team: team)
        case .winograd(let kernel):
            try kernel.apply(input, shape: shape, residual: residual, relu: relu, output: &output, scratch: &scratch,
                             team: team)
        }
    }
}

/// The checks every convolution makes before touching memory: the input and
/// the residual (if any) hold at least what their shapes need.
/// - Throws: `KernelError.inputTooShort` naming the short buffer.
func checkConvolutionBuffers(input: [Float], shape: FeatureShape, residual: [Float]?, output: FeatureShape) throws {
    guard input.count >= shape.count else {
        throw KernelError.inputTooShort(operation: "convolution", name: "input", expected: shape.count,
                                        found: input.count)
    }
    if let residual, residual.count < output.count {
        throw KernelError.inputTooShort(operation: "convolution", name: "residual", expected: output.count,
                                        found: residual.count)
    }
}

/// PyTorch's ReLU: negative values become 0, NaN stays NaN (`max(0, x)`
/// would turn NaN into 0).
@inline(__always)
func rectified(_ x: Float) -> Float { x < 0 ? 0 : x }
