import Crypto
import Foundation
import Testing
import TestSupport
@testable import ImageDecoding

/// Every image fixture decodes to exactly PIL's `convert('RGB')` bytes.
@Suite struct ImageDecoderTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let file: String
        let expect: String
        let width: Int
        let height: Int
        let sha256: String
        let firstPixels: [UInt8]
        var testDescription: String { file }
    }

    static let cases: [Case] = {
        guard let list = (try? Fixtures.json("images/manifest.json")) as? [[String: Any]] else { return [] }
        return list.map { entry in
            Case(file: entry["file"] as? String ?? "", expect: entry["expect"] as? String ?? "",
                 width: entry["width"] as? Int ?? 0, height: entry["height"] as? Int ?? 0,
                 sha256: entry["rgb_sha256"] as? String ?? "",
                 firstPixels: (entry["first_pixels"] as? [Int] ?? []).map { UInt8(clamping: $0) })
        }
    }()

    @Test func manifestCoversEveryKind() { #expect(Self.cases.count >= 50) }

    @Test(arguments: cases)
    func matchesPIL(_ image: Case) throws {
        let path = Fixtures.url(image.file).path
        if image.expect == "refused" {
            #expect(throws: ImageDecodingError.self) { try ImageDecoder.decode(path: path) }
            return
        }
        let decoded = try ImageDecoder.decode(path: path)
        #expect(decoded.width == image.width && decoded.height == image.height)
        #expect(Array(decoded.pixels.prefix(image.firstPixels.count)) == image.firstPixels)
        let digest = SHA256.hash(data: decoded.pixels).map { String(format: "%02x", $0) }.joined()
        #expect(digest == image.sha256, "\(image.file): pixels differ from PIL's")
    }

    /// The byte-to-float conversion equals torch's bit for bit for all 256 values.
    @Test func scalingMatchesTorch() throws {
        let json = try #require(try Fixtures.json("images/byte_scale.json") as? [String: Any])
        let bits = try #require(json["bits"] as? [Int])
        #expect(bits.count == 256)
        let image = try RGBImage(width: 256, height: 1, pixels: (0..<256).flatMap { [UInt8($0), UInt8($0), UInt8($0)] })
        let planes = image.planarFloats()
        for value in 0..<256 {
            #expect(planes[value].bitPattern == UInt32(truncatingIfNeeded: bits[value]), "byte \(value)")
            #expect(planes[512 + value] == planes[value])
        }
    }

    /// Truncated, empty, random and oversized inputs give errors, never a trap.
    @Test(arguments: ["images/rgb8_interlaced.png", "images/jpeg420.jpg", "images/jpeg_progressive.jpg", "images/palette4.png"])
    func truncatedImagesAreRefused(_ file: String) throws {
        let bytes = try [UInt8](Data(contentsOf: Fixtures.url(file)))
        // Up to 90%: every cut loses pixel data (PIL also accepts a JPEG missing only its end marker).
        for length in stride(from: 0, to: bytes.count * 9 / 10, by: max(1, bytes.count / 60)) {
            do {
                _ = try ImageDecoder.decode(bytes: Array(bytes[0..<length]), name: "cut")
                Issue.record("\(file) cut at \(length) of \(bytes.count) bytes decoded")
            } catch {
                #expect(error is ImageDecodingError)
            }
        }
    }

    @Test func hostileHeadersAreRefusedBeforeAllocating() throws {
        // A PNG declaring 100000 x 100000 pixels.
        var bytes = try [UInt8](Data(contentsOf: Fixtures.url("images/rgb8.png")))
        bytes.replaceSubrange(16..<24, with: [0, 1, 0x86, 0xA0, 0, 1, 0x86, 0xA0])
        #expect(throws: ImageDecodingError.self) { try ImageDecoder.decode(bytes: bytes, name: "huge.png") }
        #expect(throws: ImageDecodingError.unknownFormat(file: "empty.png", found: "nothing: the file is empty")) {
            try ImageDecoder.decode(bytes: [], name: "empty.png")
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            var noise = (0..<300).map { _ in UInt8.random(in: 0...255, using: &generator) }
            noise.replaceSubrange(0..<3, with: [0xFF, 0xD8, 0xFF])
            _ = try? ImageDecoder.decode(bytes: noise, name: "noise.jpg")
        }
        #expect(throws: ImageDecodingError.self) { try ImageDecoder.decode(path: "/no/such/file.png") }
    }
}

/// Reading from a path: what cannot be read and what is not an image say so.
@Suite struct ImagePathTests {
    @Test func unreadablePathsGiveTheSystemsReason() throws {
        let missing = "/no/such/file.png"
        #expect(throws: ImageDecodingError.unreadable(file: missing, reason: String(cString: strerror(ENOENT)))) {
            try ImageDecoder.decode(path: missing)
        }
        let folder = Fixtures.url("images").path
        #expect(throws: ImageDecodingError.unreadable(file: folder, reason: "not a regular file")) {
            try ImageDecoder.decode(path: folder)
        }
    }

    @Test func otherFilesAreNamedByTheirFirstBytes() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let empty = folder.appendingPathComponent("empty.png").path
        #expect(FileManager.default.createFile(atPath: empty, contents: Data()))
        #expect(throws: ImageDecodingError.unknownFormat(file: empty, found: "nothing: the file is empty")) {
            try ImageDecoder.decode(path: empty)
        }
        let manifest = Fixtures.url("images/manifest.json").path
        let start = try [UInt8](Data(contentsOf: URL(fileURLWithPath: manifest)).prefix(8))
        let found = start.map { String(format: "%02x", $0) }.joined(separator: " ")
        #expect(throws: ImageDecodingError.unknownFormat(file: manifest, found: found)) { try ImageDecoder.decode(path: manifest) }
    }
}

/// Both decoders refuse an image over the size limit with the same line,
/// before allocating its pixels.
@Suite struct ImageSizeLimitTests {
    @Test func aPNGAndAJPEGOverTheLimitGiveTheSameLine() throws {
        let sizes = try #require(try Fixtures.json("images/messages/too_wide.json") as? [String: [Int]])
        var lines: [String] = []
        for format in ["png", "jpg"] {
            let size = try #require(sizes[format])
            #expect(size[0] > Int(ImageDecoder.maximumSide), "the fixture must be over the limit")
            let path = Fixtures.url("images/messages/too_wide." + format).path
            do {
                _ = try ImageDecoder.decode(path: path)
                Issue.record("\(format): an image over the limit was decoded")
            } catch let ImageDecodingError.tooLarge(file, reason) {
                #expect(file == path)
                #expect(reason == "\(size[0])x\(size[1]) pixels, over the limit of \(ImageDecoder.maximumSide) per side", "\(reason)")
                lines.append(ImageDecodingError.tooLarge(file: "IMAGE", reason: reason).description)
            }
        }
        #expect(lines.count == 2 && lines[0] == lines[1])
        #expect(lines.first?.hasPrefix("IMAGE: image too large: ") == true)
    }
}

/// A large image cut short (PIL refuses both files, as the fixture records) is
/// refused as damaged without decoding the rows it has no data for: libjpeg
/// would pad them with grey and only warn, so a 4 KB file declaring 9000 x
/// 9000 pixels made the decoder fill 243 MB of pixels before refusing it.
@Suite(.serialized) struct TruncatedLargeImageTests {
    /// The process's peak resident memory, in bytes.
    static func peakResidentBytes() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss * 1024
    }

    @Test(arguments: ["png", "jpg"])
    func aTruncatedLargeImageIsRefusedBeforeItsPixelsAreFilled(format: String) throws {
        let record = try #require(try Fixtures.json("images/messages/truncated_large.json") as? [String: [String: Any]])
        let entry = try #require(record[format])
        let size = try #require(entry["size"] as? [Int])
        #expect(entry["pil_refuses"] is String, "PIL must refuse the fixture")
        let path = Fixtures.url("images/messages/truncated_large." + format).path
        let before = Self.peakResidentBytes()
        do {
            _ = try ImageDecoder.decode(path: path)
            Issue.record("\(format): a truncated image was decoded")
        } catch let ImageDecodingError.corrupt(file, _, reason) {
            #expect(file == path)
            #expect(!reason.isEmpty)
        }
        // The pixels are 3 bytes each; filling even half of them would raise the peak this much.
        let filled = size[0] * size[1] * 3 / 2
        #expect(Self.peakResidentBytes() - before < filled, "the decoder filled the pixels of a truncated \(format)")
    }
}
