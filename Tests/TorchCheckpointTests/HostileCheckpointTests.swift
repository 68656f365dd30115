import Foundation
import Testing
import TestSupport
@testable import TensorCore
@testable import TorchCheckpoint

/// Hostile and broken files are refused with their specific error, never a trap.
@Suite struct HostileCheckpointTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let file: String
        let expectSubstring: String
        var testDescription: String { file }
    }

    static let cases = cases(listedIn: "checkpoints/hostile/manifest.json")

    /// The files and expected substrings of a hostile-fixture manifest.
    static func cases(listedIn manifest: String) -> [Case] {
        guard let list = (try? Fixtures.json(manifest)) as? [[String: Any]] else { return [] }
        return list.compactMap { entry in
            guard let file = entry["file"] as? String, let substring = entry["expect_substring"] as? String else { return nil }
            return Case(file: file, expectSubstring: substring)
        }
    }

    @Test func manifestIsPresent() { #expect(Self.cases.count >= 15) }

    @Test(arguments: cases)
    func refused(_ hostile: Case) throws {
        let path = Fixtures.url("checkpoints/hostile/" + hostile.file).path
        let error = #expect(throws: CheckpointError.self) {
            let checkpoint = try TorchCheckpoint.open(path: path, options: CheckpointOptions(allowPickledModules: true))
            _ = try checkpoint.loadStateDict()
        }
        let message = String(describing: error)
        #expect(message.localizedCaseInsensitiveContains(hostile.expectSubstring), "\(message)")
        #expect(message.contains(path), "the message names the file: \(message)")
        #expect(!message.contains("\n"))
    }

    static let truncationSources = ["checkpoints/views_zip.pt", "checkpoints/views_legacy.pt", "checkpoints/protocol4_legacy.pt"]

    /// Every prefix of a real checkpoint is refused cleanly.
    @Test(arguments: truncationSources)
    func truncatedAnywhere(_ relativePath: String) throws {
        let bytes = try [UInt8](Data(contentsOf: Fixtures.url(relativePath)))
        let step = max(1, bytes.count / 400)
        for length in stride(from: 0, to: bytes.count, by: step) {
            let buffer = ByteBuffer(copying: bytes[0..<length])
            #expect(throws: CheckpointError.self, "length \(length)") {
                let checkpoint = try TorchCheckpoint(buffer: buffer, fileName: "cut.pt")
                _ = try checkpoint.loadStateDict()
            }
        }
    }

    /// Single flipped bytes never trap: each gives a checkpoint or an error.
    @Test func flippedBytesNeverTrap() throws {
        let bytes = try [UInt8](Data(contentsOf: Fixtures.url("checkpoints/views_legacy.pt")))
        var refused = 0
        for index in stride(from: 0, to: bytes.count, by: 3) {
            var damaged = bytes
            damaged[index] ^= 0xA5
            do {
                let checkpoint = try TorchCheckpoint(buffer: ByteBuffer(copying: damaged), fileName: "flip.pt")
                _ = try checkpoint.loadStateDict()
            } catch {
                // Typed throws: every refusal is a CheckpointError by the signature.
                refused += 1
            }
        }
        #expect(refused > 0)
    }
}
