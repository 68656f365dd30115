#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// How many cores a recognizer may use.
enum ProcessorCount {
    /// The cores this process may run on.
    static var active: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }
    /// The most cores a recognizer takes, whatever it is asked: the larger
    /// of the active cores and 64 (a team's helper threads are real threads).
    static var limit: Int { max(active, 64) }
}
