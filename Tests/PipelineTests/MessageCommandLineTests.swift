import Foundation
import Testing
import TestSupport
@testable import CRNNFormat
@testable import Conversion

/// Results and messages as a user meets them at the command line: failed
/// writes, closed pipes, refused settings and the wording of errors
/// (issue 11, "Results and messages").
@Suite struct MessageCommandLineTests {
    static let enabled = CommandLineTests.binFolder != nil
    static let narrow = Fixtures.url("checkpoints/crnn/narrow_zip.pt").path

    static func run(_ tool: String, _ arguments: [String], environment: [String: String] = [:],
                    standardOutput: FileHandle? = nil, viaShell script: String? = nil) throws -> CommandLineTests.Run {
        try CommandLineTests.run(tool, arguments, environment: environment, standardOutput: standardOutput, viaShell: script)
    }

    /// The first `count` bundled sample images.
    static func samples(_ count: Int) throws -> [String] {
        Array(try FileManager.default.contentsOfDirectory(atPath: Fixtures.url("samples").path).sorted().prefix(count))
            .map { Fixtures.url("samples/" + $0).path }
    }

    /// The narrow model converted to a `.bin` in `folder`.
    static func narrowBin(in folder: URL) throws -> String {
        let output = folder.appendingPathComponent("narrow.bin").path
        try Converter.convert(input: narrow, output: output, sourceDigest: { _ in String(repeating: "0", count: 64) })
        return output
    }

    /// `run` failed with one line on stderr, starting `tool: ` and containing `text`.
    static func expectOneLineError(_ run: CommandLineTests.Run, _ tool: String, containing text: String,
                                   sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(run.status != 0, sourceLocation: sourceLocation)
        #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)", sourceLocation: sourceLocation)
        #expect(run.stderr.hasPrefix("\(tool): "), "\(run.stderr)", sourceLocation: sourceLocation)
        #expect(run.stderr.contains(text), "\(run.stderr)", sourceLocation: sourceLocation)
    }

    // MARK: - Failed writes

    /// Every command's results written to /dev/full: an error, not a silent cut.
    @Test(.enabled(if: enabled && FileManager.default.fileExists(atPath: "/dev/full")),
          arguments: ["crnn-inspect", "crnn-convert", "crnn-predict"])
    func resultsToAFullDeviceAreAnError(_ tool: String) throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let arguments = switch tool {
        case "crnn-inspect": [Self.narrow]
        case "crnn-convert": [Self.narrow, folder.appendingPathComponent("out.bin").path]
        default: [Self.narrow] + (try Self.samples(2))
        }
        let full = try #require(FileHandle(forWritingAtPath: "/dev/full"))
        defer { try? full.close() }
        let run = try Self.run(tool, arguments, standardOutput: full)
        Self.expectOneLineError(run, tool, containing: "cannot write to standard output: \(String(cString: strerror(ENOSPC)))")
    }

    /// `--help` is output too: into /dev/full it is an error, not exit 0.
    @Test(.enabled(if: enabled && FileManager.default.fileExists(atPath: "/dev/full")),
          arguments: ["crnn-inspect", "crnn-convert", "crnn-predict"])
    func helpToAFullDeviceIsAnError(_ tool: String) throws {
        let full = try #require(FileHandle(forWritingAtPath: "/dev/full"))
        defer { try? full.close() }
        let run = try Self.run(tool, ["--help"], standardOutput: full)
        Self.expectOneLineError(run, tool, containing: "cannot write to standard output: \(String(cString: strerror(ENOSPC)))")
        let shown = try Self.run(tool, ["--help"])
        #expect(shown.status == 0 && shown.stdout.hasPrefix("OVERVIEW: ") && shown.stderr.isEmpty)
    }

    /// Standard output closed (`>&-`): an error naming the bad descriptor.
    @Test(.enabled(if: enabled))
    func resultsToAClosedDescriptorAreAnError() throws {
        let run = try Self.run("crnn-inspect", [Self.narrow], viaShell: #"exec "$0" "$@" >&-"#)
        Self.expectOneLineError(run, "crnn-inspect", containing: "cannot write to standard output: \(String(cString: strerror(EBADF)))")
    }

    /// Standard error on /dev/full while the command fails: the line cannot
    /// be written, but the status still says the run failed.
    @Test(.enabled(if: enabled && FileManager.default.fileExists(atPath: "/dev/full")))
    func aFailingCommandWithAFullStandardErrorStillFails() throws {
        let run = try Self.run("crnn-inspect", ["/nonexistent/model.pt"], viaShell: #"exec "$0" "$@" 2>/dev/full"#)
        #expect(run.status == 1)
        #expect(run.stdout.isEmpty)
    }

    /// A warning that cannot be written (stderr on /dev/full) fails the run
    /// that would otherwise succeed.
    @Test(.enabled(if: enabled && FileManager.default.fileExists(atPath: "/dev/full")))
    func aWarningThatCannotBeWrittenFailsTheRun() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = Fixtures.url("checkpoints/messages/nonfinite.pt").path
        let output = folder.appendingPathComponent("out.bin").path
        let run = try Self.run("crnn-convert", [input, output], viaShell: #"exec "$0" "$@" 2>/dev/full"#)
        #expect(run.status == 1)
        let good = try Self.run("crnn-convert", [input, folder.appendingPathComponent("again.bin").path])
        #expect(good.status == 0, "\(good.stderr)")
    }

    /// A pipe whose reader has gone (`| head -1`) ends the command quietly,
    /// killed by SIGPIPE as the usual tools are (status 141 in the shell),
    /// also when SIGPIPE was ignored and the write returned EPIPE.
    @Test(.enabled(if: enabled), arguments: ["", "trap '' PIPE; "])
    func aClosedPipeIsQuiet(_ setup: String) throws {
        // `true` exits at once; the command writes after it, to a pipe with no reader.
        let script = setup + #"{ sleep 0.3; "$0" "$@"; echo "status $?" >&2; } | true"#
        for tool in ["crnn-inspect", "crnn-predict"] {
            let arguments = tool == "crnn-inspect" ? [Self.narrow] : [Self.narrow] + (try Self.samples(2))
            let run = try Self.run(tool, arguments, viaShell: script)
            // The shell's status for a command killed by a signal: 128 + its number.
            #expect(run.stderr == "status \(128 + SIGPIPE)\n", "\(tool): \(run.stderr)")
        }
    }

    // MARK: - --threads

    @Test(.enabled(if: enabled), arguments: ["9223372036854775807", "100000"])
    func absurdThreadCountsAreRefusedAtOnce(_ count: String) throws {
        let started = Date()
        let run = try Self.run("crnn-predict", [Self.narrow, "--threads", count] + (try Self.samples(1)))
        #expect(run.status != 0)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.contains("--threads must be at most"), "\(run.stderr)")
        #expect(Date().timeIntervalSince(started) < 10)
    }

    @Test(.enabled(if: enabled))
    func negativeThreadsMustBeAtLeastOne() throws {
        let run = try Self.run("crnn-predict", [Self.narrow, "--threads", "-1"] + (try Self.samples(1)))
        #expect(run.status != 0)
        #expect(run.stderr.contains("--threads must be at least 1"), "\(run.stderr)")
    }

    @Test(.enabled(if: enabled))
    func helpStatesTheLimits() throws {
        let help = try Self.run("crnn-predict", ["--help"])
        let text = help.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(text.contains("the larger of the core count and 64"), "\(help.stdout)")
        #expect(text.contains("16384"))
        #expect(text.contains("CMYK"))
    }

    // MARK: - Settings never silently ignored

    @Test(.enabled(if: enabled))
    func anUnknownVectorUnitIsAnError() throws {
        let run = try Self.run("crnn-predict", [Self.narrow] + (try Self.samples(1)), environment: ["CRNN_VECTOR_UNIT": "avx3"])
        Self.expectOneLineError(run, "crnn-predict", containing: "CRNN_VECTOR_UNIT is 'avx3'")
        #expect(run.stderr.contains("allowed values: avx512, avx2, portable"))
        #expect(run.stdout.isEmpty)
    }

    @Test(.enabled(if: enabled))
    func anAlphabetWithABinModelIsAnError() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = try Self.narrowBin(in: folder)
        let run = try Self.run("crnn-predict", [model, "--alphabet", "0123456789abcdefghijklmnopqrstuvwxyz"] + (try Self.samples(1)))
        Self.expectOneLineError(run, "crnn-predict", containing: "\(model): a .bin model stores its alphabet")
        #expect(run.stdout.isEmpty)
    }

    /// A tab, newline or other control character in an alphabet is refused
    /// before anything is written (it would break FILE<TAB>TEXT).
    @Test(.enabled(if: enabled), arguments: ["\t", "\n", "\u{7}"])
    func anAlphabetWithAControlCharacterIsRefused(_ control: String) throws {
        let alphabet = "abcdefghijklmnopqrstuvwxyz012345678" + control
        try CommandLineTests.convert("checkpoints/crnn/narrow_zip.pt", extra: ["--alphabet", alphabet]) { run, folder, _ throws in
            Self.expectOneLineError(run, "crnn-convert", containing: "control character U+")
            #expect(run.stderr.contains(Self.narrow))
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
        }
    }

    /// A .bin whose metadata says 2 classes and a one-letter alphabet over
    /// the narrow model's 37-class linear2 (written by the format's own
    /// writer, so the checksum is right) is refused, not predicted with.
    @Test(.enabled(if: enabled))
    func aBinWhoseMetadataContradictsItsTensorsIsRefused() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let prepared = try Converter.prepare(path: Self.narrow)
        var metadata = prepared.metadata
        metadata.sourceSHA256 = String(repeating: "0", count: 64)
        metadata.vocabularySize = 2
        metadata.alphabet = "a"
        let path = folder.appendingPathComponent("contradicted.bin").path
        try CRNNFileWriter.write(metadata: metadata, tensors: prepared.stateDict.entries, floatType: .float32,
                                 to: URL(fileURLWithPath: path))
        for (tool, arguments) in [("crnn-predict", [path] + (try Self.samples(1))), ("crnn-inspect", [path])] {
            let run = try Self.run(tool, arguments)
            Self.expectOneLineError(run, tool, containing: "\(path): the metadata says vocabulary_size 2 but the tensors give \(prepared.configuration.vocabularySize) classes")
            #expect(run.stdout.isEmpty)
        }
    }

    // MARK: - Wording

    /// A zip checkpoint cut short says so (libzip alone says "Not a zip archive").
    @Test(.enabled(if: enabled), arguments: ["crnn-inspect", "crnn-predict", "crnn-convert"])
    func aTruncatedCheckpointSaysTruncated(_ tool: String) throws {
        let path = Fixtures.url("checkpoints/messages/truncated.pt").path
        let expected = try #require(try Fixtures.json("checkpoints/messages/truncated.expected.json") as? [String: Any])
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int
        #expect(size == expected["size"] as? Int && size ?? 0 < expected["source_size"] as? Int ?? 0)
        let arguments = switch tool {
        case "crnn-convert": [path, FileManager.default.temporaryDirectory.appendingPathComponent("never-\(UUID()).bin").path]
        case "crnn-predict": [path] + (try Self.samples(1))
        default: [path]
        }
        let run = try Self.run(tool, arguments)
        Self.expectOneLineError(run, tool, containing: "\(path): damaged zip archive: truncated")
        #expect(!run.stderr.contains("Not a zip archive"))
    }

    /// 1 to 7 bytes of the CRNN-BIN magic are a cut-off .bin (spec, step 1).
    @Test(.enabled(if: enabled), arguments: [1, 4, 7])
    func aBinOfFewerThanEightBytesSaysTruncated(_ count: Int) throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("short.bin").path
        try Data(FileHeader.magic.prefix(count)).write(to: URL(fileURLWithPath: path))
        for (tool, arguments) in [("crnn-inspect", [path]), ("crnn-predict", [path] + (try Self.samples(1)))] {
            let run = try Self.run(tool, arguments)
            Self.expectOneLineError(run, tool, containing: "\(path): truncated: \(count) bytes present")
        }
    }

    @Test(.enabled(if: enabled))
    func aBinGivenToConvertIsAlreadyConverted() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = try Self.narrowBin(in: folder)
        let output = folder.appendingPathComponent("again.bin").path
        let run = try Self.run("crnn-convert", [model, output])
        Self.expectOneLineError(run, "crnn-convert", containing: "\(model): already a CRNN-BIN file")
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    /// crnn-inspect and crnn-predict take a .bin too, and say so when a file is neither.
    @Test(.enabled(if: enabled), arguments: ["random_bytes.pt", "empty_file.pt"])
    func formatErrorsMentionTheBin(_ file: String) throws {
        let path = Fixtures.url("checkpoints/hostile/" + file).path
        for (tool, arguments) in [("crnn-inspect", [path]), ("crnn-predict", [path] + (try Self.samples(1)))] {
            let run = try Self.run(tool, arguments)
            Self.expectOneLineError(run, tool, containing: "or a .bin written by crnn-convert")
        }
    }

    /// A path with a newline stays on one escaped line.
    @Test(.enabled(if: enabled))
    func aPathWithANewlineIsShownEscaped() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("two\nlines.pt").path
        let run = try Self.run("crnn-inspect", [path])
        Self.expectOneLineError(run, "crnn-inspect", containing: path.replacingOccurrences(of: "\n", with: "\\n") + ": ")
    }

    /// An image whose name has a tab or newline keeps FILE<TAB>TEXT one line per image.
    @Test(.enabled(if: enabled))
    func anImageNameWithControlCharactersIsEscapedInTheOutput() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let image = folder.appendingPathComponent("a\tb\nc.png").path
        try FileManager.default.copyItem(atPath: try Self.samples(1)[0], toPath: image)
        let run = try Self.run("crnn-predict", [Self.narrow, image])
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 2 && lines[1].isEmpty, "\(run.stdout)")
        #expect(lines[0].hasPrefix(folder.path + "/a\\tb\\nc.png\t"), "\(run.stdout)")
    }

    @Test(.enabled(if: enabled))
    func anEmptyOutputPathIsNamedAsEmpty() throws {
        let run = try Self.run("crnn-convert", [Self.narrow, ""])
        Self.expectOneLineError(run, "crnn-convert", containing: "the output path is empty")
    }

    /// OpenBLAS that cannot be used (here a library without its symbols,
    /// found first on LD_LIBRARY_PATH) is reported as such, not as a fault
    /// of the image being predicted.
    @Test(.enabled(if: enabled))
    func aFailingOpenBLASIsNotBlamedOnAnImage() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        // Any shared library other than OpenBLAS: libpng's, which this test process links
        // for the image decoders (the mapped file itself, not a symbolic link to it).
        // Read to the end: /proc files report a size of 0.
        let maps = String(decoding: try #require(FileHandle(forReadingAtPath: "/proc/self/maps")).readDataToEndOfFile(), as: UTF8.self)
        let impostor = try #require(maps.split(separator: "\n").compactMap { $0.split(separator: " ").last.map(String.init) }
            .first { $0.hasPrefix("/") && $0.contains("libpng") })
        let library = URL(fileURLWithPath: impostor).resolvingSymlinksInPath().path
        for name in ["libopenblas.so.0", "libopenblas.so"] {
            try FileManager.default.copyItem(atPath: library, toPath: folder.appendingPathComponent(name).path)
        }
        let image = try Self.samples(1)[0]
        // Required (CRNN_BLAS=openblas): the machine's fault, in one line that names no image.
        let run = try Self.run("crnn-predict", [Self.narrow, image],
                               environment: ["LD_LIBRARY_PATH": folder.path, "CRNN_VECTOR_UNIT": "portable", "CRNN_BLAS": "openblas"])
        Self.expectOneLineError(run, "crnn-predict", containing: "cannot open OpenBLAS")
        #expect(!run.stderr.contains(image), "\(run.stderr)")
        // Left to choose: the built-in product runs instead, with the same text as OpenBLAS gives.
        let fallback = try Self.run("crnn-predict", [Self.narrow, image],
                                    environment: ["LD_LIBRARY_PATH": folder.path, "CRNN_VECTOR_UNIT": "portable"])
        let reference = try Self.run("crnn-predict", [Self.narrow, image], environment: ["CRNN_VECTOR_UNIT": "portable"])
        #expect(fallback.status == 0, "\(fallback.stderr)")
        #expect(!fallback.stdout.isEmpty && fallback.stdout == reference.stdout, "\(fallback.stdout) vs \(reference.stdout)")
    }

    @Test(.enabled(if: enabled))
    func anUnknownMatrixProductIsAnError() throws {
        let run = try Self.run("crnn-predict", [Self.narrow] + (try Self.samples(1)), environment: ["CRNN_BLAS": "mkl"])
        Self.expectOneLineError(run, "crnn-predict", containing: "CRNN_BLAS is 'mkl'; allowed values: openblas, builtin")
        #expect(run.stdout.isEmpty)
    }

    /// NaN and infinite weights convert, with a warning naming the tensors
    /// PyTorch itself finds non-finite.
    @Test(.enabled(if: enabled))
    func nonFiniteWeightsGiveAWarningNamingTheTensors() throws {
        let expected = try #require(try Fixtures.json("checkpoints/messages/nonfinite.expected.json") as? [String: Any])
        let names = try #require(expected["nonfinite_tensors"] as? [String])
        #expect(!names.isEmpty)
        try CommandLineTests.convert("checkpoints/messages/nonfinite.pt") { run, _, output throws in
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
            #expect(run.stderr.hasPrefix("crnn-convert: warning: "))
            #expect(run.stderr.contains("NaN or infinite weights in " + names.joined(separator: ", ") + ";"), "\(run.stderr)")
            #expect(FileManager.default.fileExists(atPath: output))
        }
        try CommandLineTests.convert("checkpoints/crnn/narrow_zip.pt") { run, _, _ in
            #expect(run.status == 0 && run.stderr.isEmpty, "\(run.stderr)")
        }
        // crnn-predict converts a .pt in memory: the same warning, and the results still.
        let images = try Self.samples(2)
        let predicted = try Self.run("crnn-predict", [Fixtures.url("checkpoints/messages/nonfinite.pt").path] + images)
        #expect(predicted.status == 0, "\(predicted.stderr)")
        #expect(predicted.stderr.hasPrefix("crnn-predict: warning: ") && predicted.stderr.split(separator: "\n").count == 1)
        #expect(predicted.stderr.contains("NaN or infinite weights in " + names.joined(separator: ", ") + ";"), "\(predicted.stderr)")
        #expect(predicted.stdout.split(separator: "\n").count == images.count)
    }
}
