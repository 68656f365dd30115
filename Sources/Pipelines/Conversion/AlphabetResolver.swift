import Pickle
public import TorchCheckpoint

/// Decides which characters the model's classes stand for.
public enum AlphabetResolver {
    /// The reference alphabet: lowercase letters then digits (37 classes with the blank).
    public static let referenceAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    /// Checkpoint dict keys that may carry the alphabet.
    static let checkpointKeys = ["alphabet", "charset", "characters", "vocab"]

    /// The alphabet given explicitly, else one stored in the checkpoint dict,
    /// else the reference alphabet when the vocabulary has 37 classes.
    /// - Throws: `ConversionError` when none applies or it does not fit.
    public static func resolve(explicit: String?, checkpoint: TorchCheckpoint, vocabularySize: Int) throws(ConversionError) -> String {
        let file = checkpoint.fileName
        let chosen: String
        if let explicit {
            chosen = explicit
        } else if let stored = checkpointKeys.lazy.compactMap({ key -> String? in
            if case let .string(text)? = checkpoint.topLevelValue(forKey: key) { return text }
            return nil
        }).first {
            chosen = stored
        } else if vocabularySize == referenceAlphabet.unicodeScalars.count + 1 {
            chosen = referenceAlphabet
        } else {
            throw ConversionError.alphabetRequired(file: file, vocabularySize: vocabularySize)
        }
        try validate(chosen, vocabularySize: vocabularySize, file: file)
        return chosen
    }

    /// Checks length, uniqueness and that no character is a control
    /// character. A character is a Unicode scalar, as everywhere an alphabet
    /// is read (`formats/CRNN-BIN.md`, "Metadata"): a letter with a
    /// combining accent written as two scalars is two classes.
    static func validate(_ alphabet: String, vocabularySize: Int, file: String) throws(ConversionError) {
        let characters = Array(alphabet.unicodeScalars)
        if let control = characters.first(where: { $0.properties.generalCategory == .control }) {
            throw ConversionError.alphabetMismatch(
                file: file, alphabet: alphabet,
                reason: "it holds the control character U+\(hex4(control.value)), which would break the FILE<TAB>TEXT output lines")
        }
        guard characters.count == vocabularySize - 1 else {
            throw ConversionError.alphabetMismatch(
                file: file, alphabet: alphabet,
                reason: "it has \(characters.count) characters (Unicode scalars) but the model has \(vocabularySize) classes, so it needs \(vocabularySize - 1)")
        }
        guard Set(characters).count == characters.count else {
            throw ConversionError.alphabetMismatch(file: file, alphabet: alphabet, reason: "a character appears twice")
        }
    }

    /// `value` in uppercase hex, at least four digits (as U+0009 is written).
    private static func hex4(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
