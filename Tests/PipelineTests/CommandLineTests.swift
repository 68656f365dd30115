import Foundation
import Testing
import TestSupport
@testable import CRNNFormat

/// The commands as a user runs them: exit status, one-line errors on stderr,
/// the documented JSON.
@Suite struct CommandLineTests {
    /// The built executables' folder (beside the test bundle).
    static let binFolder: URL? = {
        let folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        return [folder, folder.deletingLastPathComponent(), Fixtures.repositoryRoot.appendingPathComponent(".build/debug")]
            .first { FileManager.default.isExecutableFile(atPath: $0.appendingPathComponent("crnn-inspect").path) }
    }()

    struct Run {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// Runs `tool` (a built executable, or with `viaShell` a `/bin/sh -c`
    /// script that gets the tool's path as `$0`) to its end; standard output
    /// goes to `standardOutput` when given (then `stdout` is empty), else it is
    /// captured.
    static func run(_ tool: String, _ arguments: [String], environment: [String: String] = [:],
                    standardOutput: FileHandle? = nil, viaShell script: String? = nil) throws -> Run {
        let folder = try #require(binFolder)
        let process = Process()
        let executable = folder.appendingPathComponent(tool)
        if let script {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", script, executable.path] + arguments
        } else {
            process.executableURL = executable
            process.arguments = arguments
        }
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = standardOutput ?? out
        process.standardError = err
        try process.run()
        let stdout = standardOutput == nil ? out.fileHandleForReading.readDataToEndOfFile() : Data()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                   stderr: String(decoding: stderr, as: UTF8.self))
    }

    @Test(.enabled(if: binFolder != nil), arguments: ["checkpoints/dtypes_legacy", "checkpoints/views_zip", "checkpoints/crnn/narrow_module_prefix"])
    func inspectJSONListsPyTorchsNamesDtypesAndShapes(_ fixture: String) throws {
        let run = try Self.run("crnn-inspect", [Fixtures.url(fixture + ".pt").path, "--json"])
        #expect(run.status == 0)
        #expect(run.stderr.isEmpty)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let tensors = try #require(json["tensors"] as? [[String: Any]])
        let expected = try #require(try Fixtures.json(fixture + ".expected.json") as? [String: Any])
        let want = try #require(expected["tensors"] as? [[String: Any]])
        #expect(tensors.map { $0["name"] as? String } == want.map { $0["name"] as? String })
        #expect(tensors.map { $0["dtype"] as? String } == want.map { $0["dtype"] as? String })
        #expect(tensors.map { $0["shape"] as? [Int] } == want.map { $0["shape"] as? [Int] })
    }

    @Test(.enabled(if: binFolder != nil), arguments: ["os_system_legacy.pt", "subprocess_popen_zip.pt", "random_bytes.pt", "empty_file.pt"])
    func badInputIsOneLineAndExitOne(_ file: String) throws {
        let path = Fixtures.url("checkpoints/hostile/" + file).path
        let run = try Self.run("crnn-inspect", [path])
        #expect(run.status == 1)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
        #expect(run.stderr.hasPrefix("crnn-inspect: \(path): "))
    }

    /// Runs crnn-convert on `fixture` into `out.bin` in a fresh folder (with
    /// `extra` arguments after the two paths), then `check`s the run, the
    /// folder and the output path (the folder is removed after).
    static func convert(_ fixture: String, extra: [String] = [],
                        check: (Run, _ folder: URL, _ output: String) throws -> Void) throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("out.bin").path
        try check(try run("crnn-convert", [Fixtures.url(fixture).path, output] + extra), folder, output)
    }

    @Test(.enabled(if: binFolder != nil))
    func convertFailureWritesNothingAndSaysWhy() throws {
        try Self.convert("checkpoints/crnn/broken_wrong_shape.pt") { run, folder, _ throws in
            #expect(run.status == 1)
            #expect(run.stderr.split(separator: "\n").count == 1)
            #expect(run.stderr.contains("linear2.weight: expected [37, 48], found [36, 48]"))
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
        }
    }

    /// crnn-convert records the checkpoint's SHA-256 (as Python's hashlib
    /// computed it when the reference outputs were recorded).
    @Test(.enabled(if: binFolder != nil))
    func convertRecordsTheSourceSHA256() throws {
        let reference = try #require(try Fixtures.json("model/reference-batch1.json") as? [String: Any])
        #expect(reference["model_file"] as? String == "crnn.pt")
        let recorded = try #require(reference["model_sha256"] as? String)
        try Self.convert("model/crnn.pt") { run, _, output throws in
            #expect(run.status == 0, "\(run.stderr)")
            #expect(try CRNNFile.open(path: output).metadata.sourceSHA256 == recorded)
        }
    }

    @Test(.enabled(if: binFolder != nil))
    func predictPrintsTabSeparatedAndJSONLines() throws {
        let model = Fixtures.url("checkpoints/crnn/narrow_zip.pt").path
        let images = Array(try FileManager.default.contentsOfDirectory(atPath: Fixtures.url("samples").path).sorted().prefix(3))
            .map { Fixtures.url("samples/" + $0).path }
        let plain = try Self.run("crnn-predict", [model] + images)
        #expect(plain.status == 0)
        let lines = plain.stdout.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(zip(lines, images).allSatisfy { $0.hasPrefix($1 + "\t") })
        let json = try Self.run("crnn-predict", [model, "--json", "--logits"] + images)
        #expect(json.status == 0)
        for (line, image) in zip(json.stdout.split(separator: "\n"), images) {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(object["file"] as? String == image)
            #expect(object["text"] is String)
            let logits = try #require(object["logits"] as? [[Double]])
            #expect(logits.count == 13 && logits.allSatisfy { $0.count == 37 })
        }
        let usage = try Self.run("crnn-predict", [model, "--logits", images[0]])
        #expect(usage.status != 0, "--logits without --json is refused")
    }

    /// `CRNN_VECTOR_UNIT` picks the kernels a command runs on: the portable
    /// Swift loops, the AVX-512 ones and the AVX2 ones (each where the CPU has
    /// it; elsewhere that run is portable) give the same texts and logits
    /// within float rounding.
    @Test(.enabled(if: binFolder != nil))
    func bothVectorUnitsPredictAlike() throws {
        let model = Fixtures.url("checkpoints/crnn/narrow_zip.pt").path
        let images = Array(try FileManager.default.contentsOfDirectory(atPath: Fixtures.url("samples").path).sorted().prefix(4))
            .map { Fixtures.url("samples/" + $0).path }
        var results: [[(text: String, logits: [Double])]] = []
        for unit in ["portable", "avx512", "avx2"] {
            let run = try Self.run("crnn-predict", [model, "--json", "--logits"] + images,
                                   environment: ["CRNN_VECTOR_UNIT": unit])
            #expect(run.status == 0, "\(run.stderr)")
            results.append(try run.stdout.split(separator: "\n").map { line in
                let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                return (try #require(object["text"] as? String), try #require(object["logits"] as? [[Double]]).flatMap { $0 })
            })
        }
        #expect(results.allSatisfy { $0.count == images.count })
        for other in results.dropFirst() {
            for (portable, vector) in zip(results[0], other) {
                #expect(portable.text == vector.text)
                #expect(portable.logits.count == vector.logits.count)
                #expect(zip(portable.logits, vector.logits).allSatisfy { abs($0 - $1) <= 1e-4 })
            }
        }
    }
}
