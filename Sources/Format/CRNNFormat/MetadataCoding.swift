#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Turns the metadata into its stored JSON text and decoding errors into
/// one-line reasons.
enum MetadataCoding {
    /// Canonical JSON: sorted keys, no whitespace, slashes unescaped.
    static func encode(_ metadata: CRNNModelMetadata) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(metadata))
    }

    /// A short reason naming the key a decoding error is about.
    static func explain(_ error: DecodingError) -> String { error.reasonNamingTheKey }
}

extension DecodingError {
    /// A one-line reason naming the JSON key this error is about
    /// (`key 'hidden_size' has the wrong type: expected Int`, `key
    /// 'images[2].text' is missing`), never the decoder's own text. "not valid
    /// JSON" only when the text does not parse at all.
    public var reasonNamingTheKey: String {
        func path(_ codingPath: [any CodingKey]) -> String {
            var out = ""
            for key in codingPath {
                if let index = key.intValue {
                    out += "[\(index)]"
                } else {
                    out += (out.isEmpty ? "" : ".") + key.stringValue
                }
            }
            return out
        }
        switch self {
        case let .keyNotFound(key, context):
            let parent = path(context.codingPath)
            return "required key '\(parent.isEmpty ? "" : parent + ".")\(key.stringValue)' is missing"
        case let .typeMismatch(_, context) where context.codingPath.isEmpty: return "not a JSON object"
        case let .typeMismatch(type, context): return "key '\(path(context.codingPath))' has the wrong type (expected \(Self.jsonType(type)))"
        case let .valueNotFound(type, context) where context.codingPath.isEmpty: return "expected \(Self.jsonType(type)), found null"
        case let .valueNotFound(_, context): return "key '\(path(context.codingPath))' is null"
        case let .dataCorrupted(context):
            let at = path(context.codingPath)
            return at.isEmpty ? "not valid JSON" : "key '\(at)' has an invalid value"
        @unknown default: return "cannot be decoded"
        }
    }

    /// The JSON name of what a Swift type is decoded from.
    private static func jsonType(_ type: Any.Type) -> String {
        if type == String.self { return "a string" }
        if type == Bool.self { return "true or false" }
        let integers: [Any.Type] = [Int.self, Int64.self, Int32.self, UInt32.self, UInt64.self]
        if integers.contains(where: { $0 == type }) { return "an integer" }
        if type == Double.self || type == Float.self { return "a number" }
        let name = String(describing: type)
        if name.hasPrefix("Array<") { return "an array" }
        if name.hasPrefix("Dictionary<") { return "an object" }
        return "another type"
    }
}
