import Synchronization

/// A one-line progress bar on standard error, redrawn in place; shown only
/// when standard error is a terminal.
public final class ProgressBar: Sendable {
    private let total: Int
    private let label: String
    private let started = ContinuousClock.now
    /// The number of `#` drawn last (-1 before the first draw); held while drawing.
    private let lastDrawn = Mutex(-1)

    /// A bar for `total` items, or `nil` when standard error is not a terminal
    /// or there are too few items to need one.
    public init?(total: Int, label: String, minimum: Int = 8) {
        guard StandardError.isTerminal, total >= minimum else { return nil }
        self.total = total
        self.label = label
    }

    /// `update` as a callback for work running on other threads.
    public var callback: @Sendable (Int) -> Void { { [self] done in update(done) } }

    /// Redraws for `done` items finished.
    public func update(_ done: Int) {
        lastDrawn.withLock { lastDrawn in
            let width = 30
            let filled = total == 0 ? width : min(width, done * width / total)
            guard filled != lastDrawn || done == total else { return }
            lastDrawn = filled
            let elapsed = started.duration(to: .now).components
            let rate = Double(done) / max(Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18, 1e-6)
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            let line = "\r\(label) [\(bar)] \(done)/\(total) \(String(cFormat: "%.0f", rate))/s"
            StandardError.write(line, terminator: done == total ? "\n" : "")
        }
    }
}
