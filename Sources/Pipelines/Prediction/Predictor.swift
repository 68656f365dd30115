import CRNN
import CRNNRuntime
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ImageDecoding
import Kernels

/// One image's result.
public struct ImagePrediction: Sendable {
    /// The image file.
    public let file: String
    /// The decoded text.
    public let text: String
    /// The raw linear2 output, `[T, classes]`.
    public let logits: Logits
}

/// Runs a loaded model over image files, through the runtime's
/// `TextRecognizer` (the API an app uses), sharing the loaded weights.
public struct Predictor: Sendable {
    /// The model.
    public let loaded: LoadedModel
    /// Worker threads (images run in parallel, one per thread).
    public let threads: Int
    /// The runtime over `loaded`'s network (no second copy of the weights).
    let recognizer: TextRecognizer

    /// The most threads a predictor runs: the larger of the core count and
    /// 64. More would only add threads waiting for a core, and each costs a
    /// stack and scratch space.
    public static let maximumThreads = max(ProcessInfo.processInfo.activeProcessorCount, 64)

    /// A predictor for `model` on `threads` threads, taken into
    /// `1...maximumThreads` (the command line refuses values outside it).
    public init(model: LoadedModel, threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
        loaded = model
        self.threads = min(max(1, threads), Predictor.maximumThreads)
        recognizer = TextRecognizer(
            network: model.model, decoder: model.decoder, nominalHeight: model.metadata.nominalInputHeight,
            sourceFileName: model.metadata.sourceFileName, sourceSHA256: model.metadata.sourceSHA256, cores: self.threads)
    }

    /// The model's input for the image at `path`, converted as the reference
    /// does, by the runtime's own preparation (what `predict` runs on).
    /// - Throws: `RecognitionError` when the image cannot be read or its size
    ///   is not one the model takes.
    public func input(path: String) throws(RecognitionError) -> CRNNInput {
        try recognizer.modelInput(.file(path))
    }

    /// The command line's error for one image's failure in the runtime:
    /// an image whose height the model does not read says so without
    /// naming a library option; a PyTorch batch of mixed sizes names the
    /// image that differs; everything else is the runtime's own error, whose
    /// message is the decoder's or the kernel's line.
    static func commandLineError(_ error: any Error) -> any Error {
        switch error {
        case let mismatch as TextRecognizer.BatchSizeMismatch:
            return PredictionError.batchSizeMismatch(file: mismatch.image, size: mismatch.size, expected: mismatch.expected)
        case let RecognitionError.unsupportedImageSize(image, _, height, accepted):
            return PredictionError.unsupportedImage(
                file: image, reason: CRNNError.inputHeight(height: height, accepted: accepted).description)
        default:
            return error
        }
    }

    /// Whether `error`, from one image's result, is about that image alone
    /// (it cannot be read or decoded, or its size is not one the model
    /// takes), rather than about the model or the machine (a missing
    /// library, a vector unit this CPU lacks), which every other image would
    /// meet too.
    public static func isAboutOneImage(_ error: any Error) -> Bool {
        if let error = error as? RecognitionError {
            switch error {
            case .unreadableImage, .invalidPixels, .unsupportedImageSize: return true
            case .invalidModel, .computationFailed: return false
            }
        }
        if let error = error as? PredictionError {
            switch error {
            case .unsupportedImage, .batchSizeMismatch, .notFound: return true
            default: return false
            }
        }
        return false
    }

    /// Predicts every file.
    /// - Parameters:
    ///   - torchBatch: `nil` (the faithful default) runs each image as its own
    ///     batch of one; `N` reproduces PyTorch's forward over consecutive
    ///     batches of `N` images, the GRU running along the batch axis.
    ///   - progress: called after each image with the number done (from any thread).
    /// - Returns: results in the order of `files`, or the first error by file order.
    public func predict(files: [String], torchBatch: Int? = nil,
                        progress: (@Sendable (Int) -> Void)? = nil) throws -> [ImagePrediction] {
        try results(files: files, torchBatch: torchBatch, progress: progress).map { try $0.get() }
    }

    /// Predicts every file and hands each result, success or error, to
    /// `deliver` in the order of `files`, a chunk at a time: only one chunk's
    /// results are ever held, so memory stays flat however many files there
    /// are, and the first results arrive after the first chunk.
    /// - Parameters:
    ///   - chunkSize: images per chunk (default 64 per thread), rounded to
    ///     whole `torchBatch` batches.
    ///   - deliver: called on the calling thread with each file's index and result.
    /// - Throws: only what `deliver` throws (an image's error is its result).
    public func predictInOrder(files: [String], torchBatch: Int? = nil, chunkSize: Int? = nil,
                               progress: (@Sendable (Int) -> Void)? = nil,
                               deliver: (Int, Result<ImagePrediction, Error>) throws -> Void) rethrows {
        let batch = max(1, torchBatch ?? 1)
        let chunk = max(batch, (chunkSize ?? 64 * threads) / batch * batch)
        var start = 0
        while start < files.count {
            let end = min(files.count, start + chunk)
            let offset = start
            let chunkResults = results(files: Array(files[start..<end]), torchBatch: torchBatch,
                                       progress: progress.map { report in { @Sendable done in report(offset + done) } })
            for (index, result) in chunkResults.enumerated() { try deliver(start + index, result) }
            start = end
        }
    }

    /// Every file's result, in order (the work of both `predict` forms):
    /// the recognizer's logits, decoded here.
    private func results(files: [String], torchBatch: Int?,
                         progress: (@Sendable (Int) -> Void)?) -> [Result<ImagePrediction, Error>] {
        // One image per core, or (one image) all cores sharing its layers; products single-threaded either way.
        BLASThreads.setCount(1)
        let decoder = loaded.decoder
        let logits = recognizer.logits(files.map { .file($0) }, torchBatch: torchBatch.flatMap { $0 > 0 ? $0 : nil },
                                       progress: progress)
        return zip(files, logits).map { file, result in
            switch result {
            case let .success(logits): .success(ImagePrediction(file: file, text: decoder.decode(logits), logits: logits))
            case let .failure(error): .failure(Predictor.commandLineError(error))
            }
        }
    }
}
