import CLISupport
import Testing

/// Paths and messages stay one line: control characters are escaped,
/// everything else is kept.
@Suite struct EscapingTests {
    @Test func controlCharactersAreEscaped() {
        #expect("a\tb\nc\rd\u{1B}e\u{7F}f\u{0}".escapingControlCharacters == #"a\tb\nc\rd\u{1B}e\u{7F}f\u{0}"#)
    }

    @Test func otherTextIsKept() {
        let text = "crnn-predict: /tmp/é\u{301} 字 😀 \\n back\\slash"
        #expect(text.escapingControlCharacters == text)
    }
}
