import Foundation
import Kernels
import Testing
import TestSupport
@testable import CRNN
@testable import CRNNFormat
@testable import Conversion
@testable import Prediction
import SourceHashing

/// The converted trained model predicts what PyTorch predicted on the bundled
/// samples: same texts, logits within 1e-3, at batch one and in PyTorch
/// batches of 8.
@Suite(.serialized) struct PredictionTests {
    static let model = Fixtures.url("model/crnn.pt").path

    /// The trained model converted once for the suite.
    static let converted: String = {
        let folder = (try? Fixtures.temporaryDirectory()) ?? URL(fileURLWithPath: "/tmp")
        let output = folder.appendingPathComponent("crnn.bin").path
        _ = try? Converter.convert(input: model, output: output, sourceDigest: SourceHashing.sha256(path:))
        return output
    }()

    @Test(arguments: ["model/reference-batch1.json", "model/reference-batch8.json", "model/reference-extra-batch1.json"])
    func matchesPyTorch(_ reference: String) throws {
        let loaded = try ModelLoader.load(path: Self.converted)
        #expect(!loaded.convertedInMemory)
        let report = try Verifier.verify(referencePath: Fixtures.url(reference).path, predictor: Predictor(model: loaded))
        #expect(report.rows.count >= 3)
        for row in report.rows {
            #expect(row.text == row.expectedText, "\(row.file)")
            #expect(row.maxLogitDifference <= VerificationReport.tolerance, "\(row.file): \(row.maxLogitDifference)")
            // Issue 14: below 1e-4 on every unit (this is the preferred one's check).
            #expect(row.maxLogitDifference < 1e-4, "\(row.file): \(row.maxLogitDifference)")
        }
        #expect(report.passed)
    }

    /// On every other unit this machine has (a unit it lacks is skipped; the
    /// preferred one is `matchesPyTorch`'s), the bundled samples give
    /// PyTorch's texts at batch one with every logit within 1e-4 of
    /// PyTorch's (tighter than `--verify`'s 1e-3). The four extra samples
    /// only, to keep the suite fast (the debug build runs the C kernels
    /// unoptimised): the other units' batch-of-8 path is covered against
    /// PyTorch in KernelsTests and CRNNTests.
    @Test(arguments: VectorUnit.allCases.filter { $0.isAvailable && $0 != .preferred })
    func everyUnitMatchesPyTorchOnTheSamples(unit: VectorUnit) throws {
        let loaded = try ModelLoader.load(path: Self.converted)
        let onUnit = LoadedModel(model: try CRNNModel(stateDict: try CRNNFile.open(path: Self.converted).tensors, unit: unit),
                                 decoder: loaded.decoder, metadata: loaded.metadata, convertedInMemory: false)
        #expect(onUnit.model.unit == unit)
        let report = try Verifier.verify(referencePath: Fixtures.url("model/reference-extra-batch1.json").path,
                                         predictor: Predictor(model: onUnit))
        #expect(report.rows.count >= 3)
        for row in report.rows {
            #expect(row.text == row.expectedText, "\(unit) \(row.file)")
            #expect(row.maxLogitDifference < 1e-4, "\(unit) \(row.file): \(row.maxLogitDifference)")
        }
    }

    /// The converted file records the checkpoint's SHA-256 as Python's hashlib
    /// computed it when the reference was recorded.
    @Test func theConversionRecordsTheCheckpointsSHA256() throws {
        let reference = try ReferenceFile.load(path: Fixtures.url("model/reference-batch1.json").path)
        #expect(reference.modelFile == "crnn.pt")
        let recorded = try #require(reference.modelSHA256)
        #expect(try CRNNFile.open(path: Self.converted).metadata.sourceSHA256 == recorded)
        #expect(try SourceHashing.sha256(path: Self.model) == recorded)
    }

    @Test func aCheckpointPredictsLikeItsConversion() throws {
        let fromPt = try ModelLoader.load(path: Self.model)
        let fromBin = try ModelLoader.load(path: Self.converted)
        #expect(fromPt.convertedInMemory)
        #expect(fromPt.metadata.sourceSHA256 == nil, "a checkpoint converted in memory is not hashed")
        #expect(fromPt.metadata.alphabet == fromBin.metadata.alphabet)
        let files = try ImageCollection.expand([Fixtures.url("samples").path])
        let a = try Predictor(model: fromPt, threads: 2).predict(files: Array(files.prefix(6)))
        let b = try Predictor(model: fromBin, threads: 1).predict(files: Array(files.prefix(6)))
        #expect(a.map(\.text) == b.map(\.text))
        // Equal to float rounding: OpenBLAS's process-wide thread count (changed by
        // other suites running in parallel) decides sgemm's summation order.
        for (x, y) in zip(a, b) { #expect(Self.difference(x.logits.values, y.logits.values) <= 1e-5) }
    }

    @Test func batchOfOneDoesNotDependOnTheOtherImages() throws {
        let loaded = try ModelLoader.load(path: Self.converted)
        let files = try ImageCollection.expand([Fixtures.url("samples").path])
        let together = try Predictor(model: loaded, threads: 2).predict(files: Array(files.prefix(4)))
        let alone = try Predictor(model: loaded, threads: 1).predict(files: [files[2]])
        #expect(Self.difference(together[2].logits.values, alone[0].logits.values) <= 1e-5)
        let batched = try Predictor(model: loaded).predict(files: Array(files.prefix(4)), torchBatch: 4)
        #expect(Self.difference(batched[2].logits.values, alone[0].logits.values) > 1e-2,
                "a PyTorch batch mixes images through the GRU")
    }

    static func difference(_ a: [Float], _ b: [Float]) -> Float {
        guard a.count == b.count else { return .infinity }
        return zip(a, b).map { abs($0 - $1) }.max() ?? 0
    }

    @Test func aWrongHeightIsAClearError() throws {
        let loaded = try ModelLoader.load(path: Self.converted)
        let tall = Fixtures.url("images").path
        let files = try ImageCollection.expand([tall]).filter { $0.hasSuffix(".png") }
        try #require(!files.isEmpty)
        // The tiny image fixtures are far below 49 rows: refused, naming the accepted heights.
        let error = #expect(throws: (any Error).self) { try Predictor(model: loaded).predict(files: [files[0]]) }
        #expect(String(describing: error ?? PredictionError.noImages(path: "")).contains("49"))
    }

    @Test func foldersExpandSortedAndMissingPathsAreErrors() throws {
        let files = try ImageCollection.expand([Fixtures.url("samples").path])
        #expect(files == files.sorted())
        #expect(files.count >= 24)
        #expect(throws: PredictionError.notFound(path: "/no/such/image.png")) {
            try ImageCollection.expand(["/no/such/image.png"])
        }
    }

    /// Folder contents are picked and joined as NSString's `pathExtension` and
    /// `appendingPathComponent` do (the expected paths are Foundation's).
    @Test func folderPathsAreJoinedAsFoundationJoinsThem() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let names = ["a.png", "B.JPG", "c.jpeg", ".png", "d.", "e.png.txt", "f..png", "g", "h.Jpeg", "i.gif"]
        for name in names {
            #expect(FileManager.default.createFile(atPath: folder.appendingPathComponent(name).path, contents: Data()))
        }
        let images = names.filter { ImageCollection.extensions.contains(($0 as NSString).pathExtension.lowercased()) }.sorted()
        #expect(images.count == 5, "the names above hold five images and five other files")
        for given in [folder.path, folder.path + "/", folder.path + "//"] {
            let expected = images.map { (given as NSString).appendingPathComponent($0) }
            #expect(try ImageCollection.expand([given]) == expected)
        }
        let file = folder.appendingPathComponent("i.gif").path
        #expect(try ImageCollection.expand([file, folder.path]) == [file] + images.map { folder.appendingPathComponent($0).path })
    }
}
