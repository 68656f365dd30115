import Kernels
import TensorCore

/// The CRNN ready to run: every batch norm folded into its convolution, every
/// layer a kernel. Immutable, so one model serves many threads at once; each
/// call allocates its own buffers.
///
/// `logits(for:)` is the faithful default: each image is its own PyTorch
/// batch of one. `logitsTorchBatch(_:)` reproduces PyTorch's forward over a
/// batch, where the non-batch-first GRUs run along the batch axis.
public final class CRNNModel: Sendable {
    /// The hyperparameters read from the state_dict.
    public let configuration: CRNNConfiguration

    let stem: Convolution
    let pool: MaxPoolKernel
    let blocks: [FusedBlock]
    let cn6: Convolution
    let linear1: LinearKernel
    let gru1: BidirectionalKernel
    let gru2: BidirectionalKernel
    let linear2: LinearKernel

    /// Builds the model from a state_dict, strictly (see `CRNNLayers.init(stateDict:)`).
    /// - Throws: `CRNNError.stateDictMismatch` listing every problem at once.
    public convenience init(stateDict: StateDict) throws {
        try self.init(layers: CRNNLayers(stateDict: stateDict))
    }

    /// Builds the model from loaded layers, folding each batch norm (eps 1e-5)
    /// into the convolution before it.
    /// - Throws: `CRNNError.kernel` if a layer's arrays do not fit its sizes
    ///   (cannot happen for layers that `CRNNLayers` loaded).
    public init(layers: CRNNLayers) throws {
        do {
            configuration = layers.configuration
            stem = try Convolution(fold(layers.trunk.stem, layers.trunk.stemNorm))
            pool = try MaxPoolKernel(kernel: 3, stride: 2, padding: 1)
            blocks = try layers.trunk.blocks.map { block in
                FusedBlock(
                    conv1: try Convolution(fold(block.conv1, block.bn1)),
                    conv2: try Convolution(fold(block.conv2, block.bn2)),
                    downsample: try block.downsample.map { try Convolution(fold($0.conv, $0.norm)) })
            }
            cn6 = try Convolution(fold(layers.cn6.conv, layers.cn6.norm))
            linear1 = try LinearKernel(inFeatures: layers.linear1.inFeatures, outFeatures: layers.linear1.outFeatures,
                                       weights: layers.linear1.weight, bias: layers.linear1.bias)
            gru1 = try BidirectionalKernel(layers.gru1)
            gru2 = try BidirectionalKernel(layers.gru2)
            linear2 = try LinearKernel(inFeatures: layers.linear2.inFeatures, outFeatures: layers.linear2.outFeatures,
                                       weights: layers.linear2.weight, bias: layers.linear2.bias)
        } catch let error as KernelError {
            throw CRNNError.kernel(error)
        }
    }

    /// The logits of one image, evaluated as PyTorch evaluates a batch of one
    /// (the notebook's way): every GRU sees sequences of length 1 from h0 = 0,
    /// so its `W_hh` products are skipped (they are exactly zero). With a
    /// `team`, its members share every layer of the trunk (set
    /// `BLASThreads.setCount(1)` then: the team already uses the cores).
    /// - Throws: `CRNNError.inputHeight` when the height does not give
    ///   `featureRows` rows; `CRNNError.kernel` on an internal size error.
    public func logits(for image: CRNNInput, team: ThreadTeam = .alone) throws -> Logits {
        try checkHeight(image.height)
        return try wrappingKernelErrors {
            let shape = try FeatureShape(batch: 1, channels: 3, height: image.height, width: image.width)
            let (features, steps) = try trunkFeatures(image.planes, shape: shape, team: team)
            let scores = try head(features, sequenceLength: 1, sequences: steps)
            return try Logits(timeSteps: steps, classes: configuration.vocabularySize, values: scores)
        }
    }

    /// The logits of each of several equal-size images, each evaluated as its
    /// own batch of one exactly as `logits(for:)` does, but with the trunk run
    /// over all of them at once: every layer's weights are read once for all
    /// the images, which is faster per image than one at a time.
    /// - Returns: one `Logits` per image, in order (empty for no images).
    /// - Throws: `CRNNError.batchSizesDiffer` when sizes differ,
    ///   `CRNNError.inputHeight` for an unsupported height.
    public func logits(for images: [CRNNInput], team: ThreadTeam = .alone) throws -> [Logits] {
        guard let first = try checkEqualSizes(images) else { return [] }
        return try wrappingKernelErrors {
            let shape = try FeatureShape(batch: images.count, channels: 3, height: first.height, width: first.width)
            let (features, steps) = try trunkFeatures(stacked(images, count: shape.count), shape: shape, team: team)
            // Batch-of-one semantics: every column of every image is its own length-1 sequence.
            let scores = try head(features, sequenceLength: 1, sequences: images.count * steps)
            return try split(scores, images: images.count, steps: steps)
        }
    }

    /// PyTorch's forward over ONE batch of equal-size images: the GRUs, not
    /// batch-first, read the batch axis as time (time = image index, the T
    /// columns are independent sequences), so each image's logits depend on
    /// the others. Use only to reproduce such a batch exactly.
    /// - Returns: one `Logits` per image, in order (empty for no images).
    /// - Throws: `CRNNError.batchSizesDiffer` when sizes differ,
    ///   `CRNNError.inputHeight` for an unsupported height.
    public func logitsTorchBatch(_ images: [CRNNInput]) throws -> [Logits] {
        guard let first = try checkEqualSizes(images) else { return [] }
        return try wrappingKernelErrors {
            let shape = try FeatureShape(batch: images.count, channels: 3, height: first.height, width: first.width)
            let (features, steps) = try trunkFeatures(stacked(images, count: shape.count), shape: shape)
            let scores = try head(features, sequenceLength: images.count, sequences: steps)
            return try split(scores, images: images.count, steps: steps)
        }
    }

    /// The first image when all have its size and an accepted height; nil for none.
    private func checkEqualSizes(_ images: [CRNNInput]) throws -> CRNNInput? {
        guard let first = images.first else { return nil }
        for (index, image) in images.enumerated() where image.height != first.height || image.width != first.width {
            throw CRNNError.batchSizesDiffer(index: index, height: image.height, width: image.width,
                                             expectedHeight: first.height, expectedWidth: first.width)
        }
        try checkHeight(first.height)
        return first
    }

    /// The images' planes one after another: the NCHW batch.
    private func stacked(_ images: [CRNNInput], count: Int) -> [Float] {
        var planes = [Float]()
        planes.reserveCapacity(count)
        for image in images { planes.append(contentsOf: image.planes) }
        return planes
    }

    /// Scores `[images * steps, classes]` as one `Logits` per image.
    private func split(_ scores: [Float], images: Int, steps: Int) throws -> [Logits] {
        let classes = configuration.vocabularySize
        let perImage = steps * classes
        return try (0..<images).map { index in
            try Logits(timeSteps: steps, classes: classes,
                       values: Array(scores[(index * perImage)..<((index + 1) * perImage)]))
        }
    }

    private func checkHeight(_ height: Int) throws {
        let accepted = configuration.acceptedHeights
        guard accepted.contains(height) else { throw CRNNError.inputHeight(height: height, accepted: accepted) }
    }

    private func wrappingKernelErrors<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as KernelError { throw CRNNError.kernel(error) }
    }
}

/// A BasicBlock with its batch norms folded in.
struct FusedBlock: Sendable {
    let conv1: Convolution
    let conv2: Convolution
    let downsample: Convolution?
}

/// Both directions of a bidirectional GRU layer.
struct BidirectionalKernel: Sendable {
    let forward: GRUDirectionKernel
    let backward: GRUDirectionKernel

    init(_ layer: BidirectionalGRU) throws {
        func kernel(_ d: BidirectionalGRU.Direction) throws -> GRUDirectionKernel {
            try GRUDirectionKernel(inputSize: layer.inputSize, hiddenSize: layer.hiddenSize, weightIH: d.weightIH,
                                   weightHH: d.weightHH, biasIH: d.biasIH, biasHH: d.biasHH)
        }
        forward = try kernel(layer.forward)
        backward = try kernel(layer.backward)
    }
}

/// `conv` followed by the eval-mode `norm`, as one convolution.
func fold(_ conv: Conv2d, _ norm: BatchNorm2d) throws -> ConvolutionKernel {
    try ConvolutionKernel(outChannels: conv.outChannels, inChannels: conv.inChannels, kernel: conv.kernelSize,
                          stride: conv.stride, padding: conv.padding, weights: conv.weight, bias: conv.bias)
        .foldingBatchNorm(gamma: norm.weight, beta: norm.bias, mean: norm.runningMean, variance: norm.runningVar,
                          epsilon: BatchNorm2d.epsilon)
}
