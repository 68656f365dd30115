import ArgumentParser
import CLISupport
import Conversion
import SourceHashing

/// `crnn-convert IN OUT.safetensors`: any state_dict to a safetensors file.
extension CRNNConvert {
    /// True when the output is a safetensors file (`--format`, else the extension).
    var writesSafetensors: Bool {
        format.map { $0 == "safetensors" } ?? output.lowercased().hasSuffix(".safetensors")
    }

    /// Checks `--format`, and that `--dtype f16` is not asked of a safetensors output.
    func validateFormat() throws {
        if let format, !["bin", "safetensors"].contains(format) {
            throw ValidationError("--format must be bin or safetensors, not '\(format)'")
        }
        if writesSafetensors && dtype != "f32" {
            throw ValidationError("--dtype \(dtype) applies to .bin output; a safetensors file keeps every tensor's own dtype")
        }
    }

    /// Writes the safetensors file and prints what was done.
    func runSafetensors() throws {
        try reportingErrors("crnn-convert") {
            let report = try SafetensorsExport.convert(
                input: input, output: output, alphabet: alphabet, sourceDigest: SourceHashing.sha256(path:))
            let source = report.checkpointInfo.map { "\($0.layout.rawValue) layout, state_dict at \($0.source)" } ?? "crnn-bin file"
            print("""
                converted \(input) -> \(output) (safetensors)
                  source: \(source)
                  \(report.tensorCount) tensors, \(report.elementCount) elements, \(report.outputBytes) bytes; \
                \(report.repackedCount) strided views packed, \(report.sharedStorageCount) tensors sharing a storage written apart
                  verified every tensor against the source in \(String(cFormat: "%.3f", report.seconds)) s
                """)
        }
    }
}
