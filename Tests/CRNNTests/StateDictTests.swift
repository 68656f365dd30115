import CRNN
import TensorCore
import Testing
import TestSupport

/// Strict building from a state_dict: every problem reported at once.
@Suite struct StateDictTests {
    let narrow: StateDict

    init() throws { narrow = try FixtureBundle("narrow.values").stateDict() }

    func mismatch(_ stateDict: StateDict) throws -> [StateDictProblem] {
        do {
            _ = try CRNNLayers(stateDict: stateDict)
        } catch let CRNNError.stateDictMismatch(problems) {
            return problems
        }
        Issue.record("the state_dict was accepted")
        return []
    }

    @Test func expectedParametersAreExactlyPyTorchsKeysInOrder() throws {
        let layers = try CRNNLayers(stateDict: narrow)
        let specs = layers.configuration.expectedParameters
        #expect(specs.map(\.key) == narrow.names)
        for spec in specs { #expect(narrow[spec.key]?.shape == spec.shape, "\(spec.key)") }
    }

    @Test func missingExtraAndMisshapenKeysAreAllReported() throws {
        var broken = narrow
        broken["resnet.5.0.bn2.running_var"] = nil
        broken["fc.weight"] = try Tensor(float32: [1, 2], shape: [1, 2])
        broken["linear2.weight"] = try Tensor(float32: [Float](repeating: 0, count: 36 * 48), shape: [36, 48])
        let error = try #require(throws: CRNNError.self) { try CRNNModel(stateDict: broken) }
        guard case let .stateDictMismatch(problems) = error else {
            Issue.record("unexpected error \(error)")
            return
        }
        #expect(Set(problems) == [
            .missing(key: "resnet.5.0.bn2.running_var", expectedShape: [16]),
            .unexpected(key: "fc.weight", shape: [1, 2]),
            .shapeMismatch(key: "linear2.weight", expected: [37, 48], found: [36, 48]),
        ])
        #expect(problems.count == 3)
        let text = error.description
        #expect(text.contains("linear2.weight: expected [37, 48], found [36, 48]"))
        #expect(text.contains("resnet.5.0.bn2.running_var: missing (expected shape [16])"))
        #expect(text.contains("fc.weight: unexpected key"))
        #expect(text.split(separator: "\n").count == 1 + problems.count)
        #expect(!error.summary.contains("\n") && error.summary.contains("missing resnet.5.0.bn2.running_var"))
    }

    @Test func aSingleWrongShapeIsTheOnlyProblem() throws {
        var broken = narrow
        // a transposed weight: hyperparameters still come from the other keys
        broken["resnet.6.0.downsample.0.weight"] = try Tensor(
            float32: [Float](repeating: 0, count: 32 * 16), shape: [16, 32, 1, 1])
        let problems = try mismatch(broken)
        #expect(problems == [.shapeMismatch(key: "resnet.6.0.downsample.0.weight", expected: [32, 16, 1, 1],
                                            found: [16, 32, 1, 1])])
    }

    @Test func inconsistentHyperparametersAreReported() throws {
        var broken = narrow
        // gru2 reading 30 inputs while gru1 gives 24 hidden features
        broken["gru2.gru.weight_ih_l0"] = try Tensor(float32: [Float](repeating: 0, count: 72 * 30), shape: [72, 30])
        // linear1 reading 100 features: not a multiple of c3 = 32
        broken["linear1.weight"] = try Tensor(float32: [Float](repeating: 0, count: 32 * 100), shape: [32, 100])
        let problems = try mismatch(broken)
        #expect(problems.contains(.shapeMismatch(key: "gru2.gru.weight_ih_l0", expected: [72, 24], found: [72, 30])))
        #expect(problems.contains { if case .inconsistent(key: "linear1.weight", _) = $0 { true } else { false } })
        #expect(problems.contains(.shapeMismatch(key: "linear1.weight", expected: [32, 128], found: [32, 100])))
    }

    @Test func floatDTypesAreConvertedAndIntegersRefused() throws {
        var converted = narrow
        let weight = try #require(narrow["linear2.weight"])
        let doubles = weight.floatValues().flatMap { value -> [UInt8] in
            withUnsafeBytes(of: Double(value).bitPattern.littleEndian) { Array($0) }
        }
        converted["linear2.weight"] = try Tensor(dtype: .float64, shape: weight.shape, bytes: doubles)
        let bias = try #require(narrow["linear2.bias"])
        // bfloat16: the top half of each float32 (truncation is fine: only acceptance is tested here)
        let halves = bias.floatValues().flatMap { value -> [UInt8] in
            withUnsafeBytes(of: UInt16(truncatingIfNeeded: value.bitPattern >> 16).littleEndian) { Array($0) }
        }
        converted["linear2.bias"] = try Tensor(dtype: .bfloat16, shape: bias.shape, bytes: halves)
        let layers = try CRNNLayers(stateDict: converted)
        #expect(layers.linear2.weight == weight.floatValues())

        var integers = narrow
        integers["cn6.conv.bias"] = try Tensor(dtype: .int64, shape: [32], bytes: [UInt8](repeating: 0, count: 32 * 8))
        #expect(try mismatch(integers) == [.wrongDType(key: "cn6.conv.bias", found: .int64)])
    }

    @Test func anotherHiddenSizeAndAlphabetBuild() throws {
        // rebuild the narrow state_dict with hidden 8 and 11 classes: every shape from the configuration
        let configuration = CRNNConfiguration(trunkWidths: [8, 16, 32], featureRows: 4, rnnInputSize: 32,
                                              hiddenSize: 8, vocabularySize: 11)
        var entries: [(name: String, tensor: Tensor)] = []
        for spec in configuration.expectedParameters {
            if spec.kind == .counter {
                entries.append((spec.key, try Tensor(dtype: .int64, shape: [], bytes: [UInt8](repeating: 0, count: 8))))
            } else {
                let count = spec.shape.reduce(1, *)
                let values = spec.key.hasSuffix("running_var") ? [Float](repeating: 1, count: count)
                    : (0..<count).map { Float(($0 * 7919) % 13) / 13 - 0.5 }
                entries.append((spec.key, try Tensor(float32: values, shape: spec.shape)))
            }
        }
        let model = try CRNNModel(stateDict: StateDict(entries))
        #expect(model.configuration == configuration)
        let logits = try model.logits(for: try CRNNInput(height: 50, width: 40, planes: [Float](repeating: 0.5, count: 3 * 50 * 40)))
        #expect(logits.timeSteps == 3 && logits.classes == 11 && logits.values.allSatisfy(\.isFinite))
    }
}
