import Foundation
@testable import CRNNFormat
import TensorCore
import TestSupport
import Testing

/// What the writer does with what is already at the destination's name:
/// only a regular file or a symbolic link is replaced, nothing else is
/// touched (issue 11, "Output files").
@Suite("CRNN-BIN writer: what the destination may be")
struct DestinationTests {
    /// Writes a small model to `url`.
    private func write(to url: URL) throws {
        try CRNNFileWriter.write(metadata: Samples.metadata(), tensors: try Samples.mixedTensors(), floatType: .float32, to: url)
    }

    private func contents(of folder: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
    }

    /// A FIFO, a socket, a folder or a device node (our own /dev/null, made
    /// with mknod in the test's folder, so a wrong writer cannot harm the
    /// real one) is refused with its kind and left exactly as it was.
    @Test(arguments: SpecialFile.allCases)
    func nonRegularDestinationIsRefusedAndKept(_ kind: SpecialFile) throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("out.bin")
        guard let expectedKind = try SpecialFile.make(kind, at: url.path) else { return }
        let before = try SpecialFile.identity(url.path)
        #expect(throws: CRNNFormatError.destinationNotRegularFile(file: url.path, kind: expectedKind)) { try write(to: url) }
        #expect(try SpecialFile.identity(url.path) == before)
        #expect(try contents(of: folder) == ["out.bin"], "no temporary file is left")
        let message = CRNNFormatError.destinationNotRegularFile(file: url.path, kind: expectedKind).description
        #expect(!message.contains("\n") && message.hasPrefix(url.path + ": is " + expectedKind))
    }

    /// `out.bin/` that does not exist names a folder: an error, and no
    /// `out.bin` appears.
    @Test func trailingSlashIsAnError() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = URL(fileURLWithPath: folder.path + "/out.bin/", isDirectory: true)
        #expect(throws: CRNNFormatError.destinationNamesFolder(file: url.path)) { try write(to: url) }
        #expect(try contents(of: folder).isEmpty)
        // An existing regular file named with a slash is not replaced either.
        let file = folder.appendingPathComponent("out.bin")
        try write(to: file)
        let bytes = try Data(contentsOf: file)
        #expect(throws: CRNNFormatError.destinationNamesFolder(file: url.path)) { try write(to: url) }
        #expect(try Data(contentsOf: file) == bytes)
        #expect(try contents(of: folder) == ["out.bin"])
    }

    /// Replacing a file keeps its permission bits (the default umask would give 0644).
    @Test func replacingKeepsPermissionBits() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("out.bin")
        try Data([1, 2, 3]).write(to: url)
        for mode: mode_t in [0o600, 0o751] {
            try #require(chmod(url.path, mode) == 0)
            try write(to: url)
            var info = stat()
            try #require(stat(url.path, &info) == 0)
            #expect(info.st_mode & 0o7777 == mode)
            #expect(try CRNNFile.open(path: url.path).tensors.count == 9)
        }
    }

    /// A symbolic link is itself replaced by the new file; the file it
    /// pointed to is left as it was (the documented choice).
    @Test func symbolicLinkIsReplacedAndItsTargetKept() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let target = folder.appendingPathComponent("target.bin"), link = folder.appendingPathComponent("out.bin")
        try Data("old".utf8).write(to: target)
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: target.path)
        try write(to: link)
        #expect(try Data(contentsOf: target) == Data("old".utf8))
        var info = stat()
        try #require(lstat(link.path, &info) == 0)
        #expect(info.st_mode & S_IFMT == S_IFREG)
        #expect(try CRNNFile.open(path: link.path).tensors.count == 9)
        #expect(try contents(of: folder) == ["out.bin", "target.bin"])
    }

    /// Names of up to 255 bytes (the file-name limit), ASCII or not, are
    /// written: the temporary name is cut to fit beside them.
    @Test(arguments: [255, 254, 200, 1])
    func longNamesWork(_ length: Int) throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        // Two-byte characters with one ASCII byte to make odd lengths: the cut must fall between characters.
        let name = String(repeating: "é", count: length / 2) + String(repeating: "x", count: length % 2)
        #expect(name.utf8.count == length)
        let url = folder.appendingPathComponent(name)
        try write(to: url)
        try write(to: url)  // and replaced
        #expect(try contents(of: folder) == [name])
        #expect(try CRNNFile.open(path: url.path).tensors.count == 9)
    }

    /// The temporary name never passes the limit, and keeps as much of the
    /// destination's name as fits, cut between characters.
    @Test func temporaryNameFitsTheLimit() throws {
        for name in ["m.bin", String(repeating: "é", count: 127) + "x", String(repeating: "a", count: 255)] {
            let path = try AtomicFile.Destination("dir/" + name).temporaryPath()
            #expect(path.hasPrefix("dir/."))
            let file = String(path.dropFirst(4))
            #expect(file.utf8.count <= AtomicFile.Destination.nameLimit)
            #expect(file.hasSuffix(".tmp"))
            #expect(name.hasPrefix(file.dropFirst().split(separator: ".", omittingEmptySubsequences: false).dropLast(2).joined(separator: ".")))
        }
        #expect(try AtomicFile.Destination("m.bin").temporaryPath().utf8.count == ".m.bin.".utf8.count + 12 + 4)
    }
}
