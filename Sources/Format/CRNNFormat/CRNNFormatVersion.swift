/// A CRNN-BIN format version: a reader accepts every minor version of the
/// major versions it knows (see "Versions" in `formats/CRNN-BIN.md`).
public struct CRNNFormatVersion: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// Incompatible changes bump this.
    public let major: Int
    /// Changes older readers of the same major may ignore bump this.
    public let minor: Int

    /// A version `major.minor`.
    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    /// The version this module writes.
    public static let current = CRNNFormatVersion(major: 1, minor: 0)

    public var description: String { "\(major).\(minor)" }
}
