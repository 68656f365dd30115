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
    static func explain(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map(\.stringValue).joined(separator: ".")
        }
        switch error {
        case let .keyNotFound(key, _): return "required key '\(key.stringValue)' is missing"
        case let .typeMismatch(_, context) where context.codingPath.isEmpty: return "not a JSON object"
        case let .typeMismatch(_, context): return "key '\(path(context))' has the wrong type"
        case let .valueNotFound(_, context): return "key '\(path(context))' is null"
        case let .dataCorrupted(context):
            let at = path(context)
            return at.isEmpty ? "not valid JSON" : "key '\(at)' has an invalid value"
        @unknown default: return "cannot be decoded"
        }
    }
}
