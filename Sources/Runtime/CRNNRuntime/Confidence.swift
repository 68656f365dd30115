import CRNN
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The confidence `Recognition` reports.
enum Confidence {
    /// The probability of the greedy path: the product over time steps of
    /// the winning class's softmax probability, `1 / Σ_c e^(l_c - l_max)`,
    /// in double precision. 0 when a score is not a finite number.
    static func ofGreedyPath(_ logits: Logits) -> Double {
        var probability = 1.0
        for step in 0..<logits.timeSteps {
            let row = logits.values[(step * logits.classes)..<((step + 1) * logits.classes)]
            guard let best = row.max(), row.allSatisfy(\.isFinite) else { return 0 }
            let total = row.reduce(0.0) { $0 + exp(Double($1) - Double(best)) }
            probability /= total
        }
        return probability
    }
}
