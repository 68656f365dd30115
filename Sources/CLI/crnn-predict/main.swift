import ArgumentParser
import CLISupport
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
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
            49 to 64 are accepted (4 feature rows), any width.

            Output: one line per image, FILE<TAB>TEXT; with --json one JSON object per line, \
            {"file": ..., "text": ...}, plus "logits" (T arrays of class scores, the raw linear2 output) \
            with --logits.

            By default every image is its own batch of one, as the reference notebook predicts. \
            --torch-batch N reproduces PyTorch's forward over consecutive batches of N images exactly; \
            its GRUs run along the batch axis, so results depend on the batch (see README).

            --verify REFERENCE runs the model on the images a reference file lists (written by \
            scripts/record_reference.py with PyTorch) in its batch mode and compares texts and logits; \
            it exits 1 on any text mismatch or a logit difference above 1e-3.

            On CPUs with AVX-512 the layers run on AVX-512 kernels; CRNN_VECTOR_UNIT=portable in the \
            environment runs the portable ones (Swift loops and OpenBLAS) instead.
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

    @Option(help: "Threads (default: all cores): one image per thread, or one image's layers split between them.")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "The alphabet of a .pt model (see crnn-convert --alphabet).")
    var alphabet: String?

    @Option(help: "Compare with PyTorch's outputs recorded in this reference file; exits 1 on any mismatch.")
    var verify: String?

    func validate() throws {
        if let torchBatch, torchBatch < 1 { throw ValidationError("--torch-batch must be at least 1") }
        if threads < 1 { throw ValidationError("--threads must be at least 1") }
        if verify == nil && images.isEmpty { throw ValidationError("give at least one image or folder, or --verify REFERENCE") }
        if verify != nil && (!images.isEmpty || torchBatch != nil) {
            throw ValidationError("--verify takes its images and batch size from the reference file")
        }
        if logits && !json { throw ValidationError("--logits needs --json") }
    }

    func run() throws {
        try reportingErrors("crnn-predict") {
            let loaded = try ModelLoader.load(path: model, alphabet: alphabet)
            let predictor = Predictor(model: loaded, threads: threads)
            if let verify {
                try runVerification(referencePath: verify, predictor: predictor)
                return
            }
            let files = try ImageCollection.expand(images)
            let bar = ProgressBar(total: files.count, label: "predicting")
            let results = try predictor.predict(files: files, torchBatch: torchBatch, progress: bar?.callback)
            var output = ""
            for result in results {
                output += json ? JSONLine.prediction(result, includeLogits: logits) : "\(result.file)\t\(result.text)"
                output += "\n"
            }
            StandardOutput.write(output, terminator: "")
        }
    }

    private func runVerification(referencePath: String, predictor: Predictor) throws {
        let reference = try ReferenceFile.load(path: referencePath)
        let bar = ProgressBar(total: reference.images.count, label: "verifying")
        let report = try Verifier.verify(referencePath: referencePath, predictor: predictor, progress: bar?.callback)
        for row in report.rows {
            let status = row.textMatches && row.maxLogitDifference <= VerificationReport.tolerance ? "ok" : "MISMATCH"
            print("\(row.file)\tpytorch=\(row.expectedText)\tswift=\(row.text)\tmax|dlogit|=\(String(cFormat: "%.2e", row.maxLogitDifference))\t\(status)")
        }
        let mode = report.batchSize == 1 ? "batch of one" : "PyTorch batches of \(report.batchSize)"
        print("verified \(report.rows.count) images (\(mode)): \(report.matchingTexts)/\(report.rows.count) texts match PyTorch, "
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

CRNNPredict.main()
