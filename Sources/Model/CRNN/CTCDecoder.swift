/// Greedy CTC decoding: per step the best class, runs of the same class
/// merged, blanks dropped. Classes other than the blank map to the alphabet in
/// order (with blank 0, class i >= 1 is `alphabet[i - 1]`). A character is a
/// Unicode scalar, as the CRNN-BIN format and the converter count them.
public struct CTCDecoder: Sendable {
    /// One character (Unicode scalar) per non-blank class.
    public let alphabet: [Unicode.Scalar]
    /// The blank class.
    public let blank: Int

    /// A decoder for `alphabet.count + 1` classes.
    /// - Parameter vocabularySize: the model's class count, when known; it
    ///   must be `alphabet.count + 1`.
    /// - Throws: `CRNNError.blankOutOfRange` when `blank` is not a class,
    ///   `CRNNError.alphabetSize` when the alphabet does not fit `vocabularySize`.
    public init(alphabet: String, blank: Int = 0, vocabularySize: Int? = nil) throws {
        let characters = Array(alphabet.unicodeScalars)
        if let vocabularySize, characters.count + 1 != vocabularySize {
            throw CRNNError.alphabetSize(expected: vocabularySize - 1, found: characters.count)
        }
        guard blank >= 0, blank <= characters.count else {
            throw CRNNError.blankOutOfRange(blank: blank, classes: characters.count + 1)
        }
        self.alphabet = characters
        self.blank = blank
    }

    /// The text of `logits`. A class beyond the alphabet (logits of a model with
    /// more classes) breaks a run but adds no character.
    public func decode(_ logits: Logits) -> String {
        var text = ""
        for case let character? in emissions(logits) { text.unicodeScalars.append(character) }
        return text
    }

    /// Per time step, the character greedy decoding emits there, or `nil`
    /// (a blank, a repeat merged into the step before, or a class beyond the
    /// alphabet): `decode` is these characters in order.
    public func emissions(_ logits: Logits) -> [Unicode.Scalar?] {
        var previous = blank
        return logits.bestClasses.map { best in
            defer { previous = best }
            guard best != previous && best != blank else { return nil }
            let index = best < blank ? best : best - 1
            return index < alphabet.count ? alphabet[index] : nil
        }
    }
}
