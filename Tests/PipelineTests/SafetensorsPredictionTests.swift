import Foundation
import Testing
import TestSupport
@testable import Conversion
@testable import Prediction
import SourceHashing

/// crnn-predict MODEL.safetensors: the trained model, exported to
/// safetensors, predicts what PyTorch predicted on the bundled samples.
@Suite(.serialized) struct SafetensorsPredictionTests {
    @Test func exportedTrainedModelMatchesPyTorch() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("crnn.safetensors").path
        try SafetensorsExport.convert(input: Fixtures.url("model/crnn.pt").path, output: output, sourceDigest: SourceHashing.sha256(path:))
        let loaded = try ModelLoader.load(path: output)
        #expect(loaded.convertedInMemory)
        let report = try Verifier.verify(referencePath: Fixtures.url("model/reference-batch1.json").path, predictor: Predictor(model: loaded))
        #expect(report.rows.count >= 3)
        for row in report.rows {
            #expect(row.text == row.expectedText, "\(row.file)")
            #expect(row.maxLogitDifference <= VerificationReport.tolerance, "\(row.file): \(row.maxLogitDifference)")
        }
        #expect(report.passed)
    }

    /// The safetensors file Python wrote of a narrow CRNN, with an alphabet in
    /// its __metadata__, loads with that alphabet and predicts like its .pt.
    @Test func pythonWrittenSafetensorsPredictsLikeItsCheckpoint() throws {
        let fromSafetensors = try ModelLoader.load(path: Fixtures.url("safetensors/narrow.safetensors").path)
        let fromPt = try ModelLoader.load(path: Fixtures.url("checkpoints/crnn/narrow_zip.pt").path)
        let listing = try SafetensorsListing("safetensors/narrow.expected.json")
        #expect(fromSafetensors.metadata.alphabet == listing.metadata["alphabet"])
        let files = Array(try ImageCollection.expand([Fixtures.url("samples").path]).prefix(3))
        let a = try Predictor(model: fromSafetensors, threads: 1).predict(files: files)
        let b = try Predictor(model: fromPt, threads: 1).predict(files: files)
        #expect(a.map(\.text) == b.map(\.text))
        for (x, y) in zip(a, b) { #expect(x.logits.values == y.logits.values) }
    }
}
