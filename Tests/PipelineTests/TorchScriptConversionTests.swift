import Foundation
import Testing
import TestSupport
@testable import CRNNFormat
@testable import Conversion
@testable import TensorCore

/// crnn-convert of a traced CRNN gives the `.bin` tensors of its state_dict.
@Suite struct TorchScriptConversionTests {
    @Test func tracedCRNNConvertsLikeItsStateDict() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let traced = folder.appendingPathComponent("traced.bin").path
        let plain = folder.appendingPathComponent("plain.bin").path
        try Converter.convert(input: Fixtures.url("checkpoints/torchscript/traced_crnn_narrow.pt").path, output: traced,
                              sourceDigest: ConversionTests.sha256)
        try Converter.convert(input: Fixtures.url("checkpoints/crnn/narrow_zip.pt").path, output: plain,
                              sourceDigest: ConversionTests.sha256)
        let mine = try CRNNFile.open(path: traced)
        let reference = try CRNNFile.open(path: plain)
        #expect(mine.tensors.names == reference.tensors.names)
        #expect(mine.tensors.count == 117)
        for name in reference.tensors.names {
            let want = try #require(reference.tensors[name])
            let got = try #require(mine.tensors[name])
            #expect(got.dtype == want.dtype, "\(name)")
            #expect(got.shape == want.shape, "\(name)")
            #expect(got.doubleValues() == want.doubleValues(), "\(name)")
        }
        #expect(mine.metadata.hiddenSize == reference.metadata.hiddenSize)
        #expect(mine.metadata.trunkWidths == reference.metadata.trunkWidths)
    }
}
