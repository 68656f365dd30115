import Foundation
import Testing
import TestSupport
@testable import CRNN
@testable import CRNNFormat
@testable import Conversion
@testable import Inspection
@testable import Prediction
import TensorCore

/// Results and messages through the libraries: metadata checked against the
/// tensors, one meaning of "character" for alphabets, JSON errors that name
/// the field, the inspect table (issue 11, "Results and messages").
@Suite struct MessageTests {
    static let narrow = Fixtures.url("checkpoints/crnn/narrow_zip.pt").path
    static let zeros = String(repeating: "0", count: 64)

    // MARK: - Metadata against the tensors

    /// The narrow model's tensors written with `edit`ed metadata, by the
    /// format's own writer (so the checksum is right), at `folder/model.bin`.
    static func binWithMetadata(in folder: URL, _ edit: (inout CRNNModelMetadata) -> Void) throws -> String {
        let prepared = try Converter.prepare(path: narrow)
        var metadata = prepared.metadata
        metadata.sourceSHA256 = zeros
        edit(&metadata)
        let path = folder.appendingPathComponent("model.bin").path
        try CRNNFileWriter.write(metadata: metadata, tensors: prepared.stateDict.entries, floatType: .float32,
                                 to: URL(fileURLWithPath: path))
        return path
    }

    /// Each metadata field the tensors also give, contradicted in turn.
    static let contradictions: [(field: String, edit: @Sendable (inout CRNNModelMetadata) -> Void)] = [
        ("vocabulary_size", { $0.vocabularySize = 2; $0.alphabet = "a" }),
        ("hidden_size", { $0.hiddenSize += 1 }),
        ("trunk_widths", { $0.trunkWidths[1] += 8 }),
        ("rnn_input_size", { $0.rnnInputSize *= 2 }),
        ("feature_rows", { $0.featureRows += 1 }),
        ("min_input_height", { $0.minInputHeight -= 1 }),
        ("max_input_height", { $0.maxInputHeight += 1 }),
    ]

    @Test(arguments: contradictions.indices)
    func metadataContradictingTheTensorsIsRefused(_ index: Int) throws {
        let (field, edit) = Self.contradictions[index]
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = try Self.binWithMetadata(in: folder, edit)
        // The file itself is well formed: the format's checks pass.
        _ = try CRNNFile.open(path: path)
        do {
            _ = try ModelLoader.load(path: path)
            Issue.record("\(field): a contradicted .bin was loaded")
        } catch let ConversionError.metadataContradictsTensors(file, contradiction) {
            #expect(file == path)
            #expect(contradiction.field == field)
            let message = ConversionError.metadataContradictsTensors(file: file, contradiction: contradiction).description
            #expect(message.hasPrefix("\(path): the metadata says \(field) "), "\(message)")
        }
    }

    @Test func consistentMetadataLoads() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let loaded = try ModelLoader.load(path: try Self.binWithMetadata(in: folder) { _ in })
        #expect(loaded.metadata.contradiction(with: loaded.model.configuration) == nil)
    }

    // MARK: - One meaning of "character"

    /// 35 letters and digits; with one more character the narrow model's 36.
    static let thirtyFive = "abcdefghijklmnopqrstuvwxyz012345678"

    /// A combining mark is its own character (Unicode scalar): "9" + U+0301
    /// is two, so 35 + 2 is one too many, refused up front naming the
    /// checkpoint (not later, at write time, naming the output).
    @Test func anAlphabetIsCountedInUnicodeScalarsUpFront() throws {
        let alphabet = Self.thirtyFive + "9\u{301}"
        #expect(alphabet.count == 36 && alphabet.unicodeScalars.count == 37)
        do {
            _ = try Converter.prepare(path: Self.narrow, options: ConversionOptions(alphabet: alphabet))
            Issue.record("an alphabet of 37 scalars was taken for 36 classes")
        } catch let ConversionError.alphabetMismatch(file, _, reason) {
            #expect(file == Self.narrow)
            #expect(reason.contains("37 characters (Unicode scalars)"), "\(reason)")
        }
    }

    /// 36 scalars, one a combining mark (35 grapheme clusters): converted,
    /// read back and decoded with the same 36 classes.
    @Test func anAlphabetWithACombiningMarkWorksEndToEnd() throws {
        let alphabet = "abcdefghijklmnopqrstuvwxyz01234567" + "8\u{301}"
        #expect(alphabet.count == 35 && alphabet.unicodeScalars.count == 36)
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("accent.bin").path
        try Converter.convert(input: Self.narrow, output: output, options: ConversionOptions(alphabet: alphabet),
                              sourceDigest: { _ in Self.zeros })
        let loaded = try ModelLoader.load(path: output)
        #expect(loaded.metadata.alphabet.unicodeScalars.elementsEqual(alphabet.unicodeScalars))
        #expect(loaded.decoder.alphabet.count == 36)
        #expect(loaded.decoder.alphabet.last == "\u{301}")
    }

    @Test(arguments: ["\t", "\n", "\r", "\u{1B}", "\u{0}"])
    func anAlphabetWithAControlCharacterIsRefused(_ control: String) throws {
        do {
            _ = try Converter.prepare(path: Self.narrow, options: ConversionOptions(alphabet: Self.thirtyFive + control))
            Issue.record("an alphabet with a control character was taken")
        } catch let ConversionError.alphabetMismatch(_, _, reason) {
            #expect(reason.contains("control character U+"), "\(reason)")
        }
    }

    // MARK: - JSON errors name the field

    /// A reference file whose JSON parses but holds a wrong type: the
    /// message names the key, never the decoder's own text.
    @Test(arguments: [("batch_size", "batch_size"), ("text", "images[1].text"), ("logits", "images[0].logits[0][0]")])
    func aReferenceWithAWrongTypeNamesTheField(_ change: (key: String, path: String)) throws {
        var json = try #require(try Fixtures.json("model/reference-batch1.json") as? [String: Any])
        switch change.key {
        case "batch_size": json["batch_size"] = "one"
        case "text":
            var images = try #require(json["images"] as? [[String: Any]])
            images[1]["text"] = 5
            json["images"] = images
        default:
            var images = try #require(json["images"] as? [[String: Any]])
            images[0]["logits"] = [["x"]]
            json["images"] = images
        }
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("reference.json").path
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: path))
        do {
            _ = try ReferenceFile.load(path: path)
            Issue.record("a reference with a wrong type was read")
        } catch let PredictionError.badReference(file, reason) {
            #expect(file == path)
            #expect(reason.contains("key '\(change.path)' has the wrong type"), "\(reason)")
            for raw in ["DecodingError", "typeMismatch", "CocoaError", "not valid JSON", "Context"] {
                #expect(!reason.contains(raw), "\(reason)")
            }
        }
    }

    // MARK: - The inspect table

    /// Tensors of one layer that are not contiguous in the file are still
    /// listed under their own layer's line; long names keep the columns aligned.
    @Test func theTableGroupsScatteredLayersAndStaysAligned() throws {
        let long = "resnet.4.0.downsample.1.num_batches_tracked_of_a_very_long_layer"
        let report = InspectionReport(
            file: "t.pt", format: "pytorch-zip", details: [],
            tensors: [("a.weight", .float32, [3, 4]), ("b.weight", .float32, [2]), ("a.bias", .float32, [3]),
                      (long, .int64, []), ("b.bias", .float32, [2])],
            statistics: nil)
        let lines = report.table().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let layerLines = lines.indices.filter { !lines[$0].hasPrefix(" ") && lines[$0].contains(" tensors, ") && !lines[$0].hasPrefix("total") }
        #expect(layerLines.map { lines[$0].split(separator: " ")[0] } == ["a", "b", Substring(InspectionReport.layerName(of: long))])
        func rows(after index: Int) -> [String] {
            Array(lines[(index + 1)...].prefix { $0.hasPrefix("  ") }).map { String($0.dropFirst(2).split(separator: " ")[0]) }
        }
        #expect(rows(after: layerLines[0]) == ["a.weight", "a.bias"])
        #expect(rows(after: layerLines[1]) == ["b.weight", "b.bias"])
        #expect(rows(after: layerLines[2]) == [long])
        try Self.expectAligned(lines)
    }

    /// The real narrow CRNN, whose `downsample.1.num_batches_tracked` names are
    /// the longest: every row's columns start where the header's do.
    @Test func theNarrowModelsTableIsAligned() throws {
        let table = try Inspector.inspect(path: Self.narrow, statistics: false).table()
        let lines = table.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.contains("downsample.1.num_batches_tracked") })
        try Self.expectAligned(lines)
    }

    /// The header's "dtype" and "shape" columns start at the same offsets as
    /// every tensor row's dtype and shape.
    static func expectAligned(_ lines: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let header = try #require(lines.first { $0.hasPrefix("tensor ") })
        let dtypeColumn = try #require(header.range(of: "dtype")).lowerBound.utf16Offset(in: header)
        let shapeColumn = try #require(header.range(of: "shape")).lowerBound.utf16Offset(in: header)
        let rows = lines.filter { $0.hasPrefix("  ") }
        #expect(!rows.isEmpty, sourceLocation: sourceLocation)
        for row in rows {
            let fields = row.split(separator: " ")
            let dtype = try #require(row.range(of: " " + fields[1] + " ")).lowerBound.utf16Offset(in: row) + 1
            let shape = try #require(row.range(of: " [")).lowerBound.utf16Offset(in: row) + 1
            #expect(dtype == dtypeColumn, "\(row)", sourceLocation: sourceLocation)
            #expect(shape == shapeColumn, "\(row)", sourceLocation: sourceLocation)
        }
    }
}
