import Foundation
import Testing
import TestSupport
@testable import CRNNRuntime
@testable import ImageDecoding
import Conversion
import SourceHashing

/// The runtime face: the bundled model converted once, then read from files,
/// encoded bytes and pixels in memory in every layout, one at a time, in
/// batches and from async code; all against PyTorch's recorded outputs.
@Suite(.serialized) struct TextRecognizerTests {
    /// The trained model converted once for the suite.
    static let binPath: String = {
        let folder = (try? Fixtures.temporaryDirectory()) ?? URL(fileURLWithPath: "/tmp")
        let output = folder.appendingPathComponent("crnn.bin").path
        _ = try? Converter.convert(input: Fixtures.url("model/crnn.pt").path, output: output,
                                   sourceDigest: SourceHashing.sha256(path:))
        return output
    }()

    /// PyTorch's batch-of-one outputs for the bundled samples.
    struct Reference: Decodable {
        struct Entry: Decodable { let file: String; let text: String; let logits: [[Float]] }
        let images: [Entry]
    }

    static let reference: Reference = {
        let data = (try? Data(contentsOf: Fixtures.url("model/reference-batch1.json"))) ?? Data()
        return (try? JSONDecoder().decode(Reference.self, from: data)) ?? Reference(images: [])
    }()

    static func samplePath(_ entry: Reference.Entry) -> String { Fixtures.url("model").appendingPathComponent(entry.file).path }

    static func largestDifference(_ logits: RecognitionLogits?, _ expected: [[Float]]) -> Float {
        guard let logits, logits.timeSteps == expected.count else { return .infinity }
        return (0..<logits.timeSteps).map { step in
            zip(logits[step], expected[step]).map { abs($0 - $1) }.max() ?? .infinity
        }.max() ?? .infinity
    }

    let withLogits = RecognitionOptions(includesLogits: true)

    @Test func filesReadAsPyTorchReadThem() throws {
        let recognizer = try TextRecognizer(contentsOf: Self.binPath)
        #expect(Self.reference.images.count >= 30)
        for entry in Self.reference.images {
            let result = try recognizer.recognize(file: Self.samplePath(entry), options: withLogits)
            #expect(result.text == entry.text, "\(entry.file)")
            #expect(Self.largestDifference(result.logits, entry.logits) <= 1e-4, "\(entry.file)")
        }
        #expect(recognizer.model.alphabet.count == recognizer.model.classes - 1)
        #expect(recognizer.model.acceptedHeights == 49...64)
        #expect(recognizer.model.sourceSHA256 == (try SourceHashing.sha256(path: Fixtures.url("model/crnn.pt").path)))
    }

    /// Encoded bytes and the model's own bytes give what the files give, bit for bit
    /// (the same input through the same computation).
    @Test func bytesInMemoryReadAsFilesDo() throws {
        let fromFile = try TextRecognizer(contentsOf: Self.binPath, cores: 2)
        let fromBytes = try TextRecognizer(modelBytes: Array(try Data(contentsOf: URL(fileURLWithPath: Self.binPath))), cores: 2)
        for entry in Self.reference.images.prefix(6) {
            let path = Self.samplePath(entry)
            let a = try fromFile.recognize(file: path, options: withLogits)
            let b = try fromBytes.recognize(encoded: Array(try Data(contentsOf: URL(fileURLWithPath: path))), options: withLogits)
            #expect(a == b, "\(entry.file)")
        }
    }

    /// One sample in every pixel layout, rows padded, read from a pointer:
    /// the same logits as the file, bit for bit.
    @Test(arguments: PixelFormat.allCases)
    func pixelsInMemoryReadAsTheFileDoes(format: PixelFormat) throws {
        let recognizer = try TextRecognizer(contentsOf: Self.binPath, cores: 1)
        let entry = try #require(Self.reference.images.first { $0.file.hasSuffix(".png") })
        let image = try ImageDecoder.decode(path: Self.samplePath(entry))
        let padding = 13
        let stride = image.width * format.bytesPerPixel + padding
        var bytes = [UInt8](repeating: 0xAB, count: stride * image.height)
        for y in 0..<image.height {
            for x in 0..<image.width {
                let rgb = Array(image.pixels[(3 * (y * image.width + x))..<(3 * (y * image.width + x) + 3)])
                let grey = rgb[0]  // for gray8 the test compares against a grey file image below
                let pixel: [UInt8] = switch format {
                case .rgb8: rgb
                case .rgba8: rgb + [UInt8(x % 256)]
                case .bgra8: [rgb[2], rgb[1], rgb[0], 7]
                case .gray8: [grey]
                }
                bytes.replaceSubrange((y * stride + x * pixel.count)..<(y * stride + (x + 1) * pixel.count), with: pixel)
            }
        }
        let fromPixels = try bytes.withUnsafeBytes { raw in
            try recognizer.recognize(pixels: raw, width: image.width, height: image.height, bytesPerRow: stride,
                                     format: format, options: withLogits)
        }
        let expected: Recognition
        if format == .gray8 {
            // Grey replicated: the same as an RGB image whose three channels are the red one.
            let greyRGB = image.pixels.enumerated().map { index, _ in image.pixels[index - index % 3] }
            expected = try recognizer.recognize(try PixelImage(width: image.width, height: image.height, format: .rgb8,
                                                               bytes: greyRGB), options: withLogits)
        } else {
            expected = try recognizer.recognize(file: Self.samplePath(entry), options: withLogits)
            #expect(fromPixels.text == entry.text)
        }
        #expect(fromPixels == expected)
    }

    @Test func badPixelBuffersAreRefusedWithTheirReason() throws {
        let recognizer = try TextRecognizer(contentsOf: Self.binPath, cores: 1)
        let bytes = [UInt8](repeating: 0, count: 200 * 50 * 3)
        #expect(throws: RecognitionError.self) {
            try PixelImage(width: 200, height: 50, format: .rgba8, bytes: bytes)  // 4 bytes a pixel: too short
        }
        do {
            _ = try bytes.withUnsafeBytes { raw in
                try recognizer.recognize(pixels: raw, width: 200, height: 50, bytesPerRow: 100, format: .rgb8)
            }
            Issue.record("a stride shorter than a row was accepted")
        } catch let error as RecognitionError {
            guard case let .invalidPixels(_, message) = error else { Issue.record("\(error)"); return }
            #expect(message.contains("bytesPerRow 100") && message.contains("600"))
        } catch { Issue.record("\(error)") }
        let tooLow = try PixelImage(width: 200, height: 40, format: .rgb8, bytes: Array(bytes.prefix(200 * 40 * 3)))
        #expect(throws: RecognitionError.unsupportedImageSize(image: "pixels", width: 200, height: 40,
                                                             acceptedHeights: 49...64)) {
            try recognizer.recognize(tooLow)
        }
    }

    /// A batch keeps its order and each image's own outcome: the broken ones
    /// fail alone, the others read as they do one at a time.
    @Test func aBatchGivesOneResultPerImage() throws {
        let recognizer = try TextRecognizer(contentsOf: Self.binPath, cores: 2)
        let entries = Array(Self.reference.images.prefix(5))
        var sources = entries.map { ImageSource.file(Self.samplePath($0)) }
        sources.insert(.encoded([1, 2, 3], name: "garbage"), at: 2)
        sources.append(.file("/nonexistent/image.png"))
        let results = recognizer.recognize(sources, options: withLogits)
        #expect(results.count == sources.count)
        for (index, result) in results.enumerated() {
            switch (index, result) {
            case (2, .failure(.unreadableImage(let image, _))): #expect(image == "garbage")
            case (6, .failure(.unreadableImage(let image, _))): #expect(image == "/nonexistent/image.png")
            case (_, .success(let recognition)):
                let entry = entries[index < 2 ? index : index - 1]
                #expect(recognition.text == entry.text)
                // Alone on one core or split across two: equal to float rounding.
                #expect(Self.largestDifference(recognition.logits, entry.logits) <= 1e-4)
            default: Issue.record("image \(index): \(result)")
            }
        }
    }

    @Test func asyncCallsGiveTheBlockingCallsResults() async throws {
        let recognizer = try TextRecognizer(contentsOf: Self.binPath, cores: 2)
        let paths = Self.reference.images.prefix(4).map(Self.samplePath)
        let texts = try await withThrowingTaskGroup(of: (Int, String).self) { group in
            for (index, path) in paths.enumerated() {
                group.addTask { (index, try await recognizer.recognize(file: path).text) }
            }
            var texts = [String](repeating: "", count: paths.count)
            for try await (index, text) in group { texts[index] = text }
            return texts
        }
        #expect(texts == Self.reference.images.prefix(4).map(\.text))
        let batch = await recognizer.recognize(paths.map(ImageSource.file))
        #expect(batch.map { (try? $0.get())?.text } == texts)
    }

    /// The confidence is the greedy path's probability, computed here from the logits.
    @Test func confidenceIsTheGreedyPathsProbability() throws {
        let recognizer = try TextRecognizer(contentsOf: Self.binPath, cores: 1)
        for entry in Self.reference.images.prefix(8) {
            let result = try recognizer.recognize(file: Self.samplePath(entry), options: withLogits)
            let logits = try #require(result.logits)
            var expected = 1.0
            for step in 0..<logits.timeSteps {
                let row = logits[step].map(Double.init)
                let best = row.max() ?? 0
                expected *= 1 / row.map { Foundation.exp($0 - best) }.reduce(0, +)
            }
            #expect(abs(result.confidence - expected) <= 1e-12 && result.confidence > 0 && result.confidence <= 1)
            // The alignment: one step per time step, emitting exactly the text, each winner the argmax.
            #expect(result.alignment.count == logits.timeSteps)
            #expect(String(result.alignment.compactMap(\.emitted)) == result.text)
            for (step, aligned) in result.alignment.enumerated() {
                #expect(logits[step].max() == logits[step][logits[step].startIndex + aligned.winningClass])
            }
        }
    }

    @Test func aFileThatIsNotABinIsRefusedWithTheReadersLine() throws {
        let path = Fixtures.url("model/crnn.pt").path
        #expect {
            _ = try TextRecognizer(contentsOf: path)
        } throws: { error in
            guard case let RecognitionError.invalidModel(file, message) = error else { return false }
            return file == path && message.hasPrefix(path) && !message.contains("\n")
        }
        #expect(throws: RecognitionError.self) { try TextRecognizer(modelBytes: [0x43, 0x52]) }
    }

    @Test func coresAreCappedAndAtLeastOne() throws {
        #expect(try TextRecognizer(contentsOf: Self.binPath, cores: 0).cores == 1)
        #expect(try TextRecognizer(contentsOf: Self.binPath, cores: 1 << 40).cores == max(64, TextRecognizer.defaultCores))
    }
}
