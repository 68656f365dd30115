import Foundation

/// Paths to the committed fixtures, found from this source file's location so
/// tests run from any working directory.
public enum Fixtures {
    /// The repository's top folder.
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `fixtures/` at the top of the repository.
    public static let directory: URL = repositoryRoot.appendingPathComponent("fixtures")

    /// A file or folder under `fixtures/`.
    public static func url(_ relativePath: String) -> URL {
        directory.appendingPathComponent(relativePath)
    }

    /// The decoded JSON at `fixtures/relativePath`.
    public static func json(_ relativePath: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(contentsOf: url(relativePath)))
    }

    /// A fresh, empty temporary folder for one test.
    public static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("crnn-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
