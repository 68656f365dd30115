import CRNN
import Testing

/// Greedy CTC decoding on hand-built logits (the argmax pattern is what matters).
@Suite struct CTCDecoderTests {
    /// Logits whose best class at step t is `best[t]` (score 1, others 0).
    func logits(_ best: [Int], classes: Int) throws -> Logits {
        var values = [Float](repeating: 0, count: best.count * classes)
        for (t, c) in best.enumerated() { values[t * classes + c] = 1 }
        return try Logits(timeSteps: best.count, classes: classes, values: values)
    }

    @Test func mergesRepeatsThenDropsBlanks() throws {
        let decoder = try CTCDecoder(alphabet: "abc")
        // a a _ a b b _ _ c  ->  "aabc"
        #expect(decoder.decode(try logits([1, 1, 0, 1, 2, 2, 0, 0, 3], classes: 4)) == "aabc")
        #expect(decoder.decode(try logits([0, 0], classes: 4)) == "")
    }

    @Test func firstMaximumWinsLikeTorchArgmax() throws {
        let tie = try Logits(timeSteps: 1, classes: 4, values: [0, 2, 2, 1])
        #expect(tie.bestClasses == [1])
        #expect(try CTCDecoder(alphabet: "abc").decode(tie) == "a")
    }

    @Test func alphabetMustFitTheVocabulary() {
        #expect(throws: CRNNError.alphabetSize(expected: 36, found: 3)) {
            try CTCDecoder(alphabet: "abc", vocabularySize: 37)
        }
        #expect(throws: CRNNError.blankOutOfRange(blank: 5, classes: 4)) { try CTCDecoder(alphabet: "abc", blank: 5) }
    }

    @Test func aBlankOtherThanZeroShiftsTheClasses() throws {
        let decoder = try CTCDecoder(alphabet: "abc", blank: 3)
        #expect(decoder.decode(try logits([0, 3, 0, 1, 2], classes: 4)) == "aabc")
    }
}

/// The decoder counts an alphabet in Unicode scalars, as the converter and the
/// `.bin` reader do: a combining mark is a class of its own.
@Suite struct CTCDecoderCharacterTests {
    @Test func aCombiningMarkIsItsOwnClass() throws {
        // "e" + U+0301 is one grapheme cluster but two scalars: with "x", three classes besides the blank.
        let decoder = try CTCDecoder(alphabet: "e\u{301}x", vocabularySize: 4)
        #expect(decoder.alphabet == ["e", "\u{301}", "x"])
        var values = [Float](repeating: 0, count: 3 * 4)
        for (step, best) in [1, 2, 3].enumerated() { values[step * 4 + best] = 1 }
        let text = decoder.decode(try Logits(timeSteps: 3, classes: 4, values: values))
        #expect(Array(text.unicodeScalars) == ["e", "\u{301}", "x"])
    }
}
