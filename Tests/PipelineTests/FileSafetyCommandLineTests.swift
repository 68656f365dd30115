import Foundation
import Testing
import TestSupport

/// Issue 11 at the level a user meets it, with the built commands: inputs
/// that are not regular files are refused at once (never waited on), outputs
/// that are not regular files are left alone, a damaged zip record is named,
/// a signal leaves no temporary file, and a file changed while a tool reads
/// it never ends the tool by a signal.
@Suite struct FileSafetyCommandLineTests {
    static var enabled: Bool { CommandLineTests.binFolder != nil }

    /// A command started in the background as a shell starts it (no signal
    /// blocked or ignored: the test runner's threads block some, and
    /// Foundation's `Process` passes its mask on), its output going to files
    /// so that a test can wait with a deadline or act while it runs.
    final class Started {
        let pid: pid_t
        let folder: URL
        private var status: Int32?

        init(_ tool: String, _ arguments: [String]) throws {
            folder = try Fixtures.temporaryDirectory()
            let executable = try #require(CommandLineTests.binFolder).appendingPathComponent(tool).path
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, 1, folder.appendingPathComponent("out").path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            posix_spawn_file_actions_addopen(&actions, 2, folder.appendingPathComponent("err").path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            var attributes = posix_spawnattr_t()
            posix_spawnattr_init(&attributes)
            defer { posix_spawnattr_destroy(&attributes) }
            var none = sigset_t(), all = sigset_t()
            sigemptyset(&none)
            sigfillset(&all)
            posix_spawnattr_setsigmask(&attributes, &none)
            posix_spawnattr_setsigdefault(&attributes, &all)
            posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
            let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
            defer { argv.forEach { free($0) } }
            var pid: pid_t = 0
            let result = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
            try #require(result == 0, "posix_spawn \(executable): \(String(cString: strerror(result)))")
            self.pid = pid
        }

        /// True while the command runs (reaps it once it has ended).
        var isRunning: Bool {
            guard status == nil else { return false }
            var raw: Int32 = 0
            guard waitpid(pid, &raw, WNOHANG) == pid else { return true }
            status = raw
            return false
        }

        /// Waits until the command ends or `seconds` pass (then kills it);
        /// true when it ended by itself.
        func wait(seconds: Double) -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while isRunning && Date() < deadline { usleep(2000) }
            guard isRunning else { return true }
            kill(pid, SIGKILL)
            var raw: Int32 = 0
            _ = waitpid(pid, &raw, 0)
            status = raw
            return false
        }

        var stdout: String { (try? String(contentsOf: folder.appendingPathComponent("out"), encoding: .utf8)) ?? "" }
        var stderr: String { (try? String(contentsOf: folder.appendingPathComponent("err"), encoding: .utf8)) ?? "" }
        /// The signal that ended the command, if one did.
        var signal: Int32? {
            guard let status, status & 0x7F != 0 else { return nil }
            return status & 0x7F
        }
        /// The exit status, if it exited.
        var exitStatus: Int32? {
            guard let status, status & 0x7F == 0 else { return nil }
            return (status >> 8) & 0xFF
        }

        func remove() { try? FileManager.default.removeItem(at: folder) }
    }

    /// Runs `tool` to its end (at most 60 s: a run that blocks fails the test).
    static func finished(_ tool: String, _ arguments: [String]) throws -> Started {
        let run = try Started(tool, arguments)
        #expect(run.wait(seconds: 60), "\(tool) \(arguments) did not end within 60 s")
        return run
    }

    /// Expects the run to have failed with exactly one line that names `path` and says `says`.
    static func expectOneLineError(_ run: Started, _ tool: String, naming path: String, saying says: String) {
        #expect(run.exitStatus == 1, "\(tool): \(run.stderr)")
        let lines = run.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(run.stderr)")
        #expect(run.stderr.hasPrefix("\(tool): ") && run.stderr.contains(path) && run.stderr.contains(says), "\(run.stderr)")
    }

    static let model = Fixtures.url("checkpoints/crnn/narrow_zip.pt").path
    static var sample: String {
        get throws {
            let name = try #require(try FileManager.default.contentsOfDirectory(atPath: Fixtures.url("samples").path).sorted().first)
            return Fixtures.url("samples/" + name).path
        }
    }

    /// A FIFO (with no writer: a plain open for reading would wait for one
    /// forever), a socket or a device given as any input of any tool, or
    /// found in an image folder, gives the "not a regular file" line at once.
    @Test(.enabled(if: enabled), arguments: [SpecialFile.fifo, .socket, .device])
    func nonRegularInputsAreRefusedAtOnce(_ kind: SpecialFile) throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let node = folder.appendingPathComponent("node.png").path
        guard try SpecialFile.make(kind, at: node) != nil else { return }
        let images = folder.appendingPathComponent("images")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: false)
        try FileManager.default.copyItem(atPath: try Self.sample, toPath: images.appendingPathComponent("a.png").path)
        let inFolder = images.appendingPathComponent("b.png").path
        _ = try SpecialFile.make(kind, at: inFolder)
        let output = folder.appendingPathComponent("out.bin").path
        let cases: [(tool: String, arguments: [String], named: String)] = [
            ("crnn-inspect", [node], node),
            ("crnn-inspect", [node, "--stats"], node),
            ("crnn-convert", [node, output], node),
            ("crnn-predict", [node, try Self.sample], node),
            ("crnn-predict", [Self.model, node], node),
            ("crnn-predict", [Self.model, images.path], inFolder),
            ("crnn-predict", [Self.model, "--verify", node], node),
        ]
        for (tool, arguments, named) in cases {
            let run = try Self.finished(tool, arguments)
            defer { run.remove() }
            Self.expectOneLineError(run, tool, naming: named, saying: "not a regular file")
        }
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    /// An existing OUT that is a FIFO, socket, folder or device node is
    /// refused with one line and left exactly as it was.
    @Test(.enabled(if: enabled), arguments: SpecialFile.allCases)
    func nonRegularOutputIsRefusedAndKept(_ kind: SpecialFile) throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("out.bin").path
        guard let kindName = try SpecialFile.make(kind, at: output) else { return }
        let before = try SpecialFile.identity(output)
        let run = try Self.finished("crnn-convert", [Self.model, output])
        defer { run.remove() }
        Self.expectOneLineError(run, "crnn-convert", naming: output, saying: "is \(kindName), not a regular file")
        #expect(try SpecialFile.identity(output) == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["out.bin"])
    }

    /// `OUT/` that does not exist is an error, and no file named without the slash appears.
    @Test(.enabled(if: enabled))
    func outputWithATrailingSlashIsAnError() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("out.bin").path
        let run = try Self.finished("crnn-convert", [Self.model, output + "/"])
        defer { run.remove() }
        Self.expectOneLineError(run, "crnn-convert", naming: output, saying: "names a folder")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
    }

    /// SIGINT, SIGTERM and SIGHUP while the output is being written remove
    /// the temporary file, and the process ends by that signal (a shell
    /// shows 130, 143, 129). The signal is sent once the temporary file is
    /// seen in the output folder.
    @Test(.enabled(if: enabled), arguments: [SIGINT, SIGTERM, SIGHUP])
    func aSignalDuringTheWriteRemovesTheTemporaryFile(_ signal: Int32) throws {
        var caught = false
        for _ in 0..<3 where !caught {
            let folder = try Fixtures.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: folder) }
            let run = try Started("crnn-convert", [Fixtures.url("model/crnn.pt").path, folder.appendingPathComponent("out.bin").path])
            defer { run.remove() }
            let deadline = Date().addingTimeInterval(60)
            while run.isRunning && Date() < deadline {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
                if names.contains(where: { $0.hasSuffix(".tmp") }) {
                    kill(run.pid, signal)
                    caught = true
                    break
                }
                usleep(500)
            }
            #expect(run.wait(seconds: 60))
            guard caught else { continue }  // ended before the temporary file was seen: try again
            #expect(run.signal == signal, "exit status \(run.exitStatus ?? -1): \(run.stderr)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty, "temporary file left behind")
        }
        #expect(caught, "the temporary file was never seen while crnn-convert ran")
    }

    /// A copy of the narrow checkpoint with one byte flipped in its first
    /// tensor record: every tool that reads tensors refuses it, naming the
    /// record; reading only the pickle (plain crnn-inspect) still works.
    @Test(.enabled(if: enabled))
    func aFlippedTensorByteIsRefusedByEveryToolThatReadsTensors() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.model)))
        let (record, data) = try #require(Self.firstTensorRecord(in: bytes))
        bytes[data + 2] ^= 0x01
        let flipped = folder.appendingPathComponent("flipped.pt").path
        try Data(bytes).write(to: URL(fileURLWithPath: flipped))
        let output = folder.appendingPathComponent("out.bin").path
        for (tool, arguments) in [("crnn-convert", [flipped, output]), ("crnn-inspect", [flipped, "--stats"]),
                                  ("crnn-predict", [flipped, try Self.sample])] {
            let run = try Self.finished(tool, arguments)
            defer { run.remove() }
            Self.expectOneLineError(run, tool, naming: flipped, saying: "zip record '\(record)' (tensor")
            #expect(run.stderr.contains("CRC-32"))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["flipped.pt"])
        let plain = try Self.finished("crnn-inspect", [flipped])
        defer { plain.remove() }
        #expect(plain.exitStatus == 0, "\(plain.stderr)")
    }

    /// The name and data offset of the first stored record named
    /// `<root>/data/<key>` (a tensor storage), from its local header.
    static func firstTensorRecord(in bytes: [UInt8]) -> (String, Int)? {
        func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
        var at = 0
        while at + 30 <= bytes.count {
            if bytes[at..<(at + 4)].elementsEqual([0x50, 0x4B, 0x03, 0x04]) {
                let nameLength = u16(at + 26), extraLength = u16(at + 28)
                let name = String(decoding: bytes[(at + 30)..<min(bytes.count, at + 30 + nameLength)], as: UTF8.self)
                let parts = name.split(separator: "/")
                let data = at + 30 + nameLength + extraLength
                if parts.count == 3, parts[1] == "data", data + 4 < bytes.count { return (name, data) }
            }
            at += 1
        }
        return nil
    }

    /// While another thread keeps truncating and rewriting the model file,
    /// the tools that read it either succeed or fail with one line; none is
    /// ever ended by a signal (SIGBUS, as a memory-mapped read gave).
    @Test(.enabled(if: enabled))
    func aFileChangedDuringTheRunNeverRaisesASignal() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let original = try [UInt8](Data(contentsOf: Fixtures.url("model/crnn.pt")))
        let model = folder.appendingPathComponent("crnn.pt").path
        try Data(original).write(to: URL(fileURLWithPath: model))
        let stop = Flag()
        let writer = Thread {
            let fd = open(model, O_WRONLY)
            defer { close(fd) }
            while !stop.isSet {
                _ = ftruncate(fd, off_t(original.count / 3))
                usleep(3000)
                _ = original.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
                usleep(3000)
            }
        }
        writer.start()
        defer { stop.set() }
        var outcomes: [String] = []
        for (tool, arguments) in [("crnn-inspect", [model, "--stats"]), ("crnn-convert", [model, folder.appendingPathComponent("out.bin").path]),
                                  ("crnn-predict", [model, try Self.sample])] {
            for _ in 0..<3 {
                let run = try Self.finished(tool, arguments)
                defer { run.remove() }
                #expect(run.signal == nil, "\(tool) ended by signal \(run.signal ?? 0)")
                #expect(run.stderr.split(separator: "\n").count <= 1, "\(run.stderr)")
                outcomes.append(run.stderr.isEmpty ? "ok" : run.stderr)
            }
        }
        #expect(outcomes.count == 9)
    }

    /// A flag one thread sets and another polls.
    final class Flag: @unchecked Sendable {
        private let lock = NSLock()
        private var value = false
        var isSet: Bool { lock.withLock { value } }
        func set() { lock.withLock { value = true } }
    }
}
