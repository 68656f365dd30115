package import CRNN
import SystemShim

/// What greedy CTC decoding did at one time step: the winning class, its
/// softmax probability, and the character it emitted there, if any (a
/// non-blank class that differs from the step before's).
public struct AlignmentStep: Sendable, Equatable {
    /// The class with the highest score (the first one on ties).
    public let winningClass: Int
    /// That class's softmax probability, in 0...1 (0 when a score is not finite).
    public let probability: Double
    /// The character emitted at this step, or `nil` (blank, or a repeat merged).
    public let emitted: Character?
}

/// The per-step view of greedy CTC decoding (for reports, and the
/// confidence `Recognition` gives).
package enum CTCAlignment {
    /// One step per time step of `logits`, as `decoder` decodes them: the
    /// emitted characters, in order, are exactly `decoder.decode(logits)`.
    package static func steps(_ logits: Logits, decoder: CTCDecoder) -> [AlignmentStep] {
        let emitted = decoder.emissions(logits)
        return logits.bestClasses.enumerated().map { step, best in
            let row = logits.values[(step * logits.classes)..<((step + 1) * logits.classes)]
            return AlignmentStep(winningClass: best, probability: softmax(row, at: row.startIndex + best),
                                 emitted: emitted[step].map(Character.init))
        }
    }

    /// The probability of the greedy path these steps take: the product of
    /// their winning classes' probabilities (`Recognition.confidence`).
    package static func confidence(of steps: [AlignmentStep]) -> Double {
        steps.reduce(1.0) { $0 * $1.probability }
    }

    /// `e^row[index] / Σ e^row[i]`, in double precision, with the row's
    /// maximum subtracted first; 0 when a score is not finite.
    static func softmax(_ row: ArraySlice<Float>, at index: Int) -> Double {
        guard let best = row.max(), row.allSatisfy(\.isFinite) else { return 0 }
        var total = 0.0
        for value in row { total += exp(Double(value) - Double(best)) }
        return exp(Double(row[index]) - Double(best)) / total
    }
}
