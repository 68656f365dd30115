import CRNNRuntime
import TensorCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One image of an HTML report.
public struct ReportEntry: Sendable {
    /// The image file, as given.
    public var file: String
    /// The file's bytes (PNG or JPEG), inlined in the page.
    public var imageBytes: [UInt8]
    /// The text read, or `nil` when the image failed.
    public var text: String?
    /// Why the image failed, when it did.
    public var failure: String?
    /// The confidence (the winning path's probability).
    public var confidence: Double
    /// The CTC alignment, one step per 16 image columns.
    public var alignment: [AlignmentStep]
    /// What PyTorch read and the largest logit difference, when verifying.
    public var reference: (text: String, maxLogitDifference: Float)?

    /// An entry; see the properties.
    public init(file: String, imageBytes: [UInt8], text: String?, failure: String? = nil, confidence: Double,
                alignment: [AlignmentStep], reference: (text: String, maxLogitDifference: Float)? = nil) {
        self.file = file
        self.imageBytes = imageBytes
        self.text = text
        self.failure = failure
        self.confidence = confidence
        self.alignment = alignment
        self.reference = reference
    }

    /// The label a file name gives (its name up to the first dot, as the
    /// bundled samples are named), or `nil` for names that hold no label.
    public var label: String? {
        let name = file.split(separator: "/").last.map(String.init) ?? file
        let stem = name.prefix { $0 != "." }
        return stem.isEmpty || stem.count == name.count ? nil : String(stem)
    }
}

/// What a report found, also shown at its top.
public struct ReportSummary: Sendable, Equatable {
    /// Images in the report.
    public var images = 0
    /// Images that could not be read.
    public var failed = 0
    /// Images whose file name gives a label, and of those the ones read as labelled.
    public var labelled = 0, readAsLabelled = 0
    /// Images compared with PyTorch, and of those the ones whose text matched.
    public var verified = 0, matchingPyTorch = 0
    /// The largest logit difference against PyTorch (0 when not verifying).
    public var largestDifference: Float = 0
}

/// Writes a self-contained HTML page as results arrive: a compact grid of
/// cards, each with the image (inlined as a data URL), the text read, the
/// confidence, the CTC alignment as a strip of one cell per time step under
/// the image (shaded by the winning class's probability, labelled with the
/// character emitted there), and PyTorch's text and the logit difference when
/// verifying. Misreads against the file-name label and mismatches against
/// PyTorch are marked. The summary is written last but shown first (CSS
/// `order`), so nothing is held back: memory stays flat for any number of
/// images. No script, no external resource.
public final class HTMLReportWriter {
    private let write: (String) throws -> Void
    private(set) public var summary = ReportSummary()
    private let verifying: Bool

    /// Starts a page, writing its head through `write`.
    /// - Parameters:
    ///   - title: the page's title and heading.
    ///   - verifying: whether entries carry PyTorch's results.
    ///   - write: appends text to the page; its errors end the report.
    /// - Throws: what `write` throws.
    public init(title: String, verifying: Bool, write: @escaping (String) throws -> Void) throws {
        self.write = write
        self.verifying = verifying
        try write("""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(Self.escaped(title))</title>
            <style>
            body{font:14px/1.35 system-ui,sans-serif;margin:16px;background:#fafafa;color:#222;display:flex;flex-direction:column}
            h1{font-size:18px;margin:0 0 8px;order:-2}
            .summary{order:-1;margin:0 0 12px;padding:8px 12px;background:#fff;border:1px solid #ddd;border-radius:6px}
            .summary .bad{color:#b00020;font-weight:600}
            .grid{display:flex;flex-wrap:wrap;gap:8px}
            .card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:6px;margin:0;width:min-content}
            .card.misread{border:2px solid #e69500}.card.mismatch,.card.failed{border:2px solid #b00020}
            .card img{display:block;image-rendering:pixelated}
            .strip{display:flex;height:16px;margin-top:2px}
            .cell{flex:0 0 16px;width:16px;height:16px;font:bold 11px/16px monospace;text-align:center;color:#000;box-sizing:border-box;border-right:1px solid rgba(255,255,255,.6)}
            .cell.emit{outline:1px solid #000;outline-offset:-1px}
            .text{font:600 15px monospace;margin-top:4px;white-space:nowrap}
            .meta{font-size:11px;color:#555;white-space:nowrap}
            .meta .bad{color:#b00020;font-weight:600}
            .meta.name{max-width:200px;overflow:hidden;text-overflow:ellipsis}
            </style></head><body>
            <h1>\(Self.escaped(title))</h1>
            <div class="grid">

            """)
    }

    /// Adds one image's card.
    /// - Throws: what `write` throws.
    public func add(_ entry: ReportEntry) throws {
        summary.images += 1
        var classes = ["card"]
        var meta = [String]()
        if let failure = entry.failure {
            summary.failed += 1
            classes.append("failed")
            meta.append("<span class=\"bad\">failed: \(Self.escaped(failure))</span>")
        }
        let text = entry.text ?? ""
        if entry.failure == nil, let label = entry.label {
            summary.labelled += 1
            if label == text { summary.readAsLabelled += 1 } else {
                classes.append("misread")
                meta.append("<span class=\"bad\">label \(Self.escaped(label))</span>")
            }
        }
        if let reference = entry.reference {
            summary.verified += 1
            let matches = reference.text == text && reference.maxLogitDifference <= VerificationReport.tolerance
            if reference.text == text { summary.matchingPyTorch += 1 }
            summary.largestDifference = max(summary.largestDifference, reference.maxLogitDifference)
            if !matches { classes.append("mismatch") }
            let pytorch = "PyTorch \(Self.escaped(reference.text)), max |Δlogit| "
                + Self.scientific(Double(reference.maxLogitDifference), digits: 1)
            meta.append(matches ? pytorch : "<span class=\"bad\">\(pytorch)</span>")
        }
        meta.insert("confidence \(Self.fixed(entry.confidence * 100, digits: 0))%", at: 0)
        var card = "<figure class=\"\(classes.joined(separator: " "))\" data-file=\"\(Self.escaped(entry.file))\""
        card += " data-text=\"\(Self.escaped(text))\" data-confidence=\"\(Self.fixed(entry.confidence, digits: 6))\""
        if let reference = entry.reference { card += " data-pytorch=\"\(Self.escaped(reference.text))\"" }
        card += ">"
        if !entry.imageBytes.isEmpty {
            let type = entry.imageBytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) ? "image/png" : "image/jpeg"
            card += "<img alt=\"\(Self.escaped(entry.file))\" src=\"data:\(type);base64,"
                + Data(entry.imageBytes).base64EncodedString() + "\">"
        }
        card += "<div class=\"strip\">"
        for step in entry.alignment {
            let shade = Self.fixed(step.probability, digits: 3)
            let character = step.emitted.map { Self.escaped(String($0)) } ?? ""
            card += "<span class=\"cell\(step.emitted == nil ? "" : " emit")\" data-p=\"\(shade)\" data-emit=\"\(character)\""
                + " style=\"background:rgba(30,120,220,\(shade))\" title=\"class \(step.winningClass), p=\(shade)\">"
                + character + "</span>"
        }
        card += "</div><figcaption><div class=\"text\">\(Self.escaped(text))</div><div class=\"meta\">"
            + meta.joined(separator: "<br>") + "</div><div class=\"meta name\" title=\"\(Self.escaped(entry.file))\">"
            + Self.escaped(String(entry.file.split(separator: "/").last ?? Substring(entry.file))) + "</div>"
            + "</figcaption></figure>\n"
        try write(card)
    }

    /// Writes the summary (shown at the top) and closes the page.
    /// - Returns: the summary.
    /// - Throws: what `write` throws.
    @discardableResult
    public func finish() throws -> ReportSummary {
        var parts = ["\(summary.images) images"]
        if summary.failed > 0 { parts.append("<span class=\"bad\">\(summary.failed) failed</span>") }
        if summary.labelled > 0 {
            let all = summary.readAsLabelled == summary.labelled
            parts.append("<span\(all ? "" : " class=\"bad\"")>\(summary.readAsLabelled)/\(summary.labelled) read as their file names</span>")
        }
        if verifying {
            let all = summary.matchingPyTorch == summary.verified
            parts.append("<span\(all ? "" : " class=\"bad\"")>\(summary.matchingPyTorch)/\(summary.verified) texts match PyTorch</span>")
            parts.append("largest logit difference " + Self.scientific(Double(summary.largestDifference), digits: 2))
        }
        try write("</div>\n<div class=\"summary\" data-images=\"\(summary.images)\" data-failed=\"\(summary.failed)\""
                  + " data-read-as-labelled=\"\(summary.readAsLabelled)\" data-labelled=\"\(summary.labelled)\">"
                  + parts.joined(separator: " · ") + "</div>\n</body></html>\n")
        return summary
    }

    /// `value` with `digits` decimals (rounded half away from zero), as `%.Nf` prints it
    /// for the values a report shows (finite, well within 1e15).
    static func fixed(_ value: Double, digits: Int) -> String {
        guard value.isFinite, abs(value) < 1e15 else { return "\(value)" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = (abs(value) * scale).rounded(.toNearestOrAwayFromZero)
        let whole = Int(scaled / scale), fraction = Int(scaled - Double(whole) * scale)
        let sign = value < 0 && scaled > 0 ? "-" : ""
        guard digits > 0 else { return sign + "\(whole)" }
        let decimals = String(fraction)
        return sign + "\(whole)." + String(repeating: "0", count: max(0, digits - decimals.count)) + decimals
    }

    /// `value` as `%.Ne` prints it (`1.4e-05`) for finite values; `inf`/`nan` otherwise.
    static func scientific(_ value: Double, digits: Int) -> String {
        guard value.isFinite else { return value.isNaN ? "nan" : "inf" }
        guard value != 0 else { return fixed(0, digits: digits) + "e+00" }
        var exponent = Int((abs(value)).exponent) * 30103 / 100000  // log10(2) ~ 0.30103: a first guess
        var mantissa = abs(value) / pow10(exponent)
        while mantissa >= 10 { mantissa /= 10; exponent += 1 }
        while mantissa < 1 { mantissa *= 10; exponent -= 1 }
        var text = fixed(mantissa, digits: digits)
        if text.hasPrefix("10") { exponent += 1; text = fixed(mantissa / 10, digits: digits) }  // 9.96 -> 1.0e+01
        let magnitude = abs(exponent)
        return (value < 0 ? "-" : "") + text + (exponent < 0 ? "e-" : "e+") + (magnitude < 10 ? "0" : "") + "\(magnitude)"
    }

    private static func pow10(_ exponent: Int) -> Double {
        var result = 1.0
        for _ in 0..<abs(exponent) { result *= 10 }
        return exponent < 0 ? 1 / result : result
    }

    /// `text` safe inside HTML text and double-quoted attributes.
    static func escaped(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                if character.value < 0x20 || character.value == 0x7F { out += "&#\(character.value);" }
                else { out.unicodeScalars.append(character) }
            }
        }
        return out
    }
}

extension ReportEntry {
    /// The entry for one prediction of `model`: the image file's bytes, the
    /// text, the CTC alignment and confidence from its logits, and PyTorch's
    /// result when verifying. A file that can no longer be read is shown
    /// without its image.
    public init(_ prediction: ImagePrediction, model: LoadedModel, reference: VerificationReport.Row? = nil) {
        let alignment = CTCAlignment.steps(prediction.logits, decoder: model.decoder)
        let bytes = (try? ByteBuffer.mapping(path: prediction.file).withUnsafeBytes { Array($0) }) ?? []
        self.init(file: prediction.file, imageBytes: bytes, text: prediction.text,
                  confidence: CTCAlignment.confidence(of: alignment), alignment: alignment,
                  reference: reference.map { ($0.expectedText, $0.maxLogitDifference) })
    }

    /// The entry for an image that failed.
    public init(file: String, failure: any Error) {
        self.init(file: file, imageBytes: [], text: nil, failure: "\(failure)", confidence: 0, alignment: [])
    }
}
