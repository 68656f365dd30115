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
    /// The vector unit every layer runs on.
    public let unit: VectorUnit

    let stem: Convolution
    let pool: MaxPoolKernel
    let blocks: [FusedBlock]
    let cn6: Convolution
    let linear1: LinearKernel
    let gru1: BidirectionalKernel
    let gru2: BidirectionalKernel
    let linear2: LinearKernel

    /// Builds the model from a state_dict, strictly (the checks of
    /// `CRNNLayers.init(stateDict:)`), one layer's values at a time: each is
    /// copied, folded and transformed before the next is read, so the
    /// state_dict's values are never all copied at once. Every layer runs on
    /// `unit` (the fastest this CPU has unless told otherwise).
    /// - Throws: `CRNNError.stateDictMismatch` listing every problem at once;
    ///   `CRNNError.kernel` when this CPU cannot run `unit`.
    public convenience init(stateDict: StateDict, unit: VectorUnit = .preferred) throws {
        let configuration = try CRNNLayers.check(stateDict)
        var reader = WeightReader(stateDict)
        let architecture = CRNNLayers.architecture(of: configuration, reader: &reader)
        let (stemConv, stemNorm) = ResNetTrunk.readStem(architecture, reader: &reader)
        let stem = try CRNNError.wrappingKernelErrors { try Convolution(fold(stemConv, stemNorm), unit: unit) }
        var blocks: [FusedBlock] = []
        for plan in architecture.blocks {
            let block = BasicBlock(plan, reader: &reader)
            blocks.append(try CRNNError.wrappingKernelErrors { try FusedBlock(block, unit: unit) })
        }
        let (cn6, linear1, gru1, gru2, linear2) = CRNNLayers.readHead(configuration: configuration,
                                                                      architecture: architecture, reader: &reader)
        try reader.finish()
        try self.init(configuration: configuration, unit: unit, stem: stem, blocks: blocks, cn6: cn6,
                      linear1: linear1, gru1: gru1, gru2: gru2, linear2: linear2)
    }

    /// Builds the model from loaded layers, folding each batch norm (eps 1e-5)
    /// into the convolution before it; every layer runs on `unit`.
    /// - Throws: `CRNNError.kernel` if a layer's arrays do not fit its sizes
    ///   (cannot happen for layers that `CRNNLayers` loaded) or this CPU
    ///   cannot run `unit`.
    public convenience init(layers: CRNNLayers, unit: VectorUnit = .preferred) throws {
        let stem = try CRNNError.wrappingKernelErrors {
            try Convolution(fold(layers.trunk.stem, layers.trunk.stemNorm), unit: unit)
        }
        let blocks = try CRNNError.wrappingKernelErrors { try layers.trunk.blocks.map { try FusedBlock($0, unit: unit) } }
        try self.init(configuration: layers.configuration, unit: unit, stem: stem, blocks: blocks, cn6: layers.cn6,
                      linear1: layers.linear1, gru1: layers.gru1, gru2: layers.gru2, linear2: layers.linear2)
    }

    private init(configuration: CRNNConfiguration, unit: VectorUnit, stem: Convolution, blocks: [FusedBlock],
                 cn6: CN6Block, linear1: Linear, gru1: BidirectionalGRU, gru2: BidirectionalGRU,
                 linear2: Linear) throws {
        do {
            self.configuration = configuration
            self.unit = unit
            self.stem = stem
            let plan = CRNNArchitecture.pool
            pool = try MaxPoolKernel(kernel: plan.kernel, stride: plan.stride, padding: plan.padding, unit: unit)
            self.blocks = blocks
            self.cn6 = try Convolution(fold(cn6.conv, cn6.norm), unit: unit)
            self.linear1 = try LinearKernel(inFeatures: linear1.inFeatures, outFeatures: linear1.outFeatures,
                                            weights: linear1.weight, bias: linear1.bias, unit: unit)
            self.gru1 = try BidirectionalKernel(gru1, unit: unit)
            self.gru2 = try BidirectionalKernel(gru2, unit: unit)
            self.linear2 = try LinearKernel(inFeatures: linear2.inFeatures, outFeatures: linear2.outFeatures,
                                            weights: linear2.weight, bias: linear2.bias, unit: unit)
        } catch let error as KernelError {
            throw CRNNError.kernel(error)
        }
    }

    /// Bytes of weights one image's forward pass at batch one reads, as the
    /// kernels store them (Winograd's transformed matrices, packed panels;
    /// biases included; the GRUs' `W_hh`, never read from h0 = 0, not
    /// counted). Every one is read once per image, and together they are far
    /// larger than a core's L2 cache, so a pass streams them all from L3 or
    /// memory: `crnn-bench` sets them against the measured read rate. A
    /// batch of several images (`logits(for: [CRNNInput])`) reads most of
    /// them once for the whole batch (all but the im2col convolutions',
    /// which run image by image).
    package var weightBytesPerImage: Int {
        let convolutions = [stem, cn6] + blocks.flatMap { [$0.conv1, $0.conv2] + [$0.downsample].compactMap { $0 } }
        let recurrent = [gru1, gru2].reduce(0) { $0 + $1.forward.storedInputWeightBytes + $1.backward.storedInputWeightBytes }
        return convolutions.reduce(0) { $0 + $1.storedWeightBytes } + linear1.storedWeightBytes + recurrent
            + linear2.storedWeightBytes
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
            let scores = try head(features, sequenceLength: 1, sequences: steps, team: team)
            return try Logits(timeSteps: steps, classes: configuration.vocabularySize, values: scores)
        }
    }

    /// The logits of each of several equal-size images, each evaluated as its
    /// own batch of one exactly as `logits(for:)` does, but with the trunk run
    /// over all of them at once: the Winograd convolutions' and the head's
    /// weights are read once for all the images (the im2col convolutions,
    /// the 1x1 downsamples among them, run image by image). Measured on the
    /// 2-core Xeon of the README's benchmark: two images at a time no faster
    /// per image than one, within its noise; four slower.
    /// - Returns: one `Logits` per image, in order (empty for no images).
    /// - Throws: `CRNNError.batchSizesDiffer` when sizes differ,
    ///   `CRNNError.inputHeight` for an unsupported height.
    public func logits(for images: [CRNNInput], team: ThreadTeam = .alone) throws -> [Logits] {
        // Batch-of-one semantics: every column of every image is its own length-1 sequence.
        try logits(stacking: images, torchBatch: false, team: team)
    }

    /// PyTorch's forward over ONE batch of equal-size images: the GRUs, not
    /// batch-first, read the batch axis as time (time = image index, the T
    /// columns are independent sequences), so each image's logits depend on
    /// the others. Use only to reproduce such a batch exactly. With a `team`,
    /// its members share every layer.
    /// - Returns: one `Logits` per image, in order (empty for no images).
    /// - Throws: `CRNNError.batchSizesDiffer` when sizes differ,
    ///   `CRNNError.inputHeight` for an unsupported height.
    public func logitsTorchBatch(_ images: [CRNNInput], team: ThreadTeam = .alone) throws -> [Logits] {
        try logits(stacking: images, torchBatch: true, team: team)
    }

    /// The trunk over `images` stacked as one batch, then the head over
    /// sequences of length N (PyTorch's batch, `torchBatch`) or 1 (each image
    /// its own batch of one): the T * N feature rows are the same either way.
    private func logits(stacking images: [CRNNInput], torchBatch: Bool, team: ThreadTeam) throws -> [Logits] {
        guard let first = try checkEqualSizes(images) else { return [] }
        return try wrappingKernelErrors {
            let shape = try FeatureShape(batch: images.count, channels: 3, height: first.height, width: first.width)
            let (features, steps) = try trunkFeatures(stacked(images, count: shape.count), shape: shape, team: team)
            let sequenceLength = torchBatch ? images.count : 1
            let scores = try head(features, sequenceLength: sequenceLength,
                                  sequences: images.count * steps / sequenceLength, team: team)
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
        try CRNNError.wrappingKernelErrors(body)
    }
}

/// A BasicBlock with its batch norms folded in.
struct FusedBlock: Sendable {
    let conv1: Convolution
    let conv2: Convolution
    let downsample: Convolution?

    init(_ block: BasicBlock, unit: VectorUnit) throws {
        conv1 = try Convolution(fold(block.conv1, block.bn1), unit: unit)
        conv2 = try Convolution(fold(block.conv2, block.bn2), unit: unit)
        downsample = try block.downsample.map { try Convolution(fold($0.conv, $0.norm), unit: unit) }
    }
}

/// Both directions of a bidirectional GRU layer.
struct BidirectionalKernel: Sendable {
    let forward: GRUDirectionKernel
    let backward: GRUDirectionKernel

    init(_ layer: BidirectionalGRU, unit: VectorUnit) throws {
        func kernel(_ d: BidirectionalGRU.Direction) throws -> GRUDirectionKernel {
            try GRUDirectionKernel(inputSize: layer.inputSize, hiddenSize: layer.hiddenSize, weightIH: d.weightIH,
                                   weightHH: d.weightHH, biasIH: d.biasIH, biasHH: d.biasHH, unit: unit)
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
