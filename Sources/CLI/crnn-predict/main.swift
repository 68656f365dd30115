import ArgumentParser
import CLISupport
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CRNNFormat
import Prediction

/// `crnn-predict MODEL IMAGE...`: text from captcha images, and verification
/// against PyTorch's recorded outputs.
struct CRNNPredict: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crnn-predict",
        abstract: "Read the text in captcha images with a converted CRNN, or verify it against PyTorch.",
        discussion: """
            MODEL is a .bin written by crnn-convert (memory-mapped) or a PyTorch checkpoint, converted in \
            memory on the way. IMAGE arguments are PNG or JPEG files or folders of them (sorted by name). \
            Images are converted exactly as PIL's Image.open(p).convert('RGB') and scaled to [0, 1]; heights \
            49 to 64 are accepted (4 feature rows), any width up to 16384 pixels (the limit per side of both \
            decoders); CMYK JPEGs are refused.

            Output: one line per image, FILE<TAB>TEXT; with --json one JSON object per line, \
            {"file": ..., "text": ...}, plus "logits" (T arrays of class scores, the raw linear2 output) \
            with --logits.

            By default every image is its own batch of one, as the reference notebook predicts. \
            --torch-batch N reproduces PyTorch's forward over consecutive batches of N images exactly; \
            its GRUs run along the batch axis, so results depend on the batch (see README).

            --verify REFERENCE runs the model on the images a reference file lists (written by \
            scripts/record_reference.py with PyTorch) in its batch mode and compares texts and logits; \
            it exits 1 on any text mismatch or a logit difference above 1e-3.

            On CPUs with AVX-512 the layers run on AVX-512 kernels, on other CPUs with AVX2 and FMA on \
            AVX2 kernels; CRNN_VECTOR_UNIT=portable (or avx2, avx512) in the environment picks a unit \
            (portable: Swift loops and OpenBLAS, or a built-in product where OpenBLAS is missing or \
            CRNN_BLAS=builtin); any other value is an error.

            Results are printed in input order as they are done, a chunk of images at a time, so memory \
            stays flat for any number of images. An image that cannot be read is one line on standard \
            error; every other image's result is still printed, and the exit status is then 1.

            --report FILE.html also writes a self-contained page (images inlined, no scripts): each \
            image with its text, confidence and CTC alignment (one cell per time step, shaded by the \
            winning class's probability, labelled where it emits a character), misreads against the \
            file name and, with --verify, PyTorch's text and the logit difference.

            Every input (MODEL, images, files in image folders, REFERENCE) must be a regular file: a FIFO, \
            socket or device is refused at once. A .pt MODEL's zip records are checked against their CRC-32 \
            before use. A file truncated or rewritten while it is read gives "changed while it was read".

            A failed write to standard output is an error (exit 1); a closed pipe (| head) ends quietly.
            """)

    @Argument(help: "The model: a .bin from crnn-convert, a PyTorch checkpoint, or a .safetensors file of its state_dict.")
    var model: String

    @Argument(help: "Image files or folders (.png, .jpg, .jpeg).")
    var images: [String] = []

    @Flag(help: "One JSON object per line instead of FILE<TAB>TEXT.")
    var json = false

    @Flag(help: "With --json, include the logits of every time step.")
    var logits = false

    @Option(help: "Reproduce PyTorch's forward over consecutive batches of N images (GRU over the batch axis).")
    var torchBatch: Int?

    @Option(
        parsing: .unconditional,
        help: "Threads (default: all cores; 1 to \(Predictor.maximumThreads), the larger of the core count and 64): one image per thread, or one image's layers split between them.")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "The alphabet of a .pt model (see crnn-convert --alphabet); refused with a .bin, which stores its own.")
    var alphabet: String?

    @Option(help: "Compare with PyTorch's outputs recorded in this reference file; exits 1 on any mismatch.")
    var verify: String?

    @Option(help: ArgumentHelp(
        "Also write a self-contained HTML page: each image with its text, confidence and CTC alignment (and PyTorch's result with --verify).",
        valueName: "report.html"))
    var report: String?

    func validate() throws {
        if let torchBatch, torchBatch < 1 { throw ValidationError("--torch-batch must be at least 1") }
        if threads < 1 { throw ValidationError("--threads must be at least 1, not \(threads)") }
        if threads > Predictor.maximumThreads {
            throw ValidationError("--threads must be at most \(Predictor.maximumThreads) (the larger of this machine's core count and 64), not \(threads)")
        }
        if verify == nil && images.isEmpty { throw ValidationError("give at least one image or folder, or --verify REFERENCE") }
        if verify != nil && (!images.isEmpty || torchBatch != nil) {
            throw ValidationError("--verify takes its images and batch size from the reference file")
        }
        if logits && !json { throw ValidationError("--logits needs --json") }
    }

    func run() throws {
        try reportingErrors("crnn-predict") {
            let loaded = try ModelLoader.load(path: model, alphabet: alphabet)
            if !loaded.nonFiniteTensors.isEmpty {
                StandardError.write(nonFiniteWarning(command: "crnn-predict", file: model, tensors: loaded.nonFiniteTensors))
            }
            let predictor = Predictor(model: loaded, threads: threads)
            if let verify {
                try runVerification(referencePath: verify, predictor: predictor)
                return
            }
            let files = try ImageCollection.expand(images)
            let bar = ProgressBar(total: files.count, label: "predicting")
            var failures = 0
            try withReport(title: "crnn-predict: \(files.count) images", verifying: false) { report in
                // Results stream in input order, a chunk at a time: memory stays flat for any number of images.
                var output = ""
                try predictor.predictInOrder(files: files, torchBatch: torchBatch, progress: bar?.callback) { index, result in
                    switch result {
                    case let .success(prediction):
                        output += json ? JSONLine.prediction(prediction, includeLogits: logits)
                            : "\(prediction.file.escapingControlCharacters)\t\(prediction.text)"
                        output += "\n"
                        try report?.add(ReportEntry(prediction, model: loaded))
                    case let .failure(error):
                        // The model or the machine failing is no image's fault: it ends the run.
                        guard Predictor.isAboutOneImage(error) else { throw error }
                        failures += 1
                        try report?.add(ReportEntry(file: files[index], failure: error))
                        try StandardOutput.write(output, terminator: "")
                        output = ""
                        // On a terminal, over the progress bar's line (it redraws itself below).
                        let start = bar != nil && StandardError.isTerminal ? "\r\u{1B}[K" : ""
                        StandardError.write(start + "crnn-predict: " + "\(error)".escapingControlCharacters)
                    }
                    if output.utf8.count >= 1 << 16 || index == files.count - 1 {
                        try StandardOutput.write(output, terminator: "")
                        output = ""
                    }
                }
            }
            if failures > 0 { throw ExitCode(1) }  // each failed image had its line
        }
    }

    /// Runs `body` with a report writer when `--report` was given (the page
    /// appears complete or not at all), or with `nil`.
    private func withReport(title: String, verifying: Bool, _ body: (HTMLReportWriter?) throws -> Void) throws {
        guard let report else { return try body(nil) }
        do {
            try AtomicReplacement.write(to: report) { append in
                try withoutActuallyEscaping(append) { append in
                    // The writer lives only inside this call.
                    let writer = try HTMLReportWriter(title: title, verifying: verifying) { text in
                        var text = text
                        try text.withUTF8 { try append(UnsafeRawBufferPointer($0)) }
                    }
                    try body(writer)
                    try writer.finish()
                }
            }
        } catch let failure as AtomicReplacement.Failure {
            throw PredictionError.reportNotWritten(file: report, reason: failure.reason)
        }
    }

    private func runVerification(referencePath: String, predictor: Predictor) throws {
        let reference = try ReferenceFile.load(path: referencePath)
        let bar = ProgressBar(total: reference.images.count, label: "verifying")
        var verification: VerificationReport?
        try withReport(title: "crnn-predict --verify \(referencePath)", verifying: true) { report in
            verification = try Verifier.verify(referencePath: referencePath, predictor: predictor, progress: bar?.callback) {
                row, prediction in try report?.add(ReportEntry(prediction, model: predictor.loaded, reference: row))
            }
        }
        guard let report = verification else { return }
        var output = ""
        for row in report.rows {
            let status = row.textMatches && row.maxLogitDifference <= VerificationReport.tolerance ? "ok" : "MISMATCH"
            output += "\(row.file.escapingControlCharacters)\tpytorch=\(row.expectedText)\tswift=\(row.text)\tmax|dlogit|=\(String(cFormat: "%.2e", row.maxLogitDifference))\t\(status)\n"
        }
        let mode = report.batchSize == 1 ? "batch of one" : "PyTorch batches of \(report.batchSize)"
        try StandardOutput.write(output + "verified \(report.rows.count) images (\(mode)): \(report.matchingTexts)/\(report.rows.count) texts match PyTorch, "
              + "largest logit difference \(String(cFormat: "%.2e", report.maxLogitDifference)) (tolerance \(VerificationReport.tolerance)): "
              + (report.passed ? "PASS" : "FAIL"))
        if !report.passed { throw ExitCode(1) }
    }
}

/// JSON lines of `--json` output, built by hand so floats print in their
/// shortest exact form.
enum JSONLine {
    static func prediction(_ result: ImagePrediction, includeLogits: Bool) -> String {
        var line = "{\"file\":\(quoted(result.file)),\"text\":\(quoted(result.text))"
        if includeLogits {
            let classes = result.logits.classes
            let rows = (0..<result.logits.timeSteps).map { step in
                "[" + result.logits.values[(step * classes)..<((step + 1) * classes)].map { $0.isFinite ? "\($0)" : "null" }
                    .joined(separator: ",") + "]"
            }
            line += ",\"logits\":[" + rows.joined(separator: ",") + "]"
        }
        return line + "}"
    }

    static func quoted(_ text: String) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        let data = (try? encoder.encode(text)) ?? Data("\"\"".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

CRNNPredict.mainCheckingOutput()
