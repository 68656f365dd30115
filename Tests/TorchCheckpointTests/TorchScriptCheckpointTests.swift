import Foundation
import Testing
import TestSupport
@testable import TensorCore
@testable import TorchCheckpoint

/// TorchScript archives read as `torch.jit.load(f).state_dict()` reads them
/// (the values themselves are compared by `FixtureCheckpointTests`), and
/// hostile ones are refused naming the global.
@Suite struct TorchScriptCheckpointTests {
    static func path(_ name: String) -> String { Fixtures.url("checkpoints/torchscript/\(name)").path }

    /// Parameters, then buffers (the non-persistent `scale` included), per
    /// module in attribute order; the plain tensor attribute `offset` and the
    /// bias-less linear's `None` bias are left out, as torch leaves them out.
    @Test(arguments: ["scripted_small", "traced_small"])
    func parametersAndBuffersOnly(_ stem: String) throws {
        let expected = try ExpectedCheckpoint("checkpoints/torchscript/\(stem).expected.json")
        let checkpoint = try TorchCheckpoint.open(path: Self.path("\(stem).pt"))
        let names = checkpoint.tensors.map(\.name)
        #expect(names == expected.tensors.map(\.name))
        #expect(names.contains("scale"))
        #expect(names.contains("bn.num_batches_tracked"))
        #expect(!names.contains("offset"))
        #expect(!names.contains("head.1.bias"))
        #expect(checkpoint.info.layout == .zip)
        #expect(checkpoint.info.source.description.hasPrefix("TorchScript module __torch__."))
        let consenting = try TorchCheckpoint.open(path: Self.path("\(stem).pt"), options: CheckpointOptions(allowPickledModules: true))
        #expect(consenting.tensors.map(\.name) == names)
        let tracked = try #require(checkpoint.loadStateDict()["bn.num_batches_tracked"])
        #expect(tracked.dtype == .int64)
        #expect(tracked.shape == [])
    }

    /// The traced CRNN holds exactly the tensors of the narrow CRNN's state_dict.
    @Test func tracedCRNNMatchesItsStateDict() throws {
        let traced = try TorchCheckpoint.open(path: Self.path("traced_crnn_narrow.pt")).loadStateDict()
        let plain = try TorchCheckpoint.open(path: Fixtures.url("checkpoints/crnn/narrow_zip.pt").path).loadStateDict()
        #expect(traced.names == plain.names)
        for (name, tensor) in plain.entries {
            let mine = try #require(traced[name])
            #expect(mine.dtype == tensor.dtype, "\(name)")
            #expect(mine.shape == tensor.shape, "\(name)")
            #expect(mine.doubleValues() == tensor.doubleValues(), "\(name)")
        }
    }

    static let hostile = HostileCheckpointTests.cases(listedIn: "checkpoints/torchscript/hostile/manifest.json")

    @Test func hostileManifestIsPresent() { #expect(Self.hostile.count >= 6) }

    /// A global with effects is refused in every mode, a TorchScript class
    /// called through REDUCE without --allow-pickled-modules (with it, the call
    /// is an inert placeholder); the message names the global and the file.
    @Test(arguments: hostile, [false, true])
    func hostileIsRefused(_ hostile: HostileCheckpointTests.Case, allowingModules: Bool) throws {
        let path = Self.path("hostile/" + hostile.file)
        if allowingModules, hostile.expectSubstring.hasPrefix(TorchScriptState.classModule) {
            let inert = try TorchCheckpoint.open(path: path, options: CheckpointOptions(allowPickledModules: true))
            #expect(inert.tensors.isEmpty)
            return
        }
        let error = #expect(throws: CheckpointError.self) {
            _ = try TorchCheckpoint.open(path: path, options: CheckpointOptions(allowPickledModules: allowingModules))
        }
        let message = String(describing: error)
        #expect(message.contains(hostile.expectSubstring), "\(message)")
        #expect(message.contains(path), "\(message)")
        #expect(!message.contains("\n"))
    }

    /// `__torch__` classes are only admitted inside a TorchScript archive:
    /// a plain torch.save pickle naming one still needs --allow-pickled-modules.
    @Test func torchClassesOnlyInsideTorchScript() throws {
        let policy = TorchAllowlist.policy(allowingModules: false, limits: .init())
        #expect(!policy.isInertClass(.init("__torch__", "M")))
        let scripted = TorchAllowlist.policy(allowingModules: false, torchScript: true, limits: .init())
        #expect(scripted.isInertClass(.init("__torch__.torch.nn.modules.conv", "Conv2d")))
        #expect(!scripted.isInertClass(.init("torch.nn.modules.conv", "Conv2d")))
    }
}
