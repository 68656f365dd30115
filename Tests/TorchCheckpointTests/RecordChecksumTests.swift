import Foundation
import Testing
import TestSupport
@testable import TensorCore
@testable import TorchCheckpoint

/// Every zip record's CRC-32 is checked before its bytes are used: one
/// flipped byte in a copy of a real checkpoint is found and named, with the
/// tensors stored in the record.
@Suite struct RecordChecksumTests {
    static let fixture = "checkpoints/crnn/narrow_zip.pt"

    /// A copy of the fixture with one byte flipped in the middle of the data
    /// of the record `choose` picks, written to a fresh folder; returns its
    /// path and the record's name.
    static func flippedCopy(
        of fixture: String = fixture, choosing choose: ([ZipDirectory.Record]) -> ZipDirectory.Record?
    ) throws -> (path: String, record: String) {
        var bytes = try [UInt8](Data(contentsOf: Fixtures.url(fixture)))
        let records = try #require(bytes.withUnsafeBytes { ZipDirectory.records(in: $0) })
        let record = try #require(choose(records))
        try #require(!record.data.isEmpty)
        bytes[record.data.lowerBound + record.data.count / 2] ^= 0x01
        let path = try Fixtures.temporaryDirectory().appendingPathComponent("flipped.pt").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return (path, record.name)
    }

    @Test func aFlippedTensorByteIsFoundAndNamesTheRecordAndItsTensors() throws {
        let original = try TorchCheckpoint.open(path: Fixtures.url(Self.fixture).path)
        _ = try original.loadStateDict()  // the unflipped file passes the same check
        let root = try #require(original.info.archiveRoot)
        // The storage of the first tensor with more than one element.
        let key = try #require(original.tensors.first { $0.record.shape.reduce(1, *) > 1 }?.record.storageKey)
        let expectedTensors = original.tensors.filter { $0.record.storageKey == key }.map(\.name)
        let (path, record) = try Self.flippedCopy { $0.first { $0.name == root + "/data/" + key } }
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path) }

        let flipped = try TorchCheckpoint.open(path: path)  // the pickle is intact: opening reads no tensor
        do {
            _ = try flipped.loadStateDict()
            Issue.record("a flipped tensor byte was not noticed")
        } catch {
            // A plain catch, then the pattern: `catch let CheckpointError.checksumMismatch(...)` on a
            // typed throw crashes the Swift 6.3.1 compiler ("Found ownership error").
            guard case let .checksumMismatch(file, name, tensors, stored, computed) = error else {
                Issue.record("expected a checksum mismatch, got \(error)")
                return
            }
            #expect(file == path)
            #expect(name == record)
            #expect(tensors == expectedTensors)
            #expect(!tensors.isEmpty)
            #expect(computed != nil && stored != computed)
            let message = CheckpointError.checksumMismatch(file: file, record: name, tensors: tensors, stored: stored, computed: computed).description
            #expect(message.contains("'\(record)'") && message.contains("'\(expectedTensors[0])'") && !message.contains("\n"))
        }
    }

    @Test func aFlippedPickleByteIsFoundBeforeThePickleIsRead() throws {
        let (path, record) = try Self.flippedCopy { $0.first { $0.name.hasSuffix("/data.pkl") } }
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path) }
        #expect {
            _ = try TorchCheckpoint.open(path: path)
        } throws: { error in
            guard case let CheckpointError.checksumMismatch(file, name, tensors, _, _) = error else { return false }
            return file == path && name == record && tensors.isEmpty
        }
    }

    /// A compressed record (deflated_records.pt, written by
    /// fixtures/make_deflated_checkpoint.py): libzip finds the mismatch as it
    /// inflates, and the error still names the record and its tensors.
    @Test func aFlippedByteOfACompressedRecordNamesItsTensors() throws {
        let fixture = "checkpoints/deflated_records.pt"
        let original = try TorchCheckpoint.open(path: Fixtures.url(fixture).path)
        let root = try #require(original.info.archiveRoot)
        let key = try #require(original.tensors.first?.record.storageKey)
        let expectedTensors = original.tensors.filter { $0.record.storageKey == key }.map(\.name)
        let (path, record) = try Self.flippedCopy(of: fixture) { $0.first { $0.name == root + "/data/" + key } }
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path) }
        let flipped = try TorchCheckpoint.open(path: path)
        #expect {
            _ = try flipped.loadStateDict()
        } throws: { error in
            guard case let CheckpointError.checksumMismatch(file, name, tensors, _, computed) = error else { return false }
            return file == path && name == record && tensors == expectedTensors && computed == nil
        }
    }
}
