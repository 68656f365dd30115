/// What can go wrong when describing tensors over bytes or mapping files.
package enum TensorCoreError: Error, Equatable, CustomStringConvertible {
    /// A dimension or a stride is negative.
    case negativeDimension(shape: [Int], strides: [Int])
    /// The shape and strides have different lengths.
    case rankMismatch(shape: [Int], strides: [Int])
    /// The element count or the byte extent does not fit in an `Int`.
    case sizeOverflow(shape: [Int], strides: [Int])
    /// The view reaches past the end of its storage.
    case outOfBounds(needed: Int, available: Int)
    /// A byte range lies outside its buffer.
    case rangeOutOfBounds(offset: Int, count: Int, available: Int)
    /// A file could not be opened or mapped.
    case fileAccess(path: String, reason: String)
    /// A file's size or modification time moved while it was read, or it
    /// ended before the size it had when opened: another process truncated
    /// or rewrote it meanwhile.
    case changedWhileRead(path: String)

    public var description: String {
        switch self {
        case let .negativeDimension(shape, strides):
            "negative size or stride (shape \(shape), strides \(strides))"
        case let .rankMismatch(shape, strides):
            "shape \(shape) and strides \(strides) have different lengths"
        case let .sizeOverflow(shape, strides):
            "shape \(shape) with strides \(strides) is too large to address"
        case let .outOfBounds(needed, available):
            "tensor needs \(needed) elements of storage but only \(available) exist"
        case let .rangeOutOfBounds(offset, count, available):
            "byte range \(offset)..<\(offset &+ count) lies outside a buffer of \(available) bytes"
        case let .fileAccess(path, _), let .changedWhileRead(path):
            "\(path): \(fileReason ?? "")"
        }
    }

    /// For `fileAccess` and `changedWhileRead`: what is wrong with the file,
    /// without its path (for the callers' own errors, which name the file
    /// their way); `nil` for the other cases.
    public var fileReason: String? {
        switch self {
        case let .fileAccess(_, reason): reason
        case .changedWhileRead: "changed while it was read (truncated or rewritten by another process); read it again once it is complete"
        default: nil
        }
    }
}
