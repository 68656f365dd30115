import Foundation
import Testing
import TestSupport
@testable import CRNNFormat

/// crnn-convert killed at any moment leaves the previous output untouched or a
/// complete new one, never a truncated file.
@Suite struct CrashSafetyTests {
    /// The built crnn-convert beside the test bundle (swift build --build-tests builds it).
    static let converter: String? = {
        let folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [folder, folder.deletingLastPathComponent(), Fixtures.repositoryRoot.appendingPathComponent(".build/debug")]
        return candidates.map { $0.appendingPathComponent("crnn-convert").path }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    @Test(.enabled(if: converter != nil, "crnn-convert is not built beside the tests"))
    func sigkillNeverLeavesAHalfWrittenFile() throws {
        let converter = try #require(Self.converter)
        let trained = Fixtures.url("model/crnn.pt").path
        let input = FileManager.default.fileExists(atPath: trained) ? trained : Fixtures.url("checkpoints/crnn/narrow_float64.pt").path
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("model.bin")
        let previous = Data("the previous output".utf8)
        try previous.write(to: output)

        // How long a whole conversion takes, to spread the kills across it.
        let started = Date()
        let complete = Process()
        complete.executableURL = URL(fileURLWithPath: converter)
        complete.arguments = [input, folder.appendingPathComponent("reference.bin").path]
        complete.standardOutput = FileHandle.nullDevice
        try complete.run()
        complete.waitUntilExit()
        #expect(complete.terminationStatus == 0)
        let duration = Date().timeIntervalSince(started)

        var killedEarly = 0
        for round in 0..<16 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: converter)
            process.arguments = [input, output.path]
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            usleep(UInt32(duration * 1_000_000 * Double(round) / 16))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            if process.terminationReason == .uncaughtSignal { killedEarly += 1 }
            let now = try Data(contentsOf: output)
            if now != previous {
                // Whatever is there must be a complete, checksum-valid file.
                #expect(throws: Never.self, "round \(round): output replaced by a broken file") {
                    _ = try CRNNFile.open(path: output.path)
                }
            }
        }
        #expect(killedEarly > 0, "no run was interrupted; the test proved nothing")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".tmp") }
        // SIGKILL cannot be cleaned up after: temporary files may remain, hidden and named as such, never as the output.
        #expect(leftovers.allSatisfy { $0.hasPrefix(".model.bin.") })
    }
}
