/// The CRNN's convolution layers, once: the layer loader (`ResNetTrunk`,
/// `CN6Block`), the model's forward pass, the FLOP count (`CRNNCost`) and the
/// benchmark's kernel profile all derive from this plan.
///
/// `resnet18().children()[:-3]` as the `resnet` Sequential: `resnet.0` conv
/// 7x7 s2 p3 (3 -> c1), `resnet.1` batch norm, (`.2` ReLU, `.3` max pool 3x3
/// s2 p1), then `resnet.4`, `.5`, `.6`: two BasicBlocks each, c1 -> c1
/// (stride 1), c1 -> c2 (stride 2), c2 -> c3 (stride 2); then `cn6.conv` 3x3
/// c3 -> c3 with bias.
package struct CRNNArchitecture: Sendable, Equatable {
    /// One convolution: where its weights sit and its geometry.
    package struct ConvolutionLayer: Sendable, Equatable {
        /// The key prefix of its weights (`resnet.4.0.conv1`, ...).
        package let prefix: String
        package let inChannels: Int
        package let outChannels: Int
        package let kernel: Int
        package let stride: Int
        package let padding: Int
        package let hasBias: Bool

        /// PyTorch's output size along one axis: floor((n + 2p - k) / s) + 1.
        package func outputSize(_ n: Int) -> Int { (n &+ 2 &* padding &- kernel) / stride &+ 1 }
    }

    /// One torchvision BasicBlock.
    package struct Block: Sendable, Equatable {
        /// `resnet.4.0`, ...
        package let prefix: String
        package let inChannels: Int
        package let outChannels: Int
        /// Of `conv1` and the downsample path.
        package let stride: Int

        package var conv1: ConvolutionLayer {
            ConvolutionLayer(prefix: prefix + ".conv1", inChannels: inChannels, outChannels: outChannels, kernel: 3,
                             stride: stride, padding: 1, hasBias: false)
        }
        package var conv2: ConvolutionLayer {
            ConvolutionLayer(prefix: prefix + ".conv2", inChannels: outChannels, outChannels: outChannels, kernel: 3,
                             stride: 1, padding: 1, hasBias: false)
        }
        /// `downsample.0`, present when the stride is not 1 or the channel
        /// count changes (torchvision's rule).
        package var downsample: ConvolutionLayer? {
            guard stride != 1 || inChannels != outChannels else { return nil }
            return ConvolutionLayer(prefix: prefix + ".downsample.0", inChannels: inChannels, outChannels: outChannels,
                                    kernel: 1, stride: stride, padding: 0, hasBias: false)
        }
    }

    /// Max pooling after the stem (no weights).
    package static let pool = (kernel: 3, stride: 2, padding: 1)

    /// `resnet.0`.
    package let stem: ConvolutionLayer
    /// `resnet.4.0` ... `resnet.6.1`, in order.
    package let blocks: [Block]
    /// `cn6.conv`.
    package let cn6: ConvolutionLayer

    /// The plan for trunk widths [c1, c2, c3], or `nil` unless there are
    /// three of them, each at least 1.
    package init?(trunkWidths widths: [Int]) {
        guard widths.count == 3, widths.allSatisfy({ $0 >= 1 }) else { return nil }
        self.init(checked: widths)
    }

    /// The plan of a one-channel trunk: what a layer loader reads, reporting
    /// every key as a mismatch, when a configuration's widths make no plan.
    static let placeholder = CRNNArchitecture(checked: [1, 1, 1])

    private init(checked widths: [Int]) {
        stem = ConvolutionLayer(prefix: "resnet.0", inChannels: 3, outChannels: widths[0], kernel: 7, stride: 2,
                                padding: 3, hasBias: false)
        blocks = [(widths[0], widths[0], 1), (widths[0], widths[1], 2), (widths[1], widths[2], 2)].enumerated()
            .flatMap { stage, plan in
                [Block(prefix: "resnet.\(stage + 4).0", inChannels: plan.0, outChannels: plan.1, stride: plan.2),
                 Block(prefix: "resnet.\(stage + 4).1", inChannels: plan.1, outChannels: plan.1, stride: 1)]
            }
        cn6 = ConvolutionLayer(prefix: "cn6.conv", inChannels: widths[2], outChannels: widths[2], kernel: 3, stride: 1,
                               padding: 1, hasBias: true)
    }

    /// Every convolution in forward order with the height and width of its
    /// input, for an image of `height` x `width`; and the size left at the end
    /// (feature rows, time steps).
    package func convolutions(height: Int, width: Int)
        -> (layers: [(layer: ConvolutionLayer, height: Int, width: Int)], rows: Int, steps: Int) {
        var layers = [(layer: ConvolutionLayer, height: Int, width: Int)]()
        var (h, w) = (height, width)
        func run(_ layer: ConvolutionLayer) {
            layers.append((layer, h, w))
            (h, w) = (layer.outputSize(h), layer.outputSize(w))
        }
        run(stem)
        let pool = Self.pool
        (h, w) = ((h + 2 * pool.padding - pool.kernel) / pool.stride + 1, (w + 2 * pool.padding - pool.kernel) / pool.stride + 1)
        for block in blocks {
            if let downsample = block.downsample { layers.append((downsample, h, w)) }
            run(block.conv1)
            run(block.conv2)
        }
        run(cn6)
        return (layers, h, w)
    }
}
