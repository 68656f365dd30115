import SystemShim
import Synchronization

/// Removes the temporary files of writes in progress when SIGINT, SIGTERM or
/// SIGHUP ends the process, which then ends as that signal would have ended
/// it (status 130, 143 or 129 in a shell). SIGKILL cannot be caught: it is the
/// one way to leave a temporary file behind.
///
/// The handlers are installed while at least one write is in progress and
/// the process's previous dispositions come back after the last one; a
/// signal the process ignores (`nohup`) stays ignored. The handler only
/// calls `unlink`, `sigaction` and `raise`, which are async-signal-safe.
enum InterruptCleanup {
    /// The signals that remove the temporary files.
    static let signals: [Int32] = [SIGINT, SIGTERM, SIGHUP]
    /// How many writes may be protected at once in one process; further
    /// concurrent ones run unprotected (a CLI makes one).
    static let capacity = 8

    /// The temporary paths (C strings, as `Int` bit patterns; 0 for a free slot).
    fileprivate static let pending: InlineArray<8, Atomic<Int>> = InlineArray { _ in Atomic(0) }
    /// The dispositions replaced, by signal number, for the handler to put
    /// back: written under `lock` before the handler is installed,
    /// only read while it is.
    nonisolated(unsafe) fileprivate static let previous: UnsafeMutablePointer<sigaction> = {
        let actions = UnsafeMutablePointer<sigaction>.allocate(capacity: 65)
        actions.initialize(repeating: sigaction(), count: 65)
        return actions
    }()
    /// Writes in progress, and the signals whose handler is ours; guarded by `lock`.
    nonisolated(unsafe) private static var writes = 0
    nonisolated(unsafe) private static var installed: [Int32] = []
    /// A plain pthread mutex (not a `Mutex`: one in `MappingGuard` stopped
    /// the tests with "Call to unlock Mutex on a thread which hasn't acquired
    /// the lock"; the cause was not found).
    nonisolated(unsafe) private static let lock: UnsafeMutablePointer<pthread_mutex_t> = {
        let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(lock, nil)
        return lock
    }()

    /// Runs `body` with `temporary` removed by the handler should one of
    /// `signals` arrive meanwhile. Call it before the file is created: the
    /// name is random, so removing it when it does not exist yet is harmless.
    static func protecting<R, E: Error>(_ temporary: String, _ body: () throws(E) -> R) throws(E) -> R {
        // Never freed: a handler running on another thread may still be reading it.
        let name = Int(bitPattern: strdup(temporary))
        let slot = (0..<capacity).first { pending[$0].compareExchange(expected: 0, desired: name, ordering: .acquiringAndReleasing).exchanged }
        begin()
        defer {
            end()
            if let slot { pending[slot].store(0, ordering: .releasing) }
        }
        return try body()
    }

    private static func begin() {
        // Before any handler can run: the lazy globals it reads exist.
        _ = previous
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        writes += 1
        guard writes == 1 else { return }
        for signal in signals {
            var old = sigaction()
            guard sigaction(signal, nil, &old) == 0, !isIgnored(old) else { continue }
            previous[Int(signal)] = old
            var action = sigaction()
            action.__sigaction_handler.sa_handler = removePendingAndResignal
            sigemptyset(&action.sa_mask)
            for other in signals { sigaddset(&action.sa_mask, other) }
            if sigaction(signal, &action, nil) == 0 { installed.append(signal) }
        }
    }

    private static func end() {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        writes -= 1
        guard writes == 0 else { return }
        for signal in installed { _ = sigaction(signal, previous + Int(signal), nil) }
        installed = []
    }

    private static func isIgnored(_ action: sigaction) -> Bool {
        guard action.sa_flags & SA_SIGINFO == 0, let handler = action.__sigaction_handler.sa_handler else { return false }
        return unsafeBitCast(handler, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self)
    }
}

/// The handler: removes every pending temporary file, puts the previous
/// disposition back and raises the signal again (delivered once the handler
/// returns, so the process ends as it would have without the handler).
private func removePendingAndResignal(_ signal: Int32) {
    for slot in 0..<InterruptCleanup.capacity {
        let name = InterruptCleanup.pending[slot].load(ordering: .acquiring)
        if name != 0, let path = UnsafePointer<CChar>(bitPattern: name) { unlink(path) }
    }
    _ = sigaction(signal, InterruptCleanup.previous + Int(signal), nil)
    raise(signal)
}
