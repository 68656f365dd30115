import Foundation
import Testing
import TestSupport
@testable import CRNN
@testable import CRNNRuntime
@testable import Prediction
import Conversion

/// `crnn-predict --report`'s page, parsed back: every image present with its
/// text, confidence and alignment cells as the model computed them, the
/// misreads and PyTorch mismatches marked, the summary counting them.
@Suite struct HTMLReportTests {
    /// The attributes of every element with class `kind` (`card`, `cell`,
    /// `summary`), in document order, from the page's markup.
    static func elements(_ kind: String, in html: String) -> [[String: String]] {
        var found = [[String: String]]()
        var rest = html[...]
        while let start = rest.range(of: "<"), let end = rest[start.upperBound...].range(of: ">") {
            let tag = rest[start.upperBound..<end.lowerBound]
            rest = rest[end.upperBound...]
            var attributes = [String: String]()
            var scan = tag[...]
            while let equals = scan.range(of: "=\"") {
                let name = scan[..<equals.lowerBound].split(separator: " ").last.map(String.init) ?? ""
                guard let close = scan[equals.upperBound...].range(of: "\"") else { break }
                attributes[name] = String(scan[equals.upperBound..<close.lowerBound])
                scan = scan[close.upperBound...]
            }
            if (attributes["class"] ?? "").split(separator: " ").contains(Substring(kind)) { found.append(attributes) }
        }
        return found
    }

    static func unescaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
            .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&amp;", with: "&")
    }

    @Test func everyImageIsShownWithItsTextAndAlignment() throws {
        let loaded = try ModelLoader.load(path: Fixtures.url("model/crnn.pt").path)
        let files = try ImageCollection.expand([Fixtures.url("samples").path])
        let predictions = try Predictor(model: loaded, threads: 2).predict(files: files)
        var page = ""
        let writer = try HTMLReportWriter(title: "samples <&>", verifying: false) { page += $0 }
        for prediction in predictions { try writer.add(ReportEntry(prediction, model: loaded)) }
        try writer.add(ReportEntry(file: "broken.png", failure: PredictionError.notFound(path: "broken.png")))
        let summary = try writer.finish()

        #expect(!page.contains("<script") && !page.contains("http://") && !page.contains("https://"))
        #expect(page.contains("<title>samples &lt;&amp;&gt;</title>"))
        let cards = Self.elements("card", in: page)
        #expect(cards.count == files.count + 1)
        let cells = Self.elements("cell", in: page)
        var cellIndex = 0
        var misreads = 0
        for (card, prediction) in zip(cards, predictions) {
            #expect(Self.unescaped(card["data-file"] ?? "") == prediction.file)
            #expect(Self.unescaped(card["data-text"] ?? "") == prediction.text)
            let steps = CTCAlignment.steps(prediction.logits, decoder: loaded.decoder)
            #expect(steps.count == prediction.logits.timeSteps)
            let confidence = steps.reduce(1.0) { $0 * $1.probability }
            #expect(abs((Double(card["data-confidence"] ?? "") ?? -1) - confidence) <= 1e-6)
            let mine = cells[cellIndex..<min(cells.count, cellIndex + steps.count)]
            cellIndex += steps.count
            #expect(mine.map { $0["data-emit"] ?? "?" } == steps.map { $0.emitted.map(String.init) ?? "" })
            for (cell, step) in zip(mine, steps) {
                #expect(abs((Double(cell["data-p"] ?? "") ?? -1) - step.probability) <= 5e-4)
            }
            #expect(mine.compactMap { $0["data-emit"] }.joined() == prediction.text)
            let label = String(prediction.file.split(separator: "/").last?.prefix { $0 != "." } ?? "")
            let marked = (card["class"] ?? "").contains("misread")
            #expect(marked == (label != prediction.text), "\(prediction.file)")
            if marked { misreads += 1 }
        }
        #expect(cellIndex == cells.count)
        let lastClasses = cards.last?["class"] ?? ""
        #expect(lastClasses.contains("failed"))
        #expect(page.contains("data:image/png;base64,") && page.contains("data:image/jpeg;base64,"))
        #expect(summary.images == files.count + 1 && summary.failed == 1)
        #expect(summary.labelled == files.count && summary.readAsLabelled == files.count - misreads)
        let shown = try #require(Self.elements("summary", in: page).first)
        #expect(shown["data-images"] == "\(files.count + 1)" && shown["data-read-as-labelled"] == "\(files.count - misreads)")
    }

    @Test func verifyingMarksMismatchesAgainstPyTorch() throws {
        var page = ""
        let writer = try HTMLReportWriter(title: "verify", verifying: true) { page += $0 }
        let step = AlignmentStep(winningClass: 1, probability: 0.5, emitted: "a")
        try writer.add(ReportEntry(file: "a.png", imageBytes: [], text: "a", confidence: 0.5, alignment: [step],
                                   reference: ("a", 1e-6)))
        try writer.add(ReportEntry(file: "b.png", imageBytes: [], text: "a", confidence: 0.5, alignment: [step],
                                   reference: ("b", 1e-6)))
        try writer.add(ReportEntry(file: "x", imageBytes: [], text: "a", confidence: 0.5, alignment: [step],
                                   reference: ("a", 0.5)))
        let summary = try writer.finish()
        let cards = Self.elements("card", in: page)
        #expect(cards.map { ($0["class"] ?? "").contains("mismatch") } == [false, true, true])
        #expect(cards.map { $0["data-pytorch"] } == ["a", "b", "a"])
        #expect(summary.verified == 3 && summary.matchingPyTorch == 2 && summary.largestDifference == 0.5)
        #expect(summary.labelled == 2 && summary.readAsLabelled == 1)  // "x" has no label
        #expect(page.contains("2/3 texts match PyTorch") && page.contains("largest logit difference 5.00e-01"))
    }

    @Test func numbersPrintAsPrintfPrintsThem() {
        #expect(HTMLReportWriter.fixed(0.12345, digits: 3) == "0.123")
        #expect(HTMLReportWriter.fixed(99.96, digits: 0) == "100")
        #expect(HTMLReportWriter.fixed(1, digits: 6) == "1.000000")
        #expect(HTMLReportWriter.scientific(1.38e-5, digits: 2) == String(format: "%.2e", 1.38e-5))
        #expect(HTMLReportWriter.scientific(9.996e-3, digits: 2) == String(format: "%.2e", 9.996e-3))
        #expect(HTMLReportWriter.scientific(0.5, digits: 1) == String(format: "%.1e", 0.5))
        #expect(HTMLReportWriter.scientific(0, digits: 2) == String(format: "%.2e", 0.0))
    }
}
