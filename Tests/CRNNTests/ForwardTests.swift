import CRNN
import Foundation
import Kernels
import TensorCore
import Testing
import TestSupport

/// The narrow CRNN (fixtures/forward/narrow.values.*) against PyTorch's logits
/// for the same images (fixtures/forward/cases.*).
@Suite struct ForwardTests {
    static let tolerance: Float = 1e-4
    let cases: FixtureBundle
    let model: CRNNModel

    init() throws {
        cases = try FixtureBundle("cases")
        model = try CRNNModel(stateDict: try FixtureBundle("narrow.values").stateDict())
    }

    func image(_ name: String) throws -> CRNNInput {
        let shape = try cases.shape(name)
        try #require(shape.count == 3 && shape[0] == 3)
        return try CRNNInput(height: shape[1], width: shape[2], planes: try cases.values(name))
    }

    @Test func configurationComesFromTheShapes() {
        #expect(model.configuration == CRNNConfiguration(
            trunkWidths: [8, 16, 32], featureRows: 4, rnnInputSize: 32, hiddenSize: 24, vocabularySize: 37))
    }

    @Test(arguments: 0..<4)
    func batchOfOneMatchesPyTorch(index: Int) throws {
        // On the preferred unit and on every other this machine has.
        for unit in VectorUnit.allCases.filter(\.isAvailable) {
            let model = unit == self.model.unit
                ? self.model : try CRNNModel(stateDict: try FixtureBundle("narrow.values").stateDict(), unit: unit)
            let logits = try model.logits(for: try image("single.\(index).image"))
            let expectedShape = try cases.shape("single.\(index).logits")
            #expect([logits.timeSteps, logits.classes] == expectedShape)
            let diff = maxAbsDifference(try cases.values("single.\(index).logits"), logits.values)
            print("single image \(index), \(unit) unit: max abs diff \(diff)")
            #expect(diff <= Self.tolerance)
        }
    }

    /// Every vector unit this machine has gives the portable unit's logits
    /// for every accepted height and for widths from the narrowest that gives
    /// a time step to wide, alone and in a team (odd sizes reach every edge of
    /// the vector kernels' tiles and splits).
    @Test(arguments: VectorUnit.allCases.filter { $0 != .portable && $0.isAvailable })
    func vectorUnitsAgreeAtEveryHeightAndManyWidths(unit: VectorUnit) throws {
        let stateDict = try FixtureBundle("narrow.values").stateDict()
        let portable = try CRNNModel(stateDict: stateDict, unit: .portable)
        let vector = try CRNNModel(stateDict: stateDict, unit: unit)
        var random = SplitMix64(seed: 5)
        let team = ThreadTeam(size: 2)
        var compared = 0
        for height in portable.configuration.acceptedHeights {
            for width in [16, 17, 33, 50, 77, 200, 257] where (height + width) % 3 == 0 || width == 200 {
                let planes = (0..<(3 * height * width)).map { _ in Float.random(in: 0...1, using: &random) }
                let input = try CRNNInput(height: height, width: width, planes: planes)
                let expected = try portable.logits(for: input)
                for logits in [try vector.logits(for: input), try vector.logits(for: input, team: team)] {
                    #expect(logits.timeSteps == expected.timeSteps, "\(unit) \(height)x\(width)")
                    #expect(maxAbsDifference(expected.values, logits.values) <= 1e-4, "\(unit) \(height)x\(width)")
                }
                compared += 1
            }
        }
        #expect(compared >= 16)
    }

    @Test(arguments: [2, 3])
    func aTeamSharingTheLayersGivesPyTorchsLogits(members: Int) throws {
        let team = ThreadTeam(size: members)
        for index in 0..<4 {
            let logits = try model.logits(for: try image("single.\(index).image"), team: team)
            let diff = maxAbsDifference(try cases.values("single.\(index).logits"), logits.values)
            #expect(diff <= Self.tolerance, "image \(index), team of \(members): \(diff)")
        }
    }

    /// Several images through the trunk together: each still its own batch of one.
    @Test func imagesRunTogetherGiveEachImagesOwnLogits() throws {
        let images = try (0..<3).map { try image("batch.\($0).image") }
        for team in [ThreadTeam.alone, ThreadTeam(size: 2)] {
            let together = try model.logits(for: images, team: team)
            #expect(together.count == images.count)
            for (index, logits) in together.enumerated() {
                let alone = try model.logits(for: images[index])
                #expect(logits.timeSteps == alone.timeSteps && logits.classes == alone.classes)
                #expect(maxAbsDifference(alone.values, logits.values) <= 1e-5)
            }
        }
        #expect(try model.logits(for: [CRNNInput]()).isEmpty)
        let other = try CRNNInput(height: images[0].height, width: images[0].width + 4,
                                  planes: [Float](repeating: 0, count: 3 * images[0].height * (images[0].width + 4)))
        #expect(throws: CRNNError.self) { try model.logits(for: [images[0], other]) }
    }

    @Test(arguments: [1, 2])
    func torchBatchMatchesPyTorchAndDiffersFromBatchesOfOne(members: Int) throws {
        let images = try (0..<3).map { try image("batch.\($0).image") }
        let results = try model.logitsTorchBatch(images, team: ThreadTeam(size: members))
        let expected = try cases.values("batch.logits")  // [T, 3, C]
        let shape = try cases.shape("batch.logits")
        let (steps, batch, classes) = (shape[0], shape[1], shape[2])
        #expect(results.count == batch)
        var worst: Float = 0
        for (i, logits) in results.enumerated() {
            #expect(logits.timeSteps == steps && logits.classes == classes)
            var column = [Float]()
            for t in 0..<steps { column += expected[((t * batch + i) * classes)..<((t * batch + i + 1) * classes)] }
            worst = max(worst, maxAbsDifference(column, logits.values))
            // the quirk: alone, the same image gives other numbers
            let alone = try model.logits(for: images[i])
            #expect(maxAbsDifference(column, alone.values) > 1e-3)
        }
        print("PyTorch batch of 3, team of \(members): max abs diff \(worst)")
        #expect(worst <= Self.tolerance)
    }

    @Test func greedyDecodingMatchesTheReferenceDecoder() throws {
        let decoded = try #require(cases.meta["decoded"] as? [String])
        let decoder = try CTCDecoder(alphabet: "abcdefghijklmnopqrstuvwxyz0123456789", vocabularySize: 37)
        for (index, text) in decoded.enumerated() {
            #expect(decoder.decode(try model.logits(for: try image("single.\(index).image"))) == text)
        }
    }

    @Test func heightsOutsideTheRowRangeAreRefusedWithTheRange() throws {
        #expect(model.configuration.acceptedHeights == 49...64)
        #expect(throws: CRNNError.inputHeight(height: 48, accepted: 49...64)) {
            try model.logits(for: try CRNNInput(height: 48, width: 20, planes: [Float](repeating: 0.5, count: 3 * 48 * 20)))
        }
        #expect(throws: CRNNError.inputHeight(height: 65, accepted: 49...64)) {
            try model.logits(for: try CRNNInput(height: 65, width: 20, planes: [Float](repeating: 0.5, count: 3 * 65 * 20)))
        }
        // the narrowest image still gives one time step
        let one = try model.logits(for: try CRNNInput(height: 64, width: 1, planes: [Float](repeating: 0.5, count: 3 * 64)))
        #expect(one.timeSteps == 1 && one.values.count == 37)
        #expect(throws: CRNNError.inputSize(height: 50, width: 10, values: 5)) {
            try CRNNInput(height: 50, width: 10, planes: [0, 0, 0, 0, 0])
        }
    }

    @Test func torchBatchRefusesUnequalSizes() throws {
        let a = try image("single.0.image"), b = try image("single.2.image")
        #expect(throws: CRNNError.batchSizesDiffer(index: 1, height: b.height, width: b.width,
                                                   expectedHeight: a.height, expectedWidth: a.width)) {
            try model.logitsTorchBatch([a, b])
        }
        #expect(try model.logitsTorchBatch([]).isEmpty)
    }

    /// Concurrent calls share no mutable state. Equal to float rounding, not
    /// bit for bit: OpenBLAS's thread count is process-wide, other suites
    /// change it while this runs, and it decides sgemm's summation order.
    @Test func concurrentCallsGiveTheSameLogits() async throws {
        let input = try image("single.0.image")
        let reference = try model.logits(for: input)
        let model = self.model
        let results = try await withThrowingTaskGroup(of: Logits.self) { group in
            for _ in 0..<4 { group.addTask { try model.logits(for: input) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == 4)
        for result in results {
            #expect(result.timeSteps == reference.timeSteps && result.classes == reference.classes)
            #expect(maxAbsDifference(reference.values, result.values) <= 1e-5)
        }
    }
}
