import Kernels
import TensorCore

/// One way a state_dict differs from what the CRNN needs, naming the key and
/// the shapes involved.
public enum StateDictProblem: Hashable, Sendable, CustomStringConvertible {
    /// A key the model needs is absent.
    case missing(key: String, expectedShape: [Int])
    /// A key the model does not use.
    case unexpected(key: String, shape: [Int])
    /// A key has another shape than the model's hyperparameters require.
    case shapeMismatch(key: String, expected: [Int], found: [Int])
    /// A tensor holds integers or booleans where floats are needed.
    case wrongDType(key: String, found: DType)
    /// Hyperparameters read from different layers do not fit together.
    case inconsistent(key: String, detail: String)

    /// The key the problem is about.
    public var key: String {
        switch self {
        case let .missing(key, _), let .unexpected(key, _), let .shapeMismatch(key, _, _),
             let .wrongDType(key, _), let .inconsistent(key, _): key
        }
    }

    /// One readable line, e.g. `linear2.weight: expected [37, 48], found [36, 48]`.
    public var description: String {
        switch self {
        case let .missing(key, shape): "\(key): missing (expected shape \(shape))"
        case let .unexpected(key, shape): "\(key): unexpected key (shape \(shape)), not part of the CRNN"
        case let .shapeMismatch(key, expected, found): "\(key): expected \(expected), found \(found)"
        case let .wrongDType(key, found): "\(key): expected a floating-point tensor, found \(found.rawValue)"
        case let .inconsistent(key, detail): "\(key): \(detail)"
        }
    }

    /// A short form for one-line summaries.
    public var shortDescription: String {
        switch self {
        case let .missing(key, _): "missing \(key)"
        case let .unexpected(key, _): "unexpected \(key)"
        case let .shapeMismatch(key, expected, found): "\(key) \(found) != \(expected)"
        case let .wrongDType(key, found): "\(key) is \(found.rawValue)"
        case let .inconsistent(key, detail): "\(key): \(detail)"
        }
    }
}

/// Errors of the CRNN module: building the model from a state_dict, checking
/// inputs, decoding.
public enum CRNNError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The state_dict does not describe a CRNN; every problem found is listed.
    case stateDictMismatch([StateDictProblem])
    /// The image height does not give the model's feature rows after the trunk.
    case inputHeight(height: Int, accepted: ClosedRange<Int>)
    /// An image's plane data does not hold 3 x height x width values, or a size is below 1.
    case inputSize(height: Int, width: Int, values: Int)
    /// The images of one PyTorch-style batch differ in size.
    case batchSizesDiffer(index: Int, height: Int, width: Int, expectedHeight: Int, expectedWidth: Int)
    /// Logits values do not hold timeSteps x classes numbers, or a size is below 1.
    case logitsShape(timeSteps: Int, classes: Int, values: Int)
    /// The alphabet does not have one character per non-blank class.
    case alphabetSize(expected: Int, found: Int)
    /// The blank index lies outside the classes.
    case blankOutOfRange(blank: Int, classes: Int)
    /// A kernel refused its input (a bug or an unsupported size).
    case kernel(KernelError)

    /// Multi-line for a state_dict mismatch (one problem per line), one line otherwise.
    public var description: String {
        switch self {
        case let .stateDictMismatch(problems):
            (["the state_dict does not match the CRNN (\(problems.count) problem\(problems.count == 1 ? "" : "s")):"]
                + problems.map { "  " + $0.description }).joined(separator: "\n")
        case let .inputHeight(height, accepted):
            "image height \(height) is not supported: this model needs a height in \(accepted.lowerBound)...\(accepted.upperBound); resize the image"
        case let .inputSize(height, width, values):
            "an image of \(height)x\(width) needs 3x\(height)x\(width) values (height and width at least 1), got \(values)"
        case let .batchSizesDiffer(index, height, width, expectedHeight, expectedWidth):
            "image \(index) is \(height)x\(width) but a PyTorch batch needs equal sizes (\(expectedHeight)x\(expectedWidth))"
        case let .logitsShape(timeSteps, classes, values):
            "logits of \(timeSteps) steps x \(classes) classes need that many values (sizes at least 1), got \(values)"
        case let .alphabetSize(expected, found):
            "the alphabet has \(found) characters but the model has \(expected) non-blank classes"
        case let .blankOutOfRange(blank, classes):
            "blank index \(blank) is outside the \(classes) classes"
        case let .kernel(error):
            "kernel error: \(error.description)"
        }
    }

    /// One line in every case: for a state_dict mismatch, the problems in short form.
    public var summary: String {
        switch self {
        case let .stateDictMismatch(problems):
            "state_dict does not match the CRNN (\(problems.count) problem\(problems.count == 1 ? "" : "s")): "
                + problems.map(\.shortDescription).joined(separator: "; ")
        default: description
        }
    }
}

extension CRNNError {
    /// Runs `body`, reporting a kernel's size error as `CRNNError.kernel`.
    static func wrappingKernelErrors<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as KernelError { throw CRNNError.kernel(error) }
    }
}
