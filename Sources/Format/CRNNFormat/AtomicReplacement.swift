/// Atomic file replacement for writers of other formats (the safetensors
/// writer of Conversion, crnn-predict's HTML report): the same steps as every `.bin` is written with —
/// a temporary file beside the destination, synced, checked, renamed over it.
package enum AtomicReplacement {
    /// The file system refused a step; `reason` has the `errno` text.
    package struct Failure: Error, CustomStringConvertible {
        /// What failed, in one line.
        package let reason: String
        package var description: String { reason }
    }

    /// Writes what `contents` appends to a temporary file beside `path`,
    /// calls `check(temporaryPath)` on the complete file (while it is synced
    /// to disk), then renames it over `path`.
    /// - Throws: what `contents` or `check` throws, unchanged, or `Failure`
    ///   when the file system refuses; either way `path` is left as it was.
    package static func write(
        to path: String, check: (_ temporaryPath: String) throws -> Void = { _ in },
        contents: (_ append: (UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws {
        do {
            try AtomicFile.write(to: path, check: check) { output throws(AtomicFile.Failure) in
                do {
                    try contents { bytes in try output.append(bytes) }
                } catch let failure as AtomicFile.Failure {
                    throw failure
                } catch {
                    throw AtomicFile.Failure(reason: "\(error)", checkError: error)
                }
            }
        } catch {
            if let passed = error.checkError { throw passed }
            throw Failure(reason: error.reason)
        }
    }
}
