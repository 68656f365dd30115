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

    /// Each form's own count, at channel counts the narrow model does not
    /// reach (F(2x2) on the vector units needs more than 64; 72 output
    /// channels leave a part-filled panel).
    @Test(arguments: VectorUnit.allCases.filter(\.isAvailable))
    func eachFormCountsItsLayout(unit: VectorUnit) throws {
        let (o, i) = (72, 80)
        let kernel = try ConvolutionKernel(outChannels: o, inChannels: i, kernel: 3, stride: 1, padding: 1,
                                           weights: [Float](repeating: 0.01, count: o * i * 9))
        let packed = unit != .portable
        func matrix(_ rows: Int, _ columns: Int) -> Int {
            packed ? Int(crnn_packed_count(Int32(rows), Int32(columns))) : rows * columns
        }
        var forms: [(Convolution, Int)] = [
            (try .im2colForm(of: kernel, unit: unit), matrix(o, 9 * i) + o),
            (.winograd(try WinogradConvolution(kernel, unit: unit, outputTile: 2)), 16 * matrix(o, i) + o),
        ]
        if packed { forms.append((.winograd(try WinogradConvolution(kernel, unit: unit, outputTile: 4)), 36 * matrix(o, i) + o)) }
        for (form, floats) in forms {
            #expect(form.storedWeightBytes == floats * MemoryLayout<Float>.stride, "\(unit.rawValue) \(form.algorithm)")
        }
        #expect(matrix(o, i) > o * i || !packed, "72 rows fill four and a half panels of 16: the count includes the padding")
    }

    @Test(arguments: VectorUnit.allCases.filter(\.isAvailable))
    func countsWhatABatchOnePassReads(unit: VectorUnit) throws {
        let model = try CRNNModel(stateDict: try FixtureBundle("narrow.values").stateDict(), unit: unit)
        #expect(model.weightBytesPerImage == (try Self.expectedBytes(model.configuration, unit: unit)), "\(unit.rawValue)")
    }
}
