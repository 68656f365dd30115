#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import SystemShim

/// Expands the image arguments of a command: files as given, folders to
/// their PNG and JPEG files in sorted order.
public enum ImageCollection {
    /// File name endings treated as images inside folders.
    public static let extensions: Set<String> = ["png", "jpg", "jpeg"]

    /// The image files `paths` name, in order (each folder's files sorted).
    /// - Throws: `PredictionError` for a missing path or an empty folder.
    public static func expand(_ paths: [String]) throws -> [String] {
        var files = [String]()
        for path in paths {
            var info = stat()
            guard stat(path, &info) == 0 else { throw PredictionError.notFound(path: path) }
            if (info.st_mode & S_IFMT) != S_IFDIR {
                files.append(path)
                continue
            }
            let names = try FileManager.default.contentsOfDirectory(atPath: path)
                .filter { extensions.contains(pathExtension(of: $0).lowercased()) }
                .sorted()
            guard !names.isEmpty else { throw PredictionError.noImages(path: path) }
            files += names.map { path.isEmpty ? $0 : path.hasSuffix("/") ? path + $0 : path + "/" + $0 }
        }
        return files
    }

    /// What follows the last dot of a file name, or "" when there is none or
    /// the name starts with it (".png" is a hidden file, not a PNG).
    static func pathExtension(of name: String) -> String {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return "" }
        return String(name[name.index(after: dot)...])
    }
}
