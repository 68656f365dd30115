import SystemShim
import Dispatch
import Synchronization

/// A fixed team of threads that splits ONE image's layers between cores.
///
/// `run(_:)` calls its body once per member, at the same time, the caller's
/// thread being member 0, and returns when every member is done. The other
/// members spin for a while between calls (a layer follows a layer within
/// microseconds, far sooner than a sleeping thread wakes) and then sleep, so
/// an idle team costs nothing. Kernels take a team and split their work by
/// `share(of:member:)`; a team of one (`ThreadTeam.alone`) runs everything on
/// the caller's thread with no synchronisation.
///
/// A team serves one job at a time: calls from several threads take turns,
/// so give each thread that runs images its own team (or none).
public final class ThreadTeam: @unchecked Sendable {
    /// Members, the caller included.
    public let size: Int
    private let state: State
    /// One job at a time.
    private let exclusive = Mutex(())

    /// The team of one: no threads, `run` calls its body directly.
    public static let alone = ThreadTeam(size: 1)

    /// A team of `size` members (at least 1): `size - 1` threads are started.
    /// If the system refuses a thread, the team is smaller (see `size`).
    public init(size: Int) {
        let requested = max(1, size)
        state = State(helpers: requested - 1)
        var started = 0
        for member in 1..<requested {
            guard state.start(member: member) else { break }
            started += 1
        }
        state.helpers = started
        self.size = started + 1
    }

    deinit { state.stop() }

    /// Runs `body(member)` for every member 0..<size at once; returns when all have.
    /// Calls from several threads at once take turns.
    public func run(_ body: (_ member: Int) -> Void) {
        guard size > 1 else { return body(0) }
        exclusive.withLock { _ in
            withoutActuallyEscaping(body) { job in
                state.dispatch(job)
                job(0)
                state.waitForHelpers()
            }
        }
    }

    /// The contiguous part of `0..<count` that `member` takes (parts differ
    /// by at most one element; a part may be empty).
    public func share(of count: Int, member: Int) -> Range<Int> {
        let base = count / size, extra = count % size
        let start = member * base + min(member, extra)
        return start..<(start + base + (member < extra ? 1 : 0))
    }

    /// What the helper threads share with the caller, kept apart from the
    /// team so that the threads do not keep the team alive.
    final class State: @unchecked Sendable {
        /// Helper threads running (set once, before the first job).
        nonisolated(unsafe) var helpers: Int
        /// Bumped once per job; helpers wait for it to move.
        let generation = Atomic<Int>(0)
        /// Helpers done with the current job.
        let finished = Atomic<Int>(0)
        /// One per helper (index member - 1): each sleeps on its own
        /// semaphore, so no helper can take another's wake-up.
        let sleepers: [Sleeper]
        let stopping = Atomic<Bool>(false)
        /// The current job; written before `generation` is bumped (release),
        /// read after it is seen (acquire).
        nonisolated(unsafe) var job: ((Int) -> Void)?
        /// Spins before a helper sleeps (a few hundred microseconds): longer
        /// than the gaps in one image's forward pass (between the trunk and the
        /// head, about 20 µs), since waking a sleeping helper costs about 60 µs.
        static let spinLimit = 250_000

        init(helpers: Int) {
            self.helpers = helpers
            sleepers = (0..<helpers).map { _ in Sleeper() }
        }

        /// Starts the thread of `member`; false when the system refuses one.
        func start(member: Int) -> Bool {
            let context = Unmanaged.passRetained(Box(state: self, member: member)).toOpaque()
            var thread = pthread_t()
            let created = pthread_create(&thread, nil, { raw in
                let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
                box.state.serve(member: box.member)
                return nil
            }, context)
            guard created == 0 else {
                Unmanaged<Box>.fromOpaque(context).release()
                return false
            }
            pthread_detach(thread)
            return true
        }

        func dispatch(_ body: @escaping (Int) -> Void) {
            job = body
            finished.store(0, ordering: .relaxed)
            // Sequentially consistent with the helper's announce-then-look below,
            // so that one of the two always sees the other (no lost wake-up).
            generation.add(1, ordering: .sequentiallyConsistent)
            for sleeper in sleepers.prefix(helpers)
            where sleeper.asleep.exchange(false, ordering: .sequentiallyConsistent) {
                sleeper.wake.signal()
            }
        }

        func waitForHelpers() {
            while finished.load(ordering: .acquiring) < helpers {}
            job = nil
        }

        func stop() {
            stopping.store(true, ordering: .sequentiallyConsistent)
            generation.add(1, ordering: .sequentiallyConsistent)
            for sleeper in sleepers.prefix(helpers) { sleeper.wake.signal() }
        }

        /// A helper's life: wait for a job, run its share, report, repeat.
        func serve(member: Int) {
            // Generation 0 is "no job yet": a thread that starts late still sees the first job.
            var seen = 0
            while true {
                var spins = 0
                while generation.load(ordering: .acquiring) == seen {
                    spins += 1
                    if spins < Self.spinLimit { continue }
                    // Sleep; a dispatch that raced with this wakes us (a spare
                    // signal only causes one extra look at `generation`).
                    let sleeper = sleepers[member - 1]
                    sleeper.asleep.store(true, ordering: .sequentiallyConsistent)
                    if generation.load(ordering: .sequentiallyConsistent) == seen { sleeper.wake.wait() }
                    spins = 0
                }
                seen = generation.load(ordering: .acquiring)
                if stopping.load(ordering: .acquiring) { return }
                job?(member)
                finished.add(1, ordering: .releasing)
            }
        }
    }

    /// A helper's sleep flag and its own semaphore.
    final class Sleeper: Sendable {
        let asleep = Atomic<Bool>(false)
        let wake = DispatchSemaphore(value: 0)
    }

    final class Box {
        let state: State
        let member: Int
        init(state: State, member: Int) {
            self.state = state
            self.member = member
        }
    }
}
