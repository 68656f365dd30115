import Foundation
import TensorCore
import Testing
import TestSupport
@testable import TorchCheckpoint

/// Stored (uncompressed) zip records, which torch.save writes, are read in
/// place from the file's bytes, found through the directory walk.
@Suite struct StoredRecordTests {
    static let file = "checkpoints/crnn/narrow_zip.pt"

    /// The fixture's bytes and the directory walk's records.
    static func fixture() throws -> (bytes: [UInt8], records: [ZipDirectory.Record]) {
        let bytes = try [UInt8](Data(contentsOf: Fixtures.url(file)))
        let records = try #require(bytes.withUnsafeBytes(ZipDirectory.records))
        return (bytes, records)
    }

    @Test func storedTensorsAreViewsOfTheFileBytes() throws {
        let buffer = ByteBuffer(copying: try Self.fixture().bytes)
        let stateDict = try TorchCheckpoint(buffer: buffer, fileName: "narrow_zip.pt").loadStateDict()
        #expect(!stateDict.isEmpty)
        let file = try #require(buffer.baseAddress)
        for (name, tensor) in stateDict.entries {
            let start = try #require(tensor.storage.buffer.baseAddress) + tensor.storage.offset
            #expect(start >= file && start + tensor.storage.count <= file + buffer.count, "\(name) was copied")
        }
    }

    @Test func recordDataLiesAfterItsLocalHeader() throws {
        let (bytes, records) = try Self.fixture()
        for record in records {
            let nameLength = Int(bytes[record.range.lowerBound + 26]) | Int(bytes[record.range.lowerBound + 27]) << 8
            let extraLength = Int(bytes[record.range.lowerBound + 28]) | Int(bytes[record.range.lowerBound + 29]) << 8
            #expect(record.data.lowerBound == record.range.lowerBound + 30 + nameLength + extraLength, "\(record.name)")
            #expect(record.data.upperBound == record.range.upperBound, "\(record.name)")
        }
    }

    /// Deflated records (not written by torch.save) still go through libzip:
    /// same tensors as the stored control, in memory of their own.
    @Test func deflatedRecordsAreInflated() throws {
        let url = Fixtures.url("checkpoints/deflated_records.pt")
        let buffer = ByteBuffer(copying: try [UInt8](Data(contentsOf: url)))
        let deflated = try TorchCheckpoint(buffer: buffer, fileName: "deflated_records.pt").loadStateDict()
        let stored = try TorchCheckpoint.open(path: Fixtures.url("checkpoints/handmade/control_zip.pt").path).loadStateDict()
        #expect(deflated.names == stored.names)
        #expect(deflated.count == 2)
        let file = try #require(buffer.baseAddress)
        for (name, tensor) in deflated.entries {
            #expect(tensor.doubleValues() == stored[name]?.doubleValues(), "\(name)")
            let start = try #require(tensor.storage.buffer.baseAddress)
            #expect(start < file || start >= file + buffer.count, "\(name) is not an inflated copy")
        }
    }
}
