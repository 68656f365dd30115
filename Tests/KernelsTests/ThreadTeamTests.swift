import Foundation
import Kernels
import Testing

/// The thread team that splits one image's layers between cores.
@Suite struct ThreadTeamTests {
    @Test func sharesCoverEveryIndexOnceInOrder() {
        for size in 1...5 {
            let team = ThreadTeam(size: size)
            for count in 0...11 {
                let parts = (0..<size).map { team.share(of: count, member: $0) }
                #expect(parts.flatMap { Array($0) } == Array(0..<count), "size \(size), count \(count)")
                #expect((parts.map(\.count).max() ?? 0) - (parts.map(\.count).min() ?? 0) <= 1)
            }
        }
    }

    @Test func everyMemberRunsOncePerCallOnItsOwnThread() {
        let team = ThreadTeam(size: 3)
        let lock = NSLock()
        for round in 0..<2000 {
            var members = [Int]()
            var threads = Set<String>()
            team.run { member in
                let me = "\(pthread_self())"
                lock.lock()
                members.append(member)
                threads.insert(me)
                lock.unlock()
            }
            #expect(members.sorted() == [0, 1, 2], "round \(round)")
            #expect(threads.count == 3)
            if members.sorted() != [0, 1, 2] { break }
        }
    }

    @Test func aTeamOfOneRunsOnTheCallersThread() {
        let caller = pthread_self()
        var ran = [Int]()
        ThreadTeam.alone.run { member in
            #expect(pthread_equal(pthread_self(), caller) != 0)
            ran.append(member)
        }
        #expect(ran == [0])
    }

    /// Helpers that fell asleep between calls wake for the next one.
    @Test func sleepingHelpersWakeUp() {
        let team = ThreadTeam(size: 2)
        let counter = NSLock()
        var total = 0
        for _ in 0..<3 {
            team.run { _ in counter.lock(); total += 1; counter.unlock() }
            usleep(200_000)  // far longer than the spin phase
        }
        #expect(total == 6)
    }

    /// Two callers sharing a team take turns: every job runs whole.
    @Test func callersSharingATeamTakeTurns() {
        let team = ThreadTeam(size: 2)
        let lock = NSLock()
        nonisolated(unsafe) var total = 0
        DispatchQueue.concurrentPerform(iterations: 2) { _ in
            for _ in 0..<500 {
                team.run { _ in lock.lock(); total += 1; lock.unlock() }
            }
        }
        #expect(total == 2 * 500 * team.size)
    }
}
