package import CRNN
import CRNNFormat
import Dispatch
import ImageDecoding
package import Kernels
import Synchronization
package import TensorCore

/// Reads the text in captcha images with a CRNN converted to a `.bin` by
/// `crnn-convert`: the central type of `CRNNRuntime`.
///
/// A recognizer is immutable once loaded and `Sendable`: one instance
/// serves any number of threads and tasks. It uses at most ``cores`` cores
/// at a time, whoever calls it: calls take turns on them (a single image
/// splits its layers across the cores; a batch gives each core its own
/// images), so several tasks sharing one recognizer never oversubscribe
/// the machine. The `async` variants run that work on Dispatch's threads,
/// never on Swift's cooperative thread pool.
///
/// Process-wide effects, all on first use and only where the CPU lacks
/// AVX-512 (the portable kernels use OpenBLAS when present): OpenBLAS is
/// opened with `OPENBLAS_CORETYPE` set from the CPU's features and
/// `OPENBLAS_NUM_THREADS=1` unless the environment already sets them, and
/// its own thread count is set to 1. Nothing else outside the recognizer
/// changes.
public final class TextRecognizer: Sendable {
    /// What the model reads: alphabet, classes, accepted heights.
    public let model: ModelDescription
    /// The most cores this recognizer computes on at once.
    public let cores: Int

    private let network: CRNNModel
    private let decoder: CTCDecoder
    private let team: ThreadTeam
    /// Held while computing, so calls take turns on the cores.
    private let turn = Mutex(())

    /// The default for `cores`: every core the process may run on.
    public static var defaultCores: Int { ProcessorCount.active }

    /// Loads the `.bin` at `path` (memory-mapped while the model is built;
    /// the weights are then the recognizer's own).
    /// - Parameters:
    ///   - path: the `.bin` file.
    ///   - cores: the most cores to compute on at once (at least 1; default
    ///     every active core; more than `max(64, active cores)` are not taken).
    /// - Throws: `RecognitionError.invalidModel` when the file cannot be
    ///   read, is not a CRNN `.bin`, is damaged, or holds weights that do not
    ///   make a CRNN.
    public convenience init(contentsOf path: String, cores: Int = TextRecognizer.defaultCores) throws(RecognitionError) {
        let file: CRNNFile
        do { file = try CRNNFile.open(path: path) } catch { throw .invalidModel(file: path, message: error.description) }
        try self.init(file: file, cores: cores)
    }

    /// Loads a `.bin` already in memory (downloaded, bundled in an asset
    /// catalogue, ...). `name` stands for the bytes in errors.
    /// - Throws: `RecognitionError.invalidModel` as `init(contentsOf:)` does.
    public convenience init(modelBytes: [UInt8], name: String = "model bytes",
                            cores: Int = TextRecognizer.defaultCores) throws(RecognitionError) {
        let file: CRNNFile
        do { file = try CRNNFile.open(buffer: ByteBuffer(copying: modelBytes), name: name) } catch {
            throw .invalidModel(file: name, message: error.description)
        }
        try self.init(file: file, cores: cores)
    }

    private convenience init(file: CRNNFile, cores: Int) throws(RecognitionError) {
        let metadata = file.metadata
        try self.init(stateDict: file.tensors, alphabet: metadata.alphabet, blank: metadata.blankIndex,
                      nominalHeight: metadata.nominalInputHeight, sourceFileName: metadata.sourceFileName,
                      sourceSHA256: metadata.sourceSHA256, name: file.name, cores: cores)
    }

    /// A recognizer for weights already read (the tools' path for a PyTorch
    /// checkpoint converted in memory). Not public: apps load `.bin` files.
    /// - Throws: `RecognitionError.invalidModel` naming `name`.
    package convenience init(stateDict: StateDict, alphabet: String, blank: Int, nominalHeight: Int, sourceFileName: String,
                 sourceSHA256: String?, name: String, cores: Int, unit: VectorUnit = .preferred) throws(RecognitionError) {
        let network: CRNNModel, decoder: CTCDecoder
        do {
            network = try CRNNModel(stateDict: stateDict, unit: unit)
            decoder = try CTCDecoder(alphabet: alphabet, blank: blank, vocabularySize: network.configuration.vocabularySize)
        } catch {
            throw .invalidModel(file: name, message: "\(name): \(error)")
        }
        self.init(network: network, decoder: decoder, nominalHeight: nominalHeight, sourceFileName: sourceFileName,
                  sourceSHA256: sourceSHA256, cores: cores)
    }

    /// A recognizer around a network and decoder already built (the tools'
    /// path: `crnn-predict` runs the model it loaded and checked through
    /// this type without a second copy of the weights).
    package init(network: CRNNModel, decoder: CTCDecoder, nominalHeight: Int, sourceFileName: String,
                 sourceSHA256: String?, cores: Int) {
        self.network = network
        self.decoder = decoder
        let configuration = network.configuration
        let alphabet = String(String.UnicodeScalarView(decoder.alphabet)), blank = decoder.blank
        model = ModelDescription(
            alphabet: alphabet, classes: configuration.vocabularySize, blankClass: blank,
            acceptedHeights: configuration.acceptedHeights,
            nominalHeight: configuration.acceptedHeights.contains(nominalHeight)
                ? nominalHeight : configuration.acceptedHeights.upperBound,
            sourceFileName: sourceFileName, sourceSHA256: sourceSHA256.flatMap { $0.isEmpty ? nil : $0 })
        self.cores = max(1, min(cores, ProcessorCount.limit))
        team = self.cores > 1 ? ThreadTeam(size: self.cores) : .alone
    }

    // MARK: - One image

    /// Reads the text of pixels in memory, straight from `pixels` (no copy
    /// of the image is made unless it is resized).
    /// - Parameters:
    ///   - pixels: the image's bytes, row after row.
    ///   - width: pixels per row.
    ///   - height: rows.
    ///   - bytesPerRow: the row stride, for rows padded at their ends
    ///     (default: rows packed).
    ///   - format: the layout of each pixel.
    ///   - name: stands for the image in errors.
    ///   - options: resizing and logits.
    /// - Throws: `RecognitionError.invalidPixels` when the buffer does not
    ///   hold the image described, `.unsupportedImageSize` for a height the
    ///   model does not read, `.computationFailed` if the model cannot run.
    public func recognize(pixels: UnsafeRawBufferPointer, width: Int, height: Int, bytesPerRow: Int? = nil,
                          format: PixelFormat, name: String = "pixels",
                          options: RecognitionOptions = RecognitionOptions()) throws(RecognitionError) -> Recognition {
        let input = try InputPreparation.input(pixels: pixels, width: width, height: height, bytesPerRow: bytesPerRow,
                                               format: format, name: name, model: model, options: options)
        return try recognize(input, name: name, options: options)
    }

    /// Reads the text of an image whose pixels the caller handed over.
    /// - Throws: as `recognize(pixels:...)`.
    public func recognize(_ image: PixelImage, name: String = "pixels",
                          options: RecognitionOptions = RecognitionOptions()) throws(RecognitionError) -> Recognition {
        try recognize(.pixels(image, name: name), options: options)
    }

    /// Reads the text of a PNG or JPEG image in memory, decoded exactly as
    /// PIL's `Image.open(...).convert('RGB')` (alpha dropped, grey
    /// replicated, palettes expanded; CMYK JPEGs refused; at most 16384
    /// pixels a side).
    /// - Throws: `RecognitionError.unreadableImage` when the bytes are not a
    ///   PNG or JPEG the decoder reads; otherwise as `recognize(pixels:...)`.
    public func recognize(encoded bytes: [UInt8], name: String = "encoded image",
                          options: RecognitionOptions = RecognitionOptions()) throws(RecognitionError) -> Recognition {
        try recognize(.encoded(bytes, name: name), options: options)
    }

    /// Reads the text of a PNG or JPEG file, decoded as `recognize(encoded:)` decodes.
    /// - Throws: `RecognitionError.unreadableImage` when the file cannot be
    ///   read or decoded; otherwise as `recognize(pixels:...)`.
    public func recognize(file path: String,
                          options: RecognitionOptions = RecognitionOptions()) throws(RecognitionError) -> Recognition {
        try recognize(.file(path), options: options)
    }

    /// One image of any source, on all of the recognizer's cores.
    private func recognize(_ source: ImageSource, options: RecognitionOptions) throws(RecognitionError) -> Recognition {
        try recognize(try prepare(source, options: options), name: source.name, options: options)
    }

    /// The network's input for `source` as `recognize` prepares it (the
    /// benchmark times the network on it).
    /// - Throws: `RecognitionError` for an image that cannot be read or used.
    package func modelInput(_ source: ImageSource, options: RecognitionOptions = RecognitionOptions()) throws(RecognitionError) -> CRNNInput {
        try prepare(source, options: options)
    }

    /// The model's input for `source`: decoded (files and encoded bytes) and
    /// converted to planes, resized when asked.
    private func prepare(_ source: ImageSource, options: RecognitionOptions) throws(RecognitionError) -> CRNNInput {
        let image: RGBImage
        switch source {
        case let .pixels(pixels, name):
            return try InputPreparation.withBytes(of: pixels.bytes) { raw throws(RecognitionError) in
                try InputPreparation.input(pixels: raw, width: pixels.width, height: pixels.height,
                                           bytesPerRow: pixels.bytesPerRow, format: pixels.format, name: name,
                                           model: model, options: options)
            }
        case let .file(path):
            do { image = try ImageDecoder.decode(path: path) } catch {
                throw .unreadableImage(image: path, message: "\(error)")
            }
        case let .encoded(bytes, name):
            do { image = try ImageDecoder.decode(bytes: bytes, name: name) } catch {
                throw .unreadableImage(image: name, message: "\(error)")
            }
        }
        return try InputPreparation.withBytes(of: image.pixels) { raw throws(RecognitionError) in
            try InputPreparation.input(pixels: raw, width: image.width, height: image.height, bytesPerRow: nil,
                                       format: .rgb8, name: source.name, model: model, options: options)
        }
    }

    /// The model over one prepared input, the recognizer's turn taken and
    /// the layers split across its cores.
    private func recognize(_ input: CRNNInput, name: String, options: RecognitionOptions) throws(RecognitionError) -> Recognition {
        let logits = try turn.withLock { _ throws(RecognitionError) in
            try compute(name: name) { try network.logits(for: input, team: team) }
        }
        return recognition(logits, options: options)
    }

    /// Runs the network for the image `name`. A machine that cannot run the
    /// kernels (OpenBLAS missing or broken, a vector unit this CPU lacks) is
    /// no image's fault: its message is the kernel's own line, without the
    /// image's name.
    /// - Throws: `RecognitionError.computationFailed`.
    private func compute<T>(name: String, _ body: () throws -> T) throws(RecognitionError) -> T {
        do { return try body() } catch {
            if case let .kernel(kernelError)? = error as? CRNNError {
                switch kernelError {
                case .blasUnavailable, .vectorUnitUnavailable:
                    throw .computationFailed(image: name, message: kernelError.description)
                default: break
                }
            }
            throw .computationFailed(image: name, message: "\(name): \(error)")
        }
    }

    /// Text, confidence and (when asked) the scores of one image's logits.
    func recognition(_ logits: Logits, options: RecognitionOptions) -> Recognition {
        let alignment = CTCAlignment.steps(logits, decoder: decoder)
        return Recognition(text: decoder.decode(logits), confidence: CTCAlignment.confidence(of: alignment),
                           alignment: alignment,
                           logits: options.includesLogits
                               ? RecognitionLogits(timeSteps: logits.timeSteps, classes: logits.classes, values: logits.values)
                               : nil)
    }

    // MARK: - Batches

    /// Recognizes every image, using every core of this recognizer (one
    /// image per core), and returns one result per image, in the order
    /// given: one image that cannot be read never discards the others.
    /// While it runs, single-image calls on this recognizer wait.
    public func recognize(_ images: [ImageSource],
                          options: RecognitionOptions = RecognitionOptions()) -> [Result<Recognition, RecognitionError>] {
        zip(images, logits(images, options: options)).map { image, result in
            switch result {
            case let .success(logits): .success(recognition(logits, options: options))
            // Without torchBatch every failure is a RecognitionError.
            case let .failure(error): .failure(error as? RecognitionError
                ?? .computationFailed(image: image.name, message: "\(image.name): \(error)"))
            }
        }
    }

    /// Why `logits(_:torchBatch:...)` refused a group of a PyTorch-style
    /// batch: its images must all have the first one's size.
    package struct BatchSizeMismatch: Error {
        /// The image that differs, its size, and the batch's ("WxH").
        package let image: String, size: String, expected: String
    }

    /// The raw logits of every image, in order, one result per image: the
    /// work of the batch `recognize` and of `crnn-predict`.
    /// - Parameters:
    ///   - torchBatch: `nil` runs each image as its own batch of one (the
    ///     faithful mode); `N` runs consecutive groups of N images as one
    ///     PyTorch batch (its GRUs along the batch axis), each group failing
    ///     or succeeding as a whole (`BatchSizeMismatch` when sizes differ).
    ///   - progress: called after each image or group with the number of
    ///     images done, from any thread.
    /// - Returns: per image, the logits, or a `RecognitionError` (or a
    ///   `BatchSizeMismatch`) saying why not.
    package func logits(_ images: [ImageSource], torchBatch: Int? = nil, options: RecognitionOptions = RecognitionOptions(),
                        progress: (@Sendable (Int) -> Void)? = nil) -> [Result<Logits, any Error>] {
        let size = max(1, torchBatch ?? 1)
        let groups = stride(from: 0, to: images.count, by: size).map { $0..<min($0 + size, images.count) }
        let slots = Mutex([Result<Logits, any Error>?](repeating: nil, count: images.count))
        let next = Atomic(0), done = Atomic(0)
        let workers = min(cores, groups.count)
        // One worker: the whole team shares each image's layers; several: one image (or group) per core.
        let team = workers == 1 ? self.team : .alone
        @Sendable func run(_ group: Range<Int>) {
            let results: [Result<Logits, any Error>]
            do {
                let inputs = try group.map { index throws(RecognitionError) in try prepare(images[index], options: options) }
                if torchBatch == nil {
                    results = [.success(try compute(name: images[group.lowerBound].name) { try network.logits(for: inputs[0], team: team) })]
                } else {
                    for (offset, input) in inputs.enumerated().dropFirst()
                    where input.height != inputs[0].height || input.width != inputs[0].width {
                        throw BatchSizeMismatch(image: images[group.lowerBound + offset].name, size: "\(input.width)x\(input.height)",
                                                expected: "\(inputs[0].width)x\(inputs[0].height)")
                    }
                    let batch = try compute(name: images[group.lowerBound].name) { try network.logitsTorchBatch(inputs, team: team) }
                    results = batch.map { .success($0) }
                }
            } catch {
                results = Array(repeating: .failure(error), count: group.count)
            }
            slots.withLock { slots in for (index, result) in zip(group, results) { slots[index] = result } }
            let finished = done.wrappingAdd(group.count, ordering: .relaxed).newValue
            progress?(finished)
        }
        turn.withLock { _ in
            if workers <= 1 {
                for group in groups { run(group) }
                return
            }
            DispatchQueue.concurrentPerform(iterations: workers) { _ in
                while true {
                    let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
                    guard index < groups.count else { return }
                    run(groups[index])
                }
            }
        }
        return slots.withLock { slots in
            slots.enumerated().map { index, slot in
                slot ?? .failure(RecognitionError.computationFailed(image: images[index].name, message: "the image was not processed"))
            }
        }
    }
}
