import Foundation
import Testing
import TestSupport
@testable import CRNNRuntime
@testable import ImageDecoding

/// The runtime's resize is PIL's bilinear resize, byte for byte
/// (fixtures/make_resize_fixtures.py records PIL's output).
@Suite struct ResizeTests {
    struct Manifest: Decodable {
        struct Entry: Decodable { let file: String; let width: Int; let height: Int; let source: String; let kind: String }
        let images: [Entry]
    }

    static let manifest: Manifest? = {
        guard let data = try? Data(contentsOf: Fixtures.url("resize/manifest.json")) else { return nil }
        return try? JSONDecoder().decode(Manifest.self, from: data)
    }()

    static func decode(_ relative: String) throws -> RGBImage {
        let path = relative.hasPrefix("fixtures/") ? Fixtures.repositoryRoot.appendingPathComponent(relative).path
            : Fixtures.url(relative).path
        return try ImageDecoder.decode(path: path)
    }

    @Test func resizingMatchesPILByteForByte() throws {
        let cases = try #require(Self.manifest).images.filter { $0.kind == "case" }
        #expect(cases.count >= 6)
        for entry in cases {
            let source = try Self.decode(entry.source)
            let expected = try Self.decode(entry.file)
            let resized = PillowBilinear.resize(rgb: source.pixels, width: source.width, height: source.height,
                                                newWidth: entry.width, newHeight: entry.height)
            #expect(resized == expected.pixels, "\(entry.file)")
        }
    }

    /// An image too low for the model, read with resizing on, gives what the
    /// image PIL resized to the nominal height gives (bit for bit).
    @Test func anImageTooLowIsResizedAsPILResizesIt() throws {
        let manifest = try #require(Self.manifest)
        let low = try #require(manifest.images.first { $0.kind == "too_low" })
        let byPIL = try #require(manifest.images.first { $0.kind == "too_low_resized_by_pil" })
        let recognizer = try TextRecognizer(contentsOf: TextRecognizerTests.binPath, cores: 1)
        let options = RecognitionOptions(resizesToModelHeight: true, includesLogits: true)
        let ours = try recognizer.recognize(file: Fixtures.url(low.file).path, options: options)
        let theirs = try recognizer.recognize(file: Fixtures.url(byPIL.file).path, options: options)
        #expect(ours == theirs)
        #expect(ours.logits?.timeSteps == (byPIL.width + 15) / 16)
        #expect(throws: RecognitionError.self) { try recognizer.recognize(file: Fixtures.url(low.file).path) }
    }
}
