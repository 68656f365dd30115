import Foundation
import Testing
import TestSupport
@testable import Pickle
@testable import TorchCheckpoint

/// Config objects beside the weights (omegaconf, Enum, defaultdict, dataclass,
/// Namespace) are inert placeholders under --allow-pickled-modules, keeping
/// their class and state as data; globals with effects stay refused in every mode.
@Suite struct ConfigCheckpointTests {
    static let lightning = "checkpoints/config/lightning_omegaconf"

    @Test func strictModeNamesTheFirstClass() throws {
        let path = Fixtures.url(Self.lightning + ".pt").path
        let error = #expect(throws: CheckpointError.self) { try TorchCheckpoint.open(path: path) }
        guard case let .classNotAllowed(file, global, _)? = error else {
            Issue.record("expected classNotAllowed, got \(String(describing: error))")
            return
        }
        #expect(file == path)
        #expect(global == "omegaconf.dictconfig.DictConfig")
    }

    /// Each config value keeps the class Python names and the state Python reads.
    @Test func placeholdersKeepClassAndState() throws {
        let expected = try ExpectedCheckpoint(Self.lightning + ".expected.json")
        let checkpoint = try TorchCheckpoint.open(path: Fixtures.url(expected.file).path,
                                                  options: CheckpointOptions(allowPickledModules: true))
        #expect(checkpoint.info.source == .wrapper(keys: ["state_dict"]))
        let inert = try #require(expected.json["inert"] as? [String: [String: Any]])
        #expect(inert.count == 5)
        for (key, want) in inert {
            let value = try #require(checkpoint.topLevelValue(forKey: key), "\(key)")
            let (cls, arguments, state) = try #require(Self.placeholder(value), "\(key) is \(value)")
            #expect(cls.qualifiedName == want["class"] as? String, "\(key)")
            if let enumValue = want["value"] {
                #expect(Self.same(arguments.map(Self.plain), [enumValue]), "\(key) value")
            }
            if let items = want["items"] ?? want["state"] {
                #expect(Self.same(state.map(Self.plain) ?? NSNull(), items), "\(key) state \(String(describing: state))")
            }
        }
    }

    static func placeholder(_ value: PickleValue) -> (PickleGlobal, [PickleValue], PickleValue?)? {
        switch value {
        case let .call(cls, arguments, state), let .object(cls, arguments, state): (cls, arguments, state)
        default: nil
        }
    }

    /// Plain data as Foundation values (what JSONSerialization gives).
    static func plain(_ value: PickleValue) -> Any {
        switch value {
        case .none: NSNull()
        case let .bool(flag): flag
        case let .int(number): number
        case let .float(number): number
        case let .string(text): text
        case let .list(items), let .tuple(items): items.map(plain)
        case let .dict(dict):
            Dictionary(dict.entries.compactMap { entry in entry.key.stringValue.map { ($0, plain(entry.value)) } },
                       uniquingKeysWith: { first, _ in first })
        default: String(describing: value)
        }
    }

    /// Equal as JSON documents (keys sorted).
    static func same(_ a: Any, _ b: Any) -> Bool {
        func text(_ x: Any) -> Data? { try? JSONSerialization.data(withJSONObject: [x], options: [.sortedKeys]) }
        guard let left = text(a), let right = text(b) else { return false }
        return left == right
    }

    static let hostile = HostileCheckpointTests.cases(listedIn: "checkpoints/config/hostile/manifest.json")

    @Test func hostileManifestIsPresent() { #expect(Self.hostile.count >= 20) }

    /// Refused in both modes, naming the global and the file, in one line.
    @Test(arguments: hostile, [false, true])
    func refusedInEveryMode(_ hostile: HostileCheckpointTests.Case, allowingModules: Bool) throws {
        let path = Fixtures.url("checkpoints/config/hostile/" + hostile.file).path
        let error = #expect(throws: CheckpointError.self) {
            _ = try TorchCheckpoint.open(path: path, options: CheckpointOptions(allowPickledModules: allowingModules))
        }
        let message = String(describing: error)
        // Without consent the class holding the global is refused first, by name.
        let named = hostile.file == "hidden_in_config.pt" && !allowingModules ? "__main__.Config" : hostile.expectSubstring
        #expect(message.contains(named), "\(message)")
        #expect(message.contains(path), "\(message)")
        #expect(!message.contains("\n"))
        if allowingModules {
            guard case let .pickle(_, _, reason)? = error, reason.contains("pickle names forbidden global") else {
                Issue.record("expected a forbidden global, got \(message)")
                return
            }
        }
    }
}
