import Dispatch

/// Work started on another thread now, its result collected later: lets the
/// converter hash the input file while it parses it (the machine's second
/// core would otherwise sit idle).
final class BackgroundWork<Value: Sendable>: @unchecked Sendable {
    // `outcome` is written once by the worker before it signals `finished`, and
    // read only after waiting on `finished`: the semaphore orders the two.
    private let finished = DispatchSemaphore(value: 0)
    private var outcome: Result<Value, any Error>?

    /// Starts `work` on a global queue.
    init(_ work: @escaping @Sendable () throws -> Value) {
        DispatchQueue.global(qos: .userInitiated).async {
            self.outcome = Result(catching: work)
            self.finished.signal()
        }
    }

    /// Waits for the work to end, then returns its value or throws its error.
    /// Call once.
    func value() throws -> Value {
        finished.wait()
        guard let outcome else { preconditionFailure("signalled before the outcome was stored") }
        return try outcome.get()
    }
}
