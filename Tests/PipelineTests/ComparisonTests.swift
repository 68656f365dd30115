import Foundation
import Testing
import TestSupport
@testable import Conversion
@testable import Inspection
import SourceHashing
@testable import TensorCore

/// crnn-inspect A --compare B: a checkpoint equals its own .bin and
/// .safetensors; names, dtypes, shapes and values that differ are found.
@Suite struct ComparisonTests {
    static func path(_ relative: String) -> String { Fixtures.url(relative).path }

    @Test(arguments: ["narrow_zip", "narrow_legacy", "narrow_module_prefix", "narrow_wrapper"])
    func checkpointEqualsItsBinAndSafetensors(_ variant: String) throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let source = Self.path("checkpoints/crnn/\(variant).pt")
        let bin = folder.appendingPathComponent("m.bin").path, safetensors = folder.appendingPathComponent("m.safetensors").path
        try Converter.convert(input: source, output: bin, sourceDigest: SourceHashing.sha256(path:))
        try SafetensorsExport.convert(input: source, output: safetensors, sourceDigest: SourceHashing.sha256(path:))
        for (a, b) in [(source, bin), (source, safetensors), (safetensors, bin)] {
            let report = try Comparison.compare(a, b)
            #expect(report.isEqual, "\(a) vs \(b): \(report.summary())")
            #expect(report.tensors.count == (try Comparison.stateDict(path: source).count))
            #expect(report.summary().hasPrefix("equal: "))
        }
    }

    /// The file Python's safetensors wrote of narrow_zip's state_dict holds the same weights.
    @Test func pythonWrittenSafetensorsEqualsTheCheckpoint() throws {
        let report = try Comparison.compare(Self.path("checkpoints/crnn/narrow_zip.pt"), Self.path("safetensors/narrow.safetensors"))
        #expect(report.isEqual, "\(report.summary())")
    }

    static func names(_ relative: String) throws -> [String] {
        ((try Fixtures.json(relative) as? [String: Any])?["tensors"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
    }

    @Test(arguments: ["broken_extra_key", "broken_missing_key", "broken_wrong_shape"])
    func namesAndShapesThatDifferAreListed(_ broken: String) throws {
        let report = try Comparison.compare(Self.path("checkpoints/crnn/narrow_zip.pt"), Self.path("checkpoints/crnn/\(broken).pt"))
        let a = try Self.names("checkpoints/crnn/narrow_zip.expected.json"), b = try Self.names("checkpoints/crnn/\(broken).expected.json")
        #expect(report.onlyInA == a.filter { !b.contains($0) })
        #expect(report.onlyInB == b.filter { !a.contains($0) })
        #expect(!report.isEqual && report.summary().hasPrefix("different: "))
        for mismatch in report.typeOrShapeDifferences {
            #expect(mismatch.shapeA != mismatch.shapeB && mismatch.maxAbsolute == nil, "\(mismatch.name)")
        }
        if broken == "broken_wrong_shape" { #expect(!report.typeOrShapeDifferences.isEmpty) }
    }

    /// Largest differences against what torch read from two files (tensors
    /// torch listed in full), and the tolerance at exactly that difference.
    @Test func largestDifferencesMatchTorchsValues() throws {
        let a = "safetensors/dtypes", b = "checkpoints/dtypes_zip"
        let report = try Comparison.compare(Self.path(a + ".safetensors"), Self.path(b + ".pt"))
        let left = try SafetensorsListing(a + ".expected.json")
        let right = (try Fixtures.json(b + ".expected.json") as? [String: Any])?["tensors"] as? [[String: Any]] ?? []
        var checked = 0
        for tensor in right {
            guard let name = tensor["name"] as? String, let numel = tensor["numel"] as? Int, numel <= 16, numel > 0,
                  let mine = left.entries.first(where: { $0.name == name }), mine.shape == tensor["shape"] as? [Int],
                  let compared = report.tensors.first(where: { $0.name == name }) else { continue }
            let values = (tensor["head"] as? [Any] ?? []).compactMap(SafetensorsListing.number)
            let largest = zip(mine.values, values).map { Comparison.difference($0, $1).absolute }.max() ?? 0
            #expect(compared.maxAbsolute == largest, "\(name)")
            checked += 1
            let within = try Comparison.compare(Self.path(a + ".safetensors"), Self.path(b + ".pt"), tolerance: largest)
            #expect(within.tensors.first { $0.name == name }?.differingElements == 0, "\(name)")
        }
        #expect(checked >= 5)
    }

    @Test func nonFiniteValuesCompare() {
        #expect(Comparison.difference(.nan, .nan) == (0, 0))
        #expect(Comparison.difference(.infinity, .infinity) == (0, 0))
        #expect(Comparison.difference(.nan, 1).absolute == .infinity)
        #expect(Comparison.difference(-.infinity, .infinity).absolute == .infinity)
        #expect(Comparison.difference(0, 0) == (0, 0))
        #expect(Comparison.difference(-2, 2) == (4, 2))
    }

    @Test(.enabled(if: CommandLineTests.binFolder != nil))
    func commandExitsZeroWhenEqualTwoWhenNotOneOnError() throws {
        let zip = Self.path("checkpoints/crnn/narrow_zip.pt")
        let equal = try CommandLineTests.run("crnn-inspect", [zip, "--compare", Self.path("safetensors/narrow.safetensors")])
        #expect(equal.status == 0 && equal.stdout.contains("equal: 117 tensors"), "\(equal.stderr)")
        let json = try CommandLineTests.run("crnn-inspect", [zip, "--compare", Self.path("checkpoints/crnn/narrow_half.pt"), "--json"])
        #expect(json.status == 2)
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(object?["equal"] as? Bool == false)
        #expect((object?["summary"] as? String)?.hasPrefix("different: ") == true)
        let broken = try CommandLineTests.run("crnn-inspect", [zip, "--compare", Self.path("safetensors/hostile/out_of_file.safetensors")])
        #expect(broken.status == 1 && broken.stderr.contains("invalid safetensors file"))
        let converted = try CommandLineTests.run("crnn-convert", ["--format", "safetensors", zip, "/nonexistent-folder/x.out"])
        #expect(converted.status == 1 && converted.stdout.isEmpty)
    }
}
