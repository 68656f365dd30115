import CRNN
import CRNNFormat
import TensorCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// PyTorch's recorded outputs for a model and images, as written by
/// `scripts/record_reference.py` (format `crnn-reference/1`).
public struct ReferenceFile: Decodable, Sendable {
    /// One image's recorded result.
    public struct Entry: Decodable, Sendable {
        /// The image, relative to the reference file's folder.
        public let file: String
        /// PyTorch's greedy CTC text.
        public let text: String
        /// PyTorch's linear2 output, `[T][classes]`.
        public let logits: [[Float]]
    }

    /// The file format, `crnn-reference/1`.
    public let format: String
    /// The model file PyTorch ran, as the recording script named it.
    public let modelFile: String?
    /// That file's SHA-256, in lowercase hex.
    public let modelSHA256: String?
    /// The PyTorch version that recorded the outputs.
    public let torchVersion: String?
    /// Images per PyTorch batch when recorded (1: the faithful mode).
    public let batchSize: Int
    /// The alphabet PyTorch decoded with (class i + 1 is its i-th character).
    public let alphabet: String?
    /// The recorded images, in the order they were run.
    public let images: [Entry]

    enum CodingKeys: String, CodingKey {
        case format, alphabet, images
        case modelFile = "model_file", modelSHA256 = "model_sha256", torchVersion = "torch_version", batchSize = "batch_size"
    }

    /// Reads and checks the reference at `path`.
    /// - Throws: `PredictionError.badReference` naming the file.
    public static func load(path: String) throws -> ReferenceFile {
        let data: Data
        do { data = try ByteBuffer.reading(path: path).withUnsafeBytes { Data($0) } } catch {
            let reason = (error as? TensorCoreError)?.fileReason ?? "\(error)"
            throw PredictionError.badReference(file: path, reason: "cannot read: \(reason)")
        }
        let reference: ReferenceFile
        do { reference = try JSONDecoder().decode(ReferenceFile.self, from: data) } catch let error as DecodingError {
            throw PredictionError.badReference(file: path, reason: "not a crnn-reference file: \(error.reasonNamingTheKey)")
        } catch {
            throw PredictionError.badReference(file: path, reason: "not a crnn-reference file: cannot be decoded as JSON")
        }
        guard reference.format == "crnn-reference/1" else {
            throw PredictionError.badReference(file: path, reason: "format '\(reference.format)'; expected crnn-reference/1")
        }
        guard reference.batchSize >= 1, !reference.images.isEmpty else {
            throw PredictionError.badReference(file: path, reason: "no images or a batch size below 1")
        }
        return reference
    }
}

/// The comparison of the Swift model with PyTorch's recorded outputs.
public struct VerificationReport: Sendable {
    /// One image's comparison.
    public struct Row: Sendable {
        /// The image, as the reference names it.
        public let file: String
        /// PyTorch's text.
        public let expectedText: String
        /// The Swift model's text.
        public let text: String
        /// The largest absolute difference between the two logit arrays
        /// (infinity when their shapes differ).
        public let maxLogitDifference: Float
        /// Whether the Swift model read PyTorch's text.
        public var textMatches: Bool { text == expectedText }
    }

    /// The largest logit difference accepted.
    public static let tolerance: Float = 1e-3

    /// One row per recorded image, in the reference's order.
    public let rows: [Row]
    /// Images per PyTorch batch in the reference (1: the faithful mode).
    public let batchSize: Int

    /// Images whose texts match.
    public var matchingTexts: Int { rows.filter(\.textMatches).count }
    /// The largest difference over all images.
    public var maxLogitDifference: Float { rows.map(\.maxLogitDifference).max() ?? 0 }
    /// True when every text matches and every difference is within tolerance.
    public var passed: Bool { matchingTexts == rows.count && maxLogitDifference <= VerificationReport.tolerance }
}

/// Runs the Swift model on a reference's images and compares.
public enum Verifier {
    /// Verifies `predictor` against the reference at `path`, in the
    /// reference's batch mode; `eachImage`, when given, sees every image's
    /// comparison and prediction in order (for a report).
    /// - Throws: a reference, image or model error, or what `eachImage` throws.
    public static func verify(referencePath: String, predictor: Predictor,
                              progress: (@Sendable (Int) -> Void)? = nil,
                              eachImage: ((VerificationReport.Row, ImagePrediction) throws -> Void)? = nil) throws -> VerificationReport {
        let reference = try ReferenceFile.load(path: referencePath)
        let folder = URL(fileURLWithPath: referencePath).deletingLastPathComponent()
        let files = reference.images.map { folder.appendingPathComponent($0.file).standardized.path }
        let predictions = try predictor.predict(
            files: files, torchBatch: reference.batchSize == 1 ? nil : reference.batchSize, progress: progress)
        var rows = [VerificationReport.Row]()
        for (expected, got) in zip(reference.images, predictions) {
            let row = VerificationReport.Row(file: expected.file, expectedText: expected.text, text: got.text,
                                             maxLogitDifference: difference(expected.logits, got.logits))
            try eachImage?(row, got)
            rows.append(row)
        }
        return VerificationReport(rows: rows, batchSize: reference.batchSize)
    }

    static func difference(_ expected: [[Float]], _ logits: Logits) -> Float {
        guard expected.count == logits.timeSteps, expected.allSatisfy({ $0.count == logits.classes }) else { return .infinity }
        var largest: Float = 0
        for (step, row) in expected.enumerated() {
            for (index, value) in row.enumerated() {
                let diff = abs(value - logits.values[step * logits.classes + index])
                if diff.isNaN { return .infinity }
                largest = max(largest, diff)
            }
        }
        return largest
    }
}
