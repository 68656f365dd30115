/// A convolution in the fastest form this module has for its geometry and
/// the vector unit: Winograd for 3x3 stride-1 padding-1 kernels (F(4x4,
/// 3x3) or F(2x2, 3x3), as `WinogradConvolution.outputTile` chooses),
/// otherwise im2col and one matrix product (with pre-packed weights on the
/// vector units). Every form takes the same inputs and gives the same
/// outputs (to float rounding).
public enum Convolution: Sendable {
    /// im2col + one OpenBLAS product per image (the portable unit).
    case im2col(ConvolutionKernel)
    /// im2col + one product per image with pre-packed weights (a vector unit).
    case packed(PackedConvolution)
    /// Winograd F(2x2, 3x3) on any unit, or F(4x4, 3x3) on a vector unit.
    case winograd(WinogradConvolution)

    /// The best form of `kernel` (batch norm already folded in) on `unit`.
    /// - Throws: `KernelError.vectorUnitUnavailable` when this CPU cannot run `unit`.
    public init(_ kernel: ConvolutionKernel, unit: VectorUnit = .preferred) throws {
        guard WinogradConvolution.supports(kernel) else {
            self = try Self.im2colForm(of: kernel, unit: unit)
            return
        }
        let tile = WinogradConvolution.outputTile(inChannels: kernel.inChannels, outChannels: kernel.outChannels, unit: unit)
        self = .winograd(try WinogradConvolution(kernel, unit: unit, outputTile: tile))
    }

    /// The im2col form of `kernel` on `unit`, whatever its geometry.
    /// - Throws: `KernelError.vectorUnitUnavailable` when this CPU cannot run `unit`.
    public static func im2colForm(of kernel: ConvolutionKernel, unit: VectorUnit = .preferred) throws -> Convolution {
        switch unit {
        case .portable: .im2col(kernel)
        case .avx512, .avx2: .packed(try PackedConvolution(kernel, unit: unit))
        }
    }

    /// Bytes of weights this form holds, bias included: OpenBLAS's row-major
    /// matrix, packed panels, or the 16 or 36 transformed matrices. One
    /// `apply` at batch one reads them all once (im2col once per image,
    /// Winograd once per call whatever the batch).
    package var storedWeightBytes: Int {
        let floats = switch self {
        case .im2col(let kernel): kernel.weights.count + kernel.bias.count
        case .packed(let kernel): kernel.packedWeights.count + kernel.bias.count
        case .winograd(let kernel): kernel.transformedWeights.count + kernel.bias.count
        }
        return floats * MemoryLayout<Float>.stride
    }

    /// Runs only the matrix products that `apply` runs on one thread for
    /// `shape`, over whatever `scratch` holds (call `apply` on the same shape
    /// first): Winograd's 16 or 36 products of every tile without the
    /// transforms, im2col's product (with bias and ReLU) of the first image
    /// without im2col.
    /// `crnn-bench --kernels` sets them against the FMA peak.
    /// - Returns: false for the portable unit's form (its product is OpenBLAS's; nothing runs).
    /// - Throws: `KernelError` for a buffer shorter than its shape needs, as `apply` does.
    package func runProductsAlone(_ input: [Float], shape: FeatureShape, output: inout [Float],
                                  scratch: inout [Float]) throws -> Bool {
        switch self {
        case .im2col: return false
        case .packed(let kernel): try kernel.runProductAlone(input, shape: shape, output: &output, scratch: &scratch)
        case .winograd(let kernel):
            guard kernel.unit != .portable else { return false }
            try kernel.runProductsAlone(for: shape, scratch: &scratch)
        }
        return true
    }

    /// "im2col" or "winograd", for reports.
    public var algorithm: String {
        switch self {
        case .im2col, .packed: "im2col"
        case .winograd: "winograd"
        }
    }

    /// The unit that runs this form.
    public var unit: VectorUnit {
        switch self {
        case .im2col: .portable
        case .packed(let kernel): kernel.unit
        case .winograd(let kernel): kernel.unit
        }
    }

    /// The output shape for `input`.
    /// - Throws: `KernelError.channelMismatch` or `KernelError.emptyOutput`.
    public func outputShape(for input: FeatureShape) throws -> FeatureShape {
        switch self {
        case .im2col(let kernel): try kernel.outputShape(for: input)
        case .packed(let kernel): try kernel.outputShape(for: input)
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
        case .packed(let kernel):
            try kernel.apply(input, shape: shape, residual: residual, relu: relu, output: &output, scratch: &scratch,
                             team: team)
        case .winograd(let kernel):
            try kernel.apply(input, shape: shape, residual: residual, relu: relu, output: &output, scratch: &scratch,
                             team: team)
        }
    }
}

/// What every convolution does before touching memory: checks that the
/// input and the residual (if any) hold at least what their shapes need,
/// then grows `output` to the output shape and `scratch` to `scratchCount`.
/// - Throws: `KernelError.inputTooShort` naming the short buffer.
func prepareConvolutionBuffers(input: [Float], shape: FeatureShape, residual: [Float]?, outputShape: FeatureShape,
                               output: inout [Float], scratch: inout [Float], scratchCount: Int) throws {
    guard input.count >= shape.count else {
        throw KernelError.inputTooShort(operation: "convolution", name: "input", expected: shape.count,
                                        found: input.count)
    }
    if let residual, residual.count < outputShape.count {
        throw KernelError.inputTooShort(operation: "convolution", name: "residual", expected: outputShape.count,
                                        found: residual.count)
    }
    growForOverwrite(&output, outputShape.count)
    growForOverwrite(&scratch, scratchCount)
}

/// PyTorch's ReLU: negative values become 0, NaN stays NaN (`max(0, x)`
/// would turn NaN into 0).
@inline(__always)
func rectified(_ x: Float) -> Float { x < 0 ? 0 : x }

/// A member's run of columns (tiles, output positions) cut into equal
/// blocks of at most `limit`, in order: each block goes through a layer's
/// whole pipeline before the next, so its intermediate matrices stay in the
/// core's cache and the scratch holds one block per member.
struct ColumnBlocks: Sequence {
    let run: Range<Int>
    let limit: Int

    /// Whether `members` should split a layer by columns (tiles, output
    /// positions), each taking its own run through the whole layer: alone,
    /// or when each gets at least a vector's worth (16). Otherwise they split
    /// by channels, which costs a wait and reading what the other member
    /// wrote, but keeps the products wide. `apply` and `scratchCount` both
    /// ask this (Winograd through `splitsByTiles`, which also weighs the
    /// weights against the tiles), so the scratch always fits the split taken.
    static func splitsByColumns(total: Int, members: Int) -> Bool { members == 1 || total / members >= 16 }

    /// Columns of scratch one member needs when `total` columns are split
    /// between `members`: its share, or `limit` when the share is larger.
    static func capacity(total: Int, members: Int, limit: Int) -> Int {
        Swift.min((total + members - 1) / members, limit)
    }

    /// The blocks in order.
    struct Iterator: IteratorProtocol {
        var start: Int
        let end: Int, width: Int

        mutating func next() -> Range<Int>? {
            guard start < end else { return nil }
            let block = start..<Swift.min(end, start + width)
            start = block.upperBound
            return block
        }
    }

    func makeIterator() -> Iterator {
        let blocks = Swift.max(1, (run.count + limit - 1) / limit)
        return Iterator(start: run.lowerBound, end: run.upperBound, width: Swift.max(1, (run.count + blocks - 1) / blocks))
    }
}
