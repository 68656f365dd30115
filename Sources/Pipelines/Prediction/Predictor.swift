import CRNN
import Dispatch
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ImageDecoding
import Kernels
import Synchronization

/// One image's result.
public struct ImagePrediction: Sendable {
    /// The image file.
    public let file: String
    /// The decoded text.
    public let text: String
    /// The raw linear2 output, `[T, classes]`.
    public let logits: Logits
}

/// Runs a loaded model over image files.
public struct Predictor: Sendable {
    /// The model.
    public let loaded: LoadedModel
    /// Worker threads (images run in parallel, one per thread).
    public let threads: Int

    /// The most threads a predictor runs: the larger of the core count and
    /// 64. More would only add threads waiting for a core, and each costs a
    /// stack and scratch space.
    public static let maximumThreads = max(ProcessInfo.processInfo.activeProcessorCount, 64)

    /// A predictor for `model` on `threads` threads, taken into
    /// `1...maximumThreads` (the command line refuses values outside it).
    public init(model: LoadedModel, threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
        loaded = model
        self.threads = min(max(1, threads), Predictor.maximumThreads)
    }

    /// The model's input for the image at `path`, converted as the reference does.
    /// - Throws: the image decoder's error, or the model's for a bad size.
    public static func input(path: String) throws -> CRNNInput {
        let image = try ImageDecoder.decode(path: path)
        do {
            return try CRNNInput(height: image.height, width: image.width, planes: image.planarFloats())
        } catch {
            throw PredictionError.unsupportedImage(file: path, reason: String(describing: error))
        }
    }

    /// Runs `body`, turning the model's complaints about an input into an
    /// error that names the image file. A machine that cannot run the
    /// kernels (OpenBLAS missing or broken, a vector unit this CPU lacks) is
    /// not the image's fault: that `KernelError` passes through unchanged.
    static func naming<T>(_ file: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as CRNNError {
            if case let .kernel(kernelError) = error {
                switch kernelError {
                case .blasUnavailable, .vectorUnitUnavailable: throw kernelError
                default: break
                }
            }
            throw PredictionError.unsupportedImage(file: file, reason: error.description)
        }
    }

    /// Whether `error`, from one image's result, is about that image alone
    /// (it cannot be read or decoded, or its size is not one the model
    /// takes), rather than about the model or the machine (a missing
    /// library, a vector unit this CPU lacks), which every other image would
    /// meet too.
    public static func isAboutOneImage(_ error: any Error) -> Bool {
        if error is ImageDecodingError { return true }
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

    /// Every file's result, in order (the work of both `predict` forms).
    private func results(files: [String], torchBatch: Int?,
                         progress: (@Sendable (Int) -> Void)?) -> [Result<ImagePrediction, Error>] {
        let groups: [[Int]]
        if let size = torchBatch, size > 0 {
            groups = stride(from: 0, to: files.count, by: size).map { Array($0..<min($0 + size, files.count)) }
        } else {
            groups = files.indices.map { [$0] }
        }
        let workers = min(threads, max(groups.count, 1))
        // One image per core, or (one image) all cores sharing its layers; products single-threaded either way.
        BLASThreads.setCount(1)
        let team = workers == 1 && threads > 1 ? ThreadTeam(size: threads) : .alone
        let results = ResultSlots(count: files.count)
        let model = loaded.model
        let decoder = loaded.decoder
        let next = Counter()
        let done = Counter()
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while let groupIndex = next.take(below: groups.count) {
                let group = groups[groupIndex]
                do {
                    let inputs = try group.map { try Predictor.input(path: files[$0]) }
                    let logits: [Logits]
                    if torchBatch == nil {
                        logits = [try Predictor.naming(files[group[0]]) { try model.logits(for: inputs[0], team: team) }]
                    } else {
                        for (offset, input) in inputs.enumerated().dropFirst()
                        where input.height != inputs[0].height || input.width != inputs[0].width {
                            throw PredictionError.batchSizeMismatch(
                                file: files[group[offset]], size: "\(input.width)x\(input.height)",
                                expected: "\(inputs[0].width)x\(inputs[0].height)")
                        }
                        logits = try Predictor.naming(files[group[0]]) { try model.logitsTorchBatch(inputs, team: team) }
                    }
                    for (slot, fileIndex) in group.enumerated() {
                        results.set(fileIndex, .success(ImagePrediction(
                            file: files[fileIndex], text: decoder.decode(logits[slot]), logits: logits[slot])))
                    }
                } catch {
                    for fileIndex in group { results.set(fileIndex, .failure(error)) }
                }
                progress?(done.add(group.count))
            }
        }
        return results.values()
    }
}

/// A lock-protected counter handing out work and counting progress.
final class Counter: Sendable {
    private let value = Mutex(0)

    /// The next index below `limit`, or `nil` when all are taken.
    func take(below limit: Int) -> Int? {
        value.withLock { value in
            guard value < limit else { return nil }
            value += 1
            return value - 1
        }
    }

    /// Adds `amount` and returns the new total.
    func add(_ amount: Int) -> Int {
        value.withLock { value in
            value += amount
            return value
        }
    }
}

/// Per-file results written by worker threads.
final class ResultSlots: Sendable {
    private let slots: Mutex<[Result<ImagePrediction, Error>?]>

    init(count: Int) { slots = Mutex(Array(repeating: nil, count: count)) }

    func set(_ index: Int, _ result: Result<ImagePrediction, Error>) {
        slots.withLock { $0[index] = result }
    }

    /// The results in file order; a missing one is a programming error reported as such.
    func values() -> [Result<ImagePrediction, Error>] {
        slots.withLock { slots in
            slots.map { $0 ?? .failure(PredictionError.badModel(file: "", reason: "an image was not processed")) }
        }
    }
}
