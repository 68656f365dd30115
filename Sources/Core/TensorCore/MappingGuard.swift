import SystemShim
import Synchronization

/// Keeps a read of a memory-mapped file from ending the process when another
/// process truncates the file: the pages past the new end raise SIGBUS when
/// touched. For an address inside a registered mapping, the handler maps
/// zero-filled pages over the rest of that mapping (so the read that faulted,
/// and every later one, see zeros) and marks the mapping damaged, which
/// `ByteBuffer.checkUnchanged()` then reports as `changedWhileRead`. Any other
/// SIGBUS goes to the disposition that was there before (the default: the
/// process ends as it always would).
///
/// The handler calls only `mmap` and `sigaction` (system calls) and reads
/// atomics; it allocates nothing.
enum MappingGuard {
    /// Mappings guarded at once; a file mapped while all are taken is read
    /// into memory instead.
    static let capacity = 32

    /// Each slot's mapping: first byte and end (0 when the slot is free), and
    /// whether the handler replaced some of its pages.
    fileprivate static let starts: InlineArray<32, Atomic<Int>> = InlineArray { _ in Atomic(0) }
    fileprivate static let ends: InlineArray<32, Atomic<Int>> = InlineArray { _ in Atomic(0) }
    fileprivate static let damaged: InlineArray<32, Atomic<Bool>> = InlineArray { _ in Atomic(false) }
    fileprivate static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
    /// The SIGBUS disposition before ours: written once, before the handler
    /// is installed, only read after.
    nonisolated(unsafe) fileprivate static var previous = sigaction()
    /// 0 before the handler is installed, 1 while a thread installs it, 2 after.
    private static let installation = Atomic(0)

    /// Guards `count` bytes mapped at `start`; `nil` when every slot is taken.
    static func register(start: Int, count: Int) -> Int? {
        install()
        for slot in 0..<capacity where starts[slot].compareExchange(expected: 0, desired: start, ordering: .acquiringAndReleasing).exchanged {
            damaged[slot].store(false, ordering: .releasing)
            ends[slot].store(start + count, ordering: .releasing)
            return slot
        }
        return nil
    }

    /// Ends the guard of `slot` (before its mapping is unmapped, so that the
    /// addresses can be reused by anything else).
    static func unregister(_ slot: Int) {
        ends[slot].store(0, ordering: .releasing)
        starts[slot].store(0, ordering: .releasing)
    }

    /// True when the handler replaced pages of `slot`'s mapping.
    static func isDamaged(_ slot: Int) -> Bool { damaged[slot].load(ordering: .acquiring) }

    /// Installs the handler once; a thread that finds another installing it
    /// waits until it is done. (Not a `Mutex`: one here stopped the tests
    /// with "Call to unlock Mutex on a thread which hasn't acquired the lock";
    /// the cause was not found.)
    private static func install() {
        guard installation.compareExchange(expected: 0, desired: 1, ordering: .acquiringAndReleasing).exchanged else {
            while installation.load(ordering: .acquiring) != 2 { sched_yield() }
            return
        }
        // Before the handler can run: the lazy globals it reads exist.
        _ = (starts[0].load(ordering: .relaxed), ends[0].load(ordering: .relaxed), damaged[0].load(ordering: .relaxed), pageSize)
        _ = sigaction(SIGBUS, nil, &previous)
        var action = sigaction()
        action.__sigaction_handler.sa_sigaction = replaceTruncatedPages
        action.sa_flags = SA_SIGINFO
        sigemptyset(&action.sa_mask)
        _ = sigaction(SIGBUS, &action, nil)
        installation.store(2, ordering: .releasing)
    }
}

/// The SIGBUS handler (see `MappingGuard`).
private func replaceTruncatedPages(_ signal: Int32, _ info: UnsafeMutablePointer<siginfo_t>?, _ context: UnsafeMutableRawPointer?) {
    let address = info.map { Int(bitPattern: $0.pointee._sifields._sigfault.si_addr) } ?? 0
    for slot in 0..<MappingGuard.capacity {
        let start = MappingGuard.starts[slot].load(ordering: .acquiring)
        let end = MappingGuard.ends[slot].load(ordering: .acquiring)
        guard start != 0, address >= start, address < end else { continue }
        let page = address & ~(MappingGuard.pageSize - 1)
        let zeros = mmap(UnsafeMutableRawPointer(bitPattern: page), end - page, PROT_READ,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0)
        if zeros != MAP_FAILED {
            MappingGuard.damaged[slot].store(true, ordering: .releasing)
            return
        }
    }
    // Not a guarded mapping: the previous disposition takes the fault when it repeats.
    _ = sigaction(signal, &MappingGuard.previous, nil)
}
