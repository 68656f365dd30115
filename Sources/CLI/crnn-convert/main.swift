import ArgumentParser
import CLISupport
import Conversion
import SourceHashing

/// `crnn-convert IN.pt OUT.bin`: a PyTorch CRNN checkpoint to our flat weight file.
struct CRNNConvert: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crnn-convert",
        abstract: "Convert a PyTorch CRNN checkpoint into a flat, memory-mappable .bin weight file.",
        discussion: """
            INPUT is anything torch.save writes for the CRNN: a state_dict in the zip or legacy layout, a \
            checkpoint dict holding one ('state_dict', 'model_state_dict', 'model', ...), keys with the \
            'module.' prefix of DataParallel, float16/bfloat16/float64 weights, or a whole pickled module \
            (its classes are only named, nothing in the file is run). Every tensor is checked against the \
            model's layers; all problems are reported at once.

            The output is written to a temporary file, read back and compared with the source tensor by \
            tensor, synced to disk and only then renamed into place: a failed or interrupted run leaves \
            OUTPUT as it was. \
            The format is specified in formats/CRNN-BIN.md. A state_dict with NaN or infinite weights is \
            converted as it is, with a warning naming those tensors.

            OUTPUT must be a new name, a regular file (the new file keeps its permission bits) or a symbolic \
            link, which is itself replaced by the new file (the file it points to is left alone). A folder, \
            FIFO, socket or device at OUTPUT is refused and left as it was, and so is a name ending in '/'. \
            SIGINT, SIGTERM and SIGHUP during the write remove the temporary file (.OUTPUT.<random>.tmp \
            beside it) before the process ends as the signal ends it (130, 143, 129 in a shell); only \
            SIGKILL can leave it behind.

            INPUT must be a regular file (a FIFO, socket or device is refused at once). Every zip record's \
            CRC-32 is checked before its bytes are used; a mismatch names the record and its tensors. A \
            file truncated or rewritten while it is read gives "changed while it was read".
            """)

    @Argument(help: "The checkpoint to read (.pt, .pth, .safetensors; also a .bin when writing safetensors).")
    var input: String

    @Argument(help: "The file to write: a .bin, or a .safetensors (see --format).")
    var output: String

    @Option(help: "The characters of classes 1, 2, ... (class 0 is the CTC blank), one Unicode scalar each (a combining accent is a character of its own), no control characters. Default: an 'alphabet' stored in the checkpoint dict, else lowercase letters then digits for a 37-class model.")
    var alphabet: String?

    @Option(help: "How float tensors are stored: f32 (exact) or f16 (half the size; prints the largest rounding error).")
    var dtype: String = "f32"

    @Option(help: "The output format: bin (the CRNN weight file) or safetensors (any state_dict, as PyTorch names and types it). Default: safetensors for an OUTPUT ending in .safetensors, else bin.")
    var format: String?

    func validate() throws {
        guard ["f32", "f16"].contains(dtype) else { throw ValidationError("--dtype must be f32 or f16, not '\(dtype)'") }
        try validateFormat()
    }

    func run() throws {
        if writesSafetensors { return try runSafetensors() }
        try reportingErrors("crnn-convert") {
            let options = ConversionOptions(alphabet: alphabet, storedFloatType: dtype == "f16" ? .float16 : .float32)
            let report = try Converter.convert(
                input: input, output: output, options: options, sourceDigest: SourceHashing.sha256(path:))
            let meta = report.metadata
            var summary = """
                converted \(input) -> \(output)
                  source: \(report.checkpointInfo.layout.rawValue) layout, state_dict at \(report.checkpointInfo.source)\
                \(report.checkpointInfo.strippedPrefix.map { ", prefix '\($0)' removed" } ?? "")
                  model: \(meta.architecture), widths \(meta.trunkWidths), hidden \(meta.hiddenSize), \
                \(meta.vocabularySize) classes, alphabet '\(meta.alphabet)'
                  \(report.layerCount) layers, \(report.tensorCount) tensors, \(report.parameterCount) parameters, \
                \(report.outputBytes) bytes as \(meta.storedFloatType.rawValue)

                """
            if meta.storedFloatType == .float16 {
                summary += "  float16 rounding: largest absolute weight change \(String(cFormat: "%.3g", report.largestRoundingError))\n"
            }
            summary += "  verified every tensor against the source in \(String(cFormat: "%.3f", report.seconds)) s"
            try StandardOutput.write(summary)
            if !report.nonFiniteTensors.isEmpty {
                StandardError.write(nonFiniteWarning(command: "crnn-convert", file: input, tensors: report.nonFiniteTensors))
            }
        }
    }
}

CRNNConvert.mainCheckingOutput()
