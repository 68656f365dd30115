import Pickle
import TorchCheckpoint

/// Decides which characters the model's classes stand for.
public enum AlphabetResolver {
    /// The reference alphabet: lowercase letters then digits (37 classes with the blank).
    public static let referenceAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    /// Checkpoint dict keys that may carry the alphabet.
    static let checkpointKeys = ["alphabet", "charset", "characters", "vocab"]

    /// The alphabet given explicitly, else one stored in the checkpoint dict,
    /// else the reference alphabet when the vocabulary has 37 classes.
    /// - Throws: `ConversionError` when none applies or it does not fit.
    public static func resolve(explicit: String?, checkpoint: TorchCheckpoint, vocabularySize: Int) throws -> String {
        let file = checkpoint.fileName
        let chosen: String
        if let explicit {
            chosen = explicit
        } else if let stored = checkpointKeys.lazy.compactMap({ key -> String? in
            if case let .string(text)? = checkpoint.topLevelValue(forKey: key) { return text }
            return nil
        }).first {
            chosen = stored
        } else if vocabularySize == referenceAlphabet.count + 1 {
            chosen = referenceAlphabet
        } else {
            throw ConversionError.alphabetRequired(file: file, vocabularySize: vocabularySize)
        }
        try validate(chosen, vocabularySize: vocabularySize, file: file)
        return chosen
    }

    /// Checks length and uniqueness.
    static func validate(_ alphabet: String, vocabularySize: Int, file: String) throws {
        guard alphabet.count == vocabularySize - 1 else {
            throw ConversionError.alphabetMismatch(
                file: file, alphabet: alphabet,
                reason: "it has \(alphabet.count) characters but the model has \(vocabularySize) classes, so it needs \(vocabularySize - 1)")
        }
        guard Set(alphabet).count == alphabet.count else {
            throw ConversionError.alphabetMismatch(file: file, alphabet: alphabet, reason: "a character appears twice")
        }
    }
}
