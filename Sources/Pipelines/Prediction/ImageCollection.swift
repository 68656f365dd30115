import Foundation

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
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
                throw PredictionError.notFound(path: path)
            }
            if !isFolder.boolValue {
                files.append(path)
                continue
            }
            let names = try FileManager.default.contentsOfDirectory(atPath: path)
                .filter { extensions.contains(($0 as NSString).pathExtension.lowercased()) }
                .sorted()
            guard !names.isEmpty else { throw PredictionError.noImages(path: path) }
            files += names.map { (path as NSString).appendingPathComponent($0) }
        }
        return files
    }
}
