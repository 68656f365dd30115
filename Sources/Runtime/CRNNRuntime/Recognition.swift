/// What a recognizer read in one image.
public struct Recognition: Sendable, Equatable {
    /// The text, greedy CTC over the model's alphabet: per time step the most
    /// likely class, repeats merged, blanks dropped.
    public let text: String
    /// How sure the model is of `text`, in 0...1: the probability the model
    /// gives the winning path, the product over time steps of the winning
    /// class's softmax probability (of `alignment`'s probabilities). 1 means
    /// every step was certain; a single doubtful step lowers it; 0 when a
    /// score is not a finite number. Not calibrated against accuracy.
    public let confidence: Double
    /// What the decoder did at each time step (one per 16 image columns):
    /// the winning class, its probability, and the character emitted there.
    public let alignment: [AlignmentStep]
    /// The model's raw output, when asked for (`RecognitionOptions.includesLogits`).
    public let logits: RecognitionLogits?
}

/// The raw scores of one image: one row per time step (a column of 16
/// image pixels), one score per class, the CTC blank first.
public struct RecognitionLogits: Sendable, Equatable {
    /// Time steps: ceil(width / 16) of the image the model read.
    public let timeSteps: Int
    /// Classes per step, the blank included.
    public let classes: Int
    /// `timeSteps * classes` scores, row by row (`values[t * classes + c]`).
    public let values: [Float]

    /// The scores of one time step.
    /// - Precondition: `step` is in `0..<timeSteps`.
    public subscript(step: Int) -> ArraySlice<Float> {
        values[(step * classes)..<((step + 1) * classes)]
    }
}
