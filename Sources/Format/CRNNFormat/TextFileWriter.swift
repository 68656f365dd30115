/// Writes a text file that is produced piece by piece (a report written
/// while results arrive) with `AtomicFile`'s guarantees: the file appears
/// complete at `path` or not at all, whatever fails or interrupts.
package enum TextFileWriter {
    /// Why the file could not be written.
    package struct WriteError: Error, CustomStringConvertible {
        /// The file.
        package let path: String
        /// What failed.
        package let reason: String
        package var description: String { "\(path): cannot write: \(reason)" }
    }

    /// Runs `produce`, which appends text through the function it is given,
    /// then replaces `path` with what was appended.
    /// - Throws: what `produce` throws (then `path` is left as it was), or
    ///   `WriteError` when the file cannot be written.
    package static func write(to path: String, produce: (_ append: @escaping (String) throws -> Void) throws -> Void) throws {
        var produceError: (any Error)?
        do {
            try AtomicFile.write(to: path) { output throws(AtomicFile.Failure) in
                do {
                    try produce { text in
                        var text = text
                        try text.withUTF8 { bytes in try output.append(UnsafeRawBufferPointer(bytes)) }
                    }
                } catch let failure as AtomicFile.Failure {
                    throw failure
                } catch {
                    produceError = error
                    throw AtomicFile.Failure(reason: "\(error)", checkError: error)
                }
            }
        } catch {
            if let produceError { throw produceError }
            throw WriteError(path: path, reason: error.reason)
        }
    }
}
