import Foundation
import Pickle
import Testing
import TestSupport
@testable import TorchCheckpoint

/// The files of fixtures/make_handmade_checkpoints.py: broken zip structure,
/// a tensor name of megabytes and pickle lengths of gigabytes, each refused
/// with its own error; every expected number is from the manifest the script
/// wrote from the bytes.
@Suite struct HandmadeCheckpointTests {
    /// The manifest's entries by file name.
    static var manifest: [String: [String: Any]] {
        guard let list = (try? Fixtures.json("checkpoints/handmade/manifest.json")) as? [[String: Any]] else { return [:] }
        return Dictionary(list.compactMap { entry in (entry["file"] as? String).map { ($0, entry) } }, uniquingKeysWith: { a, _ in a })
    }

    static func path(_ file: String) -> String { Fixtures.url("checkpoints/handmade/" + file).path }

    /// The manifest's `error` object for `file`.
    static func expected(_ file: String) throws -> [String: Any] {
        try #require(manifest[file]?["error"] as? [String: Any], "no manifest entry for \(file)")
    }

    /// The error opening and loading `file` gives.
    static func failure(_ file: String, options: CheckpointOptions = CheckpointOptions()) throws -> CheckpointError {
        try #require(throws: CheckpointError.self) {
            _ = try TorchCheckpoint.open(path: path(file), options: options).loadStateDict()
        }
    }

    @Test(arguments: ["control_zip.pt", "control_legacy.pt"])
    func controlsLoad(_ file: String) throws {
        let values = try #require(Self.manifest[file]?["tensors"] as? [String: [Double]])
        let stateDict = try TorchCheckpoint.open(path: Self.path(file)).loadStateDict()
        #expect(stateDict.entries.count == values.count)
        for (name, tensor) in stateDict.entries {
            #expect(tensor.doubleValues() == values[name], "\(name)")
        }
    }

    @Test func duplicateRecordNamesTheRecord() throws {
        let expected = try Self.expected("duplicate_record.pt")
        #expect(expected["case"] as? String == "duplicateRecord")
        let error = try Self.failure("duplicate_record.pt")
        let record = try #require(expected["record"] as? String)
        #expect(error == .duplicateRecord(file: Self.path("duplicate_record.pt"), record: record))
        #expect(error.description.contains("two records named '\(record)'"))
    }

    @Test func overlappingRecordsNamesBoth() throws {
        let expected = try Self.expected("overlapping_records.pt")
        #expect(expected["case"] as? String == "overlappingRecords")
        let first = try #require(expected["first"] as? String), second = try #require(expected["second"] as? String)
        let error = try Self.failure("overlapping_records.pt")
        #expect(error == .overlappingRecords(file: Self.path("overlapping_records.pt"), first: first, second: second))
        #expect(error.description.contains("share bytes"))
    }

    /// The walk that finds overlaps sees the ranges the script patched in.
    @Test func directoryWalkFindsThePatchedRanges() throws {
        let ranges = try #require(Self.manifest["overlapping_records.pt"]?["ranges"] as? [String: [Int]])
        let bytes = try Data(contentsOf: URL(fileURLWithPath: Self.path("overlapping_records.pt")))
        let records = try #require(bytes.withUnsafeBytes(ZipDirectory.records))
        for (name, range) in ranges {
            #expect(records.first { $0.name == name }?.range == range[0]..<range[1], "\(name)")
        }
        #expect(records.count == 5)
    }

    @Test func longTensorNameIsRefusedWithItsLength() throws {
        let expected = try Self.expected("long_tensor_name.pt")
        #expect(expected["case"] as? String == "tensorNameTooLong")
        let bytes = try #require(expected["bytes"] as? Int), limit = try #require(expected["limit"] as? Int)
        let error = try Self.failure("long_tensor_name.pt")
        guard case let .tensorNameTooLong(file, start, reported, reportedLimit) = error else {
            Issue.record("got \(error)")
            return
        }
        #expect(file == Self.path("long_tensor_name.pt") && reported == bytes && reportedLimit == limit)
        #expect(limit == CheckpointOptions().maxTensorNameBytes)
        #expect(start.hasPrefix("conv.www") && start.count <= 40)
        #expect(error.description.count < 400, "the message stays short")
        // A raised limit admits it.
        let roomy = CheckpointOptions(maxTensorNameBytes: bytes)
        let checkpoint = try TorchCheckpoint.open(path: Self.path("long_tensor_name.pt"), options: roomy)
        #expect(checkpoint.tensors.map { $0.name.utf8.count }.max() == bytes)
    }

    static let hugeLengths = ["huge_LONG4_zip.pt", "huge_BINUNICODE8_zip.pt", "huge_BINBYTES8_zip.pt",
                              "huge_LONG4_legacy.pt", "huge_BINUNICODE8_legacy.pt", "huge_BINBYTES8_legacy.pt"]

    @Test(arguments: hugeLengths)
    func gigabyteLengthsAreRefusedAtTheirOpcode(_ file: String) throws {
        let expected = try Self.expected(file)
        #expect(expected["case"] as? String == "pickle")
        let part = try #require(expected["part"] as? String), opcode = try #require(expected["opcode"] as? String)
        let offset = try #require(expected["offset"] as? Int), available = try #require(expected["available"] as? Int)
        let declared = try #require(expected["declared"] as? NSNumber).uint64Value
        #expect(declared >= 1 << 30, "gigabytes")
        let error = try Self.failure(file)
        #expect(error == .pickle(file: Self.path(file), part: part,
                                 reason: PickleError.tooLarge(opcode: opcode, offset: offset, declared: declared, available: available).description))
    }
}
