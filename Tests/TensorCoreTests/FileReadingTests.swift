import Foundation
import Testing
import TestSupport
@testable import TensorCore

/// Files are read into memory with their size and modification time
/// compared before and after, or mapped with a guard that turns a truncation
/// into zeros and a reported change instead of SIGBUS; anything but a
/// regular file is refused without being opened (a FIFO would block an open
/// for reading).
@Suite struct FileReadingTests {
    /// A file of `count` bytes (more than one read chunk) in a fresh folder,
    /// its modification time set a minute back, so that a change made during
    /// the read shows in the time even on coarse-grained file systems.
    static func sampleFile(count: Int = ByteBuffer.readChunk * 2 + 123) throws -> (path: String, bytes: [UInt8]) {
        var generator = SplitMix64(seed: 11)
        let words = (0..<(count / 8 + 1)).map { _ in generator.next() }
        let bytes = Array(words.withUnsafeBytes { Array($0) }.prefix(count))
        let path = try Fixtures.temporaryDirectory().appendingPathComponent("data").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        var times = [timespec(tv_sec: time(nil) - 60, tv_nsec: 0), timespec(tv_sec: time(nil) - 60, tv_nsec: 0)]
        try #require(utimensat(AT_FDCWD, path, &times, 0) == 0)
        return (path, bytes)
    }

    static func remove(_ path: String) {
        try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path)
    }

    @Test func anUnchangedFileIsReadWhole() throws {
        let (path, bytes) = try Self.sampleFile()
        defer { Self.remove(path) }
        #expect(try ByteBuffer.reading(path: path).slice.bytes == bytes)
        #expect(try ByteBuffer.reading(path: path, limit: 8).slice.bytes == Array(bytes.prefix(8)))
    }

    enum Change: String, CaseIterable { case truncated, rewritten, grown }

    /// A change made after the first chunk was read is reported, whatever it is.
    @Test(arguments: Change.allCases)
    func aChangeDuringTheReadIsReported(_ change: Change) throws {
        let (path, bytes) = try Self.sampleFile()
        defer { Self.remove(path) }
        var changed = false
        #expect(throws: TensorCoreError.changedWhileRead(path: path)) {
            _ = try ByteBuffer.reading(path: path, limit: .max) { done in
                guard !changed, done < bytes.count else { return }
                changed = true
                // In place, through the same inode the reader holds open.
                let fd = open(path, O_WRONLY)
                defer { close(fd) }
                switch change {
                case .truncated: _ = ftruncate(fd, off_t(done))
                case .rewritten: _ = Array(bytes.reversed()).withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
                case .grown: _ = [UInt8](repeating: 7, count: 3).withUnsafeBytes { pwrite(fd, $0.baseAddress, 3, off_t(bytes.count)) }
                }
            }
        }
        #expect(changed)
    }

    /// Truncating a mapped file under the reader: the bytes still in the
    /// file read as they were, those past the new end read as zeros (before
    /// the guard: SIGBUS, ending the process), and the change is reported.
    @Test func aTruncatedMappingReadsZerosAndReportsTheChange() throws {
        let (path, bytes) = try Self.sampleFile()
        defer { Self.remove(path) }
        let buffer = try ByteBuffer.mapping(path: path)
        #expect(buffer.isMapped)
        try buffer.checkUnchanged()
        let kept = ByteBuffer.readChunk
        try #require(truncate(path, off_t(kept)) == 0)
        let seen = buffer.slice.bytes
        #expect(seen.count == bytes.count)
        #expect(Array(seen[..<kept]) == Array(bytes[..<kept]))
        #expect(seen[kept...].allSatisfy { $0 == 0 })
        #expect(throws: TensorCoreError.changedWhileRead(path: path)) { try buffer.checkUnchanged() }
    }

    /// A mapped file rewritten in place (same size) is reported too.
    @Test func aMappingRewrittenInPlaceIsReported() throws {
        let (path, bytes) = try Self.sampleFile(count: 4096 * 3)
        defer { Self.remove(path) }
        let buffer = try ByteBuffer.mapping(path: path)
        try buffer.checkUnchanged()
        let fd = open(path, O_WRONLY)
        _ = Array(bytes.reversed()).withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        close(fd)
        #expect(throws: TensorCoreError.changedWhileRead(path: path)) { try buffer.checkUnchanged() }
    }

    /// A FIFO (nobody writing: opening it for reading would block), a socket
    /// and a device are refused at once as not regular files.
    @Test func nonRegularFilesAreRefusedWithoutBlocking() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let fifo = folder.appendingPathComponent("fifo").path
        try #require(mkfifo(fifo, 0o644) == 0)
        for path in [fifo, "/dev/null", folder.path] {
            #expect(throws: TensorCoreError.fileAccess(path: path, reason: "not a regular file")) {
                _ = try ByteBuffer.reading(path: path)
            }
            #expect(throws: TensorCoreError.fileAccess(path: path, reason: "not a regular file")) {
                _ = try ByteBuffer.mapping(path: path)
            }
        }
    }
}
