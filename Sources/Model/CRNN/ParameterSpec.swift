/// One tensor the CRNN expects in its state_dict.
public struct ParameterSpec: Equatable, Sendable {
    /// What the tensor must hold.
    public enum Kind: Equatable, Sendable {
        /// Floating-point values (float32, or float16/bfloat16/float64, converted).
        case float
        /// A batch-norm `num_batches_tracked` counter: a scalar, any dtype, ignored.
        case counter
    }

    /// The state_dict key, exactly as PyTorch names it.
    public let key: String
    /// The required shape.
    public let shape: [Int]
    /// Float values or an ignored counter.
    public let kind: Kind
}
