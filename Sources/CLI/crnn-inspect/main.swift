import ArgumentParser
import CLISupport
import Inspection

/// `crnn-inspect FILE`: what a checkpoint holds, without running any of it.
struct CRNNInspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crnn-inspect",
        abstract: "Show the tensors of a PyTorch checkpoint or a converted .bin, without running anything in it.",
        discussion: """
            FILE may be any state_dict that torch.save writes (the zip archive of PyTorch >= 1.6 or the \
            legacy stream), a checkpoint dict that holds one ('state_dict', 'model_state_dict', 'model', ...), \
            or a .bin written by crnn-convert. The pickle inside a .pt is read through an allowlist of the \
            globals torch uses for tensors; nothing in it is ever executed.

            The table groups tensors by layer (the name up to its last dot) with element counts and bytes. \
            Without --stats no tensor data is read, so even a very large file is inspected at the cost of \
            its pickle. Tensors outside the state_dict (an optimizer's state, an EMA copy, tensors in lists) \
            are counted under the table, with where they are; --all lists every tensor in the file by its \
            path in the pickled object (optimizer.state.0.exp_avg). Exit status: 0 on success, 1 with one line on stderr for any unreadable input.

            FILE must be a regular file (a FIFO, socket or device is refused at once). The CRC-32 of every \
            zip record read is checked first (with --stats, every tensor's record); a mismatch names the \
            record and its tensors. A file truncated or rewritten while it is read gives "changed while \
            it was read".
            """)

    @Argument(help: "The checkpoint (.pt, .pth), .safetensors or .bin file to inspect.")
    var file: String

    @Flag(help: "Print one JSON document instead of the table (schema in README.md).")
    var json = false

    @Flag(help: "Also read every tensor and show min, max, mean, standard deviation and NaN/Inf counts.")
    var stats = false

    @Flag(help: "Also list every tensor anywhere in the file by its path (an optimizer's state, an EMA copy, tensors in lists), not only the state_dict's.")
    var all = false

    @Flag(help: "Read a whole pickled nn.Module (torch.save(model)): its classes are named, never loaded or run.")
    var allowPickledModules = false

    @Option(help: "Compare FILE's tensors with this file's (.pt, .safetensors or .bin): names only in one, dtype or shape differences, the largest absolute and relative difference per tensor. Exit 0 when equal, 2 when not.")
    var compare: String?

    @Option(help: "With --compare: the largest absolute difference still counted as equal (default 0: exact).")
    var tolerance: Double = 0

    func validate() throws { try validateComparison() }

    func run() throws {
        if let compare { return try runComparison(with: compare) }
        try reportingErrors("crnn-inspect") {
            let report = try Inspector.inspect(
                path: file, statistics: stats, allowPickledModules: allowPickledModules, listingEveryTensor: all)
            try StandardOutput.write(json ? try report.json() : report.table())
        }
    }
}

CRNNInspect.mainCheckingOutput()
