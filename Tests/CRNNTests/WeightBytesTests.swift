import CRNN
import CVectorKernels
import Kernels
import Testing
import TestSupport

/// `CRNNModel.weightBytesPerImage`, the figure `crnn-bench` sets against the
/// measured read rate, counts what the kernels hold and a batch-one pass
/// reads: worked out here from the layer plan, layer by layer, in the layout
/// each unit stores (Winograd's 16 or 36 matrices, packed panels on the
/// vector units, row-major on the portable one), biases included and the
/// GRUs' `W_hh` left out. A count that skipped a layer, counted `W_hh` or
/// the direct weights of a Winograd convolution gives another number.
@Suite struct WeightBytesTests {
    static func expectedBytes(_ configuration: CRNNConfiguration, unit: VectorUnit) throws -> Int {
        let architecture = try #require(CRNNArchitecture(trunkWidths: configuration.trunkWidths))
        // A matrix of `rows` x `columns` as the unit stores it.
        func matrix(_ rows: Int, _ columns: Int) -> Int {
            unit == .portable ? rows * columns : Int(crnn_packed_count(Int32(rows), Int32(columns)))
        }
        var floats = 0
        for (layer, _, _) in architecture.convolutions(height: 50, width: 200).layers {
            let o = layer.outChannels, i = layer.inChannels
            if WinogradConvolution.supports(kernel: layer.kernel, stride: layer.stride, padding: layer.padding) {
                let side = WinogradConvolution.outputTile(inChannels: i, outChannels: o, unit: unit) + 2
                floats += side * side * matrix(o, i) + o
            } else {
                floats += matrix(o, i * layer.kernel * layer.kernel) + o
            }
        }
        let hidden = configuration.hiddenSize, rnn = configuration.rnnInputSize
        floats += matrix(rnn, architecture.cn6.outChannels * configuration.featureRows) + rnn
        for inputs in [rnn, hidden] { floats += 2 * (matrix(3 * hidden, inputs) + 2 * 3 * hidden) }
        floats += matrix(configuration.vocabularySize, 2 * hidden) + configuration.vocabularySize
        return floats * MemoryLayout<Float>.stride
    }

    @Test(arguments: VectorUnit.allCases.filter(\.isAvailable))
    func countsWhatABatchOnePassReads(unit: VectorUnit) throws {
        let model = try CRNNModel(stateDict: try FixtureBundle("narrow.values").stateDict(), unit: unit)
        #expect(model.weightBytesPerImage == (try Self.expectedBytes(model.configuration, unit: unit)), "\(unit.rawValue)")
    }
}
