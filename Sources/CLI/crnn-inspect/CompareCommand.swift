import ArgumentParser
import CLISupport
import Inspection

/// `crnn-inspect A --compare B`: the two files' tensors side by side.
extension CRNNInspect {
    /// The exit status when the files differ (errors exit 1, as everywhere).
    static let differentStatus: Int32 = 2

    /// Checks `--tolerance` (and that it comes with `--compare`, which `--stats` does not).
    func validateComparison() throws {
        if compare != nil && stats { throw ValidationError("--stats does not apply with --compare") }
        guard tolerance >= 0, tolerance.isFinite else {
            throw ValidationError("--tolerance must be a finite number >= 0, not \(tolerance)")
        }
        if compare == nil && tolerance != 0 { throw ValidationError("--tolerance applies only with --compare") }
    }

    /// Compares `file` with `other`, prints the report, exits 0 when equal
    /// within the tolerance and 2 when not.
    func runComparison(with other: String) throws {
        var equal = true
        try reportingErrors("crnn-inspect") {
            let report = try Comparison.compare(file, other, tolerance: tolerance, allowPickledModules: allowPickledModules)
            print(json ? try report.json() : report.table())
            equal = report.isEqual
        }
        if !equal { throw ExitCode(Self.differentStatus) }
    }
}
