@testable import Kernels
import Testing
import TestSupport

/// Every layer kernel against PyTorch's output for the same inputs (fixtures/forward/kernels.*).
@Suite struct KernelsTests {
    static let tolerance: Float = 1e-4

    /// The tolerance for `form`'s outputs against PyTorch's `expected`:
    /// `tolerance`, and for Winograd F(4x4, 3x3) also 1e-5 of the outputs'
    /// largest magnitude. Its transforms scale by up to 5 (Bᵀ), 8 (Aᵀ) and
    /// 1/24 (G), so its rounding grows with the outputs: 3.3e-6 of them on
    /// conv_k3_s1_p1_wide (1.1e-4 at outputs up to 34), where F(2x2, 3x3)
    /// gives 2.3e-7 and im2col 4e-7.
    static func tolerance(for form: Convolution, expected: [Float]) -> Float {
        guard case .winograd(let kernel) = form, kernel.outputTile == 4 else { return tolerance }
        return max(tolerance, 1e-5 * (expected.map(abs).max() ?? 0))
    }
    /// The vector units this machine can run.
    static let units = VectorUnit.allCases.filter(\.isAvailable)
    let bundle: FixtureBundle

    init() throws { bundle = try FixtureBundle("kernels") }

    static let convolutionCases = [
        "conv_k1_s1_p0", "conv_k1_s2_p0", "conv_k3_s1_p1_bias", "conv_k3_s2_p1", "conv_k7_s2_p3",
        "conv_k3x2_s2x1_p1x0_bias", "conv_k3_s1_p1_wide", "conv_k3_s2_p1_wide",
    ]

    func featureShape(_ name: String) throws -> FeatureShape {
        let s = try bundle.shape(name)
        try #require(s.count == 4)
        return try FeatureShape(batch: s[0], channels: s[1], height: s[2], width: s[3])
    }

    @Test(arguments: convolutionCases)
    func convolutionMatchesPyTorch(name: String) throws {
        let cases = try #require(bundle.meta["conv"] as? [[String: Any]])
        let info = try #require(cases.first { $0["name"] as? String == name })
        let kernel = try #require(info["kernel"] as? [Int]), stride = try #require(info["stride"] as? [Int])
        let padding = try #require(info["padding"] as? [Int]), hasBias = try #require(info["bias"] as? Bool)
        let weightShape = try bundle.shape(name + ".weight")
        let conv = try ConvolutionKernel(
            outChannels: weightShape[0], inChannels: weightShape[1], kernelHeight: kernel[0], kernelWidth: kernel[1],
            strideY: stride[0], strideX: stride[1], paddingY: padding[0], paddingX: padding[1],
            weights: try bundle.values(name + ".weight"), bias: hasBias ? try bundle.values(name + ".bias") : nil)
        // Alone, and split unevenly between three members.
        for form in try Self.forms(of: conv) {
            // A team serves one caller at a time: each test makes its own.
            for team in [ThreadTeam.alone, ThreadTeam(size: 3)] {
                var output = [Float](), scratch = [Float]()
                let out = try form.apply(try bundle.values(name + ".input"), shape: try featureShape(name + ".input"),
                                         output: &output, scratch: &scratch, team: team)
                #expect([out.batch, out.channels, out.height, out.width] == (try bundle.shape(name + ".output")))
                let expected = try bundle.values(name + ".output")
                let diff = maxAbsDifference(expected, output)
                print("\(name) \(Self.label(form)), team of \(team.size): max abs diff \(diff)")
                #expect(diff <= Self.tolerance(for: form, expected: expected))
            }
        }
    }

    /// Every form the kernels can compute `conv` in: im2col always, Winograd
    /// for 3x3 stride 1 padding 1 (F(2x2, 3x3), and F(4x4, 3x3) on the vector
    /// units), on every vector unit this machine has.
    static func forms(of conv: ConvolutionKernel) throws -> [Convolution] {
        try VectorUnit.allCases.filter(\.isAvailable).flatMap { unit in try forms(of: conv, unit: unit) }
    }

    /// The forms of `conv` on one unit.
    static func forms(of conv: ConvolutionKernel, unit: VectorUnit) throws -> [Convolution] {
        guard WinogradConvolution.supports(conv) else { return [try .im2colForm(of: conv, unit: unit)] }
        return try [.im2colForm(of: conv, unit: unit), .winograd(try WinogradConvolution(conv, unit: unit))]
            + (unit == .portable ? [] : [.winograd(try WinogradConvolution(conv, unit: unit, outputTile: 4))])
    }

    /// The form and its vector unit, for messages.
    static func label(_ form: Convolution) -> String {
        if case .winograd(let kernel) = form, kernel.outputTile == 4 { return "winograd F(4x4)/\(form.unit.rawValue)" }
        return "\(form.algorithm)/\(form.unit.rawValue)"
    }

    /// Every unit this machine has gives the same outputs on maps wider than
    /// one vector, with channel counts off the packing's multiples, strides,
    /// a residual and ReLU, alone and in a team (each unit is checked against
    /// PyTorch above; this covers the edges of the vector units' tiles:
    /// AVX-512's 8-row tiles of 16 lanes and its narrow blocks (at most 16
    /// columns, or two of them for 17 to 28 columns at k 256 and more,
    /// vectorised over 32 rows), AVX2's 6-row tiles and 8-row tiles of 8
    /// lanes); on a vector unit a team of two gives the same bits as one thread.
    @Test(arguments: [
        (2, 5, 9, 70, 13, 3, 1, 1), (1, 64, 13, 50, 64, 3, 1, 1), (3, 7, 4, 33, 9, 3, 1, 1), (1, 3, 1, 1, 2, 3, 1, 1),
        (1, 3, 50, 200, 64, 7, 2, 3), (2, 6, 11, 101, 19, 3, 2, 1), (1, 9, 7, 37, 17, 1, 2, 0), (1, 4, 5, 23, 11, 1, 1, 0),
        (1, 2, 9, 40, 3, 5, 3, 2),
        // Blocks of one vector (Winograd's 10 and 12 tiles, im2col's 9 positions) over 20 to 29 rows: a narrow
        // block of two panels, the second cut short.
        (1, 6, 4, 9, 29, 3, 1, 1), (1, 4, 5, 7, 20, 3, 1, 1), (1, 5, 6, 6, 27, 3, 2, 1),
        // Half panels (12 and 44 output channels) at one, two and three 8-lane vectors of columns.
        (1, 5, 3, 11, 12, 3, 1, 1), (1, 3, 7, 19, 44, 3, 1, 1), (1, 7, 9, 47, 12, 1, 1, 0), (1, 4, 3, 9, 13, 3, 2, 1),
        // Narrow blocks: 15 and 16 columns (two halves), 32 rows and a last block of one panel, or of part of one.
        (1, 4, 3, 5, 35, 3, 1, 1), (1, 4, 4, 4, 48, 3, 1, 1), (2, 3, 2, 7, 40, 1, 1, 0), (1, 6, 4, 26, 64, 3, 1, 1),
        // Thin, deep products as two narrow blocks (17 to 28 columns, k of 256 or more): 24 positions by k 288 alone
        // and in a team, 26 positions a member by k 300 over 20 rows in a team of two, and the edges: 17
        // positions (blocks of 8 and 9) and 28 (14 and 14) at k 256.
        (1, 32, 4, 6, 40, 3, 1, 1), (1, 300, 4, 13, 20, 1, 1, 0), (1, 256, 1, 17, 20, 1, 1, 0),
        (1, 256, 4, 7, 20, 1, 1, 0),
        // Winograd split by output channels in a team (128 channels, 52 tiles: weights large against the input).
        (1, 20, 7, 25, 128, 3, 1, 1),
    ])
    func vectorUnitsAgree(batch: Int, inChannels: Int, height: Int, width: Int, outChannels: Int, kernel: Int,
                          stride: Int, padding: Int) throws {
        guard Self.units.count > 1 else { return }  // nothing to compare with
        var random = SplitMix64(seed: UInt64(batch * 1000 + width))
        func values(_ count: Int) -> [Float] { (0..<count).map { _ in Float.random(in: -1...1, using: &random) } }
        let conv = try ConvolutionKernel(outChannels: outChannels, inChannels: inChannels, kernel: kernel, stride: stride,
                                         padding: padding, weights: values(outChannels * inChannels * kernel * kernel),
                                         bias: values(outChannels))
        let shape = try FeatureShape(batch: batch, channels: inChannels, height: height, width: width)
        let outShape = try conv.outputShape(for: shape)
        let input = values(shape.count), residual = values(outShape.count)
        func forms(_ unit: VectorUnit) throws -> [Convolution] { try Self.forms(of: conv, unit: unit) }
        for (useResidual, relu) in [(false, false), (true, true), (false, true), (true, false)] {
            var reference: [Float]?
            for form in try Self.units.flatMap(forms) {
                var alone: [Float]?
                for team in [ThreadTeam.alone, ThreadTeam(size: 2)] {
                    var output = [Float](), scratch = [Float]()
                    let out = try form.apply(input, shape: shape, residual: useResidual ? residual : nil, relu: relu,
                                             output: &output, scratch: &scratch, team: team)
                    let result = Array(output.prefix(out.count))
                    // A vector unit's split changes no bit: every output is the same chain of multiply-adds
                    // whichever member, block or tile shape computes it (a library's product promises no such thing).
                    if form.unit != .portable {
                        if let alone {
                            #expect(result == alone,
                                    "\(Self.label(form)) in a team of two, residual \(useResidual), relu \(relu)")
                        } else {
                            alone = result
                        }
                    }
                    if let reference {
                        // Float rounding grows with the outputs' size (im2col and Winograd sum in other orders).
                        let scale = max(1, reference.map(abs).max() ?? 0)
                        #expect(maxAbsDifference(reference, result) <= 1e-5 * scale,
                                "\(Self.label(form)), residual \(useResidual), relu \(relu)")
                    } else {
                        reference = result
                    }
                }
            }
        }
    }

    /// ReLU keeps NaN, as PyTorch's does: every output whose window meets a
    /// NaN input is NaN, in every form and unit (Winograd may spread it a
    /// little further, within the tile).
    @Test func reluKeepsNaNInEveryForm() throws {
        let shape = try FeatureShape(batch: 1, channels: 2, height: 6, width: 40)
        var input = [Float](repeating: 0.5, count: shape.count)
        let poisoned = (y: 3, x: 21)
        input[shape.planeCount + poisoned.y * shape.width + poisoned.x] = .nan
        let conv = try ConvolutionKernel(outChannels: 3, inChannels: 2, kernel: 3, padding: 1,
                                         weights: [Float](repeating: -1, count: 54))
        for form in try Self.forms(of: conv) {
            var output = [Float](), scratch = [Float]()
            let out = try form.apply(input, shape: shape, relu: true, output: &output, scratch: &scratch)
            for channel in 0..<out.channels {
                for y in (poisoned.y - 1)...(poisoned.y + 1) {
                    for x in (poisoned.x - 1)...(poisoned.x + 1) {
                        #expect(output[channel * out.planeCount + y * out.width + x].isNaN, "\(Self.label(form)) (\(y), \(x))")
                    }
                }
                // Away from it, all-negative sums are rectified to exactly 0.
                #expect(output[channel * out.planeCount] == 0)
            }
        }
    }

    @Test func convolutionPicksWinogradExactlyFor3x3Stride1Padding1() throws {
        func form(kernel: Int, stride: Int, padding: Int) throws -> String {
            let conv = try ConvolutionKernel(outChannels: 2, inChannels: 2, kernel: kernel, stride: stride, padding: padding,
                                             weights: [Float](repeating: 1, count: 4 * kernel * kernel))
            return try Convolution(conv).algorithm
        }
        #expect(try form(kernel: 3, stride: 1, padding: 1) == "winograd")
        #expect(try form(kernel: 3, stride: 2, padding: 1) == "im2col")
        #expect(try form(kernel: 3, stride: 1, padding: 0) == "im2col")
        #expect(try form(kernel: 1, stride: 1, padding: 0) == "im2col")
        #expect(throws: KernelError.self) {
            try WinogradConvolution(ConvolutionKernel(outChannels: 1, inChannels: 1, kernel: 1, weights: [1]))
        }
    }

    /// `runProductsAlone` (what `crnn-bench --kernels` times against the FMA
    /// peak) runs exactly the products `apply` runs: on one block of tiles or
    /// positions, after an `apply`, Winograd's product matrices (wiped first)
    /// come back bit for bit and im2col's output (wiped first) too; the
    /// portable unit's forms, whose products are OpenBLAS's, run nothing.
    @Test func productsAloneRedoApplysProducts() throws {
        var random = SplitMix64(seed: 77)
        func values(_ count: Int) -> [Float] { (0..<count).map { _ in Float.random(in: -1...1, using: &random) } }
        let conv = try ConvolutionKernel(outChannels: 20, inChannels: 6, kernel: 3, stride: 1, padding: 1,
                                         weights: values(20 * 6 * 9), bias: values(20))
        let strided = try ConvolutionKernel(outChannels: 20, inChannels: 6, kernel: 3, stride: 2, padding: 1,
                                            weights: values(20 * 6 * 9), bias: values(20))
        let shape = try FeatureShape(batch: 1, channels: 6, height: 9, width: 13)
        let input = values(shape.count)
        var measured = 0
        for unit in Self.units {
            for form in try Self.forms(of: conv, unit: unit) + [try .im2colForm(of: strided, unit: unit)] {
                var output = [Float](), scratch = [Float]()
                try form.apply(input, shape: shape, relu: true, output: &output, scratch: &scratch)
                let applied = output
                // The product matrices' rows in the scratch (Winograd; none for im2col, whose product is the output).
                var productRows = [Range<Int>]()
                switch form {
                case .winograd(let kernel) where unit != .portable:
                    let tiles = try kernel.tiling(shape).total
                    let layout = try kernel.scratchLayout(tiles: tiles, members: 1)
                    #expect(tiles <= WinogradConvolution.tileBlock)
                    productRows = (0..<kernel.matrices).map { xi in
                        let start = kernel.matrices * layout.inputStride + xi * layout.productStride
                        return start..<(start + kernel.outChannels * tiles)
                    }
                case .packed:
                    break
                default:
                    #expect(try !form.runProductsAlone(input, shape: shape, output: &output, scratch: &scratch))
                    continue
                }
                let products = productRows.map { Array(scratch[$0]) }
                for rows in productRows { for index in rows { scratch[index] = 0 } }
                for index in output.indices { output[index] = 0 }
                #expect(try form.runProductsAlone(input, shape: shape, output: &output, scratch: &scratch))
                #expect(productRows.map { Array(scratch[$0]) } == products, "\(Self.label(form))")
                if case .packed = form { #expect(output == applied, "\(Self.label(form))") }
                measured += 1
            }
        }
        #expect(measured == 0 || measured >= 4)  // the vector units' F(2x2), F(4x4), im2col and strided im2col
    }

    /// A team splits a Winograd convolution by tiles while each member gets
    /// 16 or more and the output channels number under twice the tiles (the
    /// model's layer 1: 64 channels, 52 tiles), otherwise by output channels
    /// (layer 2: 128 channels, 52 tiles; layer 3: 256 channels, 14 tiles);
    /// alone, always by tiles.
    @Test func winogradTeamSplitWeighsTheWeightsAgainstTheTiles() throws {
        func winograd(channels: Int) throws -> WinogradConvolution {
            try WinogradConvolution(ConvolutionKernel(outChannels: channels, inChannels: channels, kernel: 3, padding: 1,
                                                      weights: [Float](repeating: 0.5, count: channels * channels * 9)))
        }
        let (layer1, layer2, layer3) = (try winograd(channels: 64), try winograd(channels: 128), try winograd(channels: 256))
        #expect(layer1.splitsByTiles(52, members: 2))
        #expect(!layer2.splitsByTiles(52, members: 2))
        #expect(layer2.splitsByTiles(65, members: 2))  // 128 < 2 * 65
        #expect(!layer3.splitsByTiles(14, members: 2))
        #expect(!layer1.splitsByTiles(31, members: 2))  // 15 tiles a member
        for layer in [layer1, layer2, layer3] { #expect(layer.splitsByTiles(14, members: 1)) }
    }

    /// The vector units' Winograd and packed convolutions write nothing past
    /// the scratch count they ask for, alone and in teams of two and three,
    /// on tile counts around the split points (F(2x2): 14 tiles, split by
    /// channels; 31 to 33 around two members' 16 each; 175 and 193 in blocks
    /// of 96; F(4x4) sees a quarter as many tiles of the same maps; 70 output
    /// channels on 32 and 33 tiles, split by channels as at least twice the
    /// tiles): the scratch is handed over longer, filled with a NaN whose
    /// payload the kernels never produce, and its tail must keep that pattern.
    @Test(arguments: [(4, 13, 19), (2, 62, 19), (2, 64, 19), (6, 22, 19), (13, 50, 19), (2, 386, 19), (2, 64, 70),
                      (6, 22, 70)])
    func convolutionsStayInsideTheirScratch(height: Int, width: Int, outChannels: Int) throws {
        var random = SplitMix64(seed: UInt64(height * 1000 + width))
        func values(_ count: Int) -> [Float] { (0..<count).map { _ in Float.random(in: -1...1, using: &random) } }
        let inChannels = 5
        let conv = try ConvolutionKernel(outChannels: outChannels, inChannels: inChannels, kernel: 3, stride: 1, padding: 1,
                                         weights: values(outChannels * inChannels * 9), bias: values(outChannels))
        let shape = try FeatureShape(batch: 1, channels: inChannels, height: height, width: width)
        let input = values(shape.count)
        let sentinel = Float(bitPattern: 0x7FC0_5A5A)
        for unit in Self.units where unit != .portable {
            let winograd = try WinogradConvolution(conv, unit: unit), packed = try PackedConvolution(conv, unit: unit)
            let winograd4 = try WinogradConvolution(conv, unit: unit, outputTile: 4)
            for members in 1...3 {
                let team = ThreadTeam(size: members)
                let forms: [(String, Int, Convolution)] = [
                    ("winograd", try winograd.scratchCount(for: shape, members: members), .winograd(winograd)),
                    ("winograd F4", try winograd4.scratchCount(for: shape, members: members), .winograd(winograd4)),
                    ("im2col", try packed.scratchCount(for: shape, members: members), .packed(packed)),
                ]
                for (name, count, form) in forms {
                    var output = [Float](), scratch = [Float](repeating: sentinel, count: count + 4096)
                    try form.apply(input, shape: shape, output: &output, scratch: &scratch, team: team)
                    let touched = scratch[count...].filter { $0.bitPattern != sentinel.bitPattern }.count
                    #expect(touched == 0, "\(name)/\(unit.rawValue), \(height)x\(width), team of \(members)")
                }
            }
        }
    }

    /// The scratch matrices of the vector units' Winograd hold their rows
    /// (never overlap), sit 48 floats past a 4 KB multiple apart (so the 16
    /// or 36 streams of the transforms start on as many different cache lines
    /// of every 4 KB), waste less than 4 KB each, and the sizes overflow into
    /// an error, not a trap.
    @Test(arguments: [(1, 1), (64, 96), (64, 79), (128, 52), (256, 14), (3, 16), (1024, 1), (7, 1000)])
    func winogradScratchMatricesNeitherOverlapNorAlias(rows: Int, tileStride: Int) throws {
        let stride = try WinogradConvolution.matrixStride(rows: rows, tileStride: tileStride)
        #expect(stride >= rows * tileStride)
        #expect(stride % 1024 == 48)
        #expect(stride - rows * tileStride < 1024)
        let offsets = Set((0..<36).map { (($0 * stride * 4) % 4096) / 64 })
        #expect(offsets.count == 36)
        #expect(throws: KernelError.self) { try WinogradConvolution.matrixStride(rows: Int.max / 2, tileStride: 3) }
    }

    @Test func foldedBatchNormWithResidualAndReLUMatchesPyTorch() throws {
        let p = "conv_bn_add_relu."
        let conv = try ConvolutionKernel(outChannels: 4, inChannels: 4, kernel: 3, stride: 1, padding: 1,
                                         weights: try bundle.values(p + "weight"))
            .foldingBatchNorm(gamma: try bundle.values(p + "gamma"), beta: try bundle.values(p + "beta"),
                              mean: try bundle.values(p + "mean"), variance: try bundle.values(p + "var"))
        let expected = try bundle.values(p + "output")
        #expect(expected.contains { $0 == 0 } && expected.contains { $0 > 0 })  // ReLU is exercised
        for form in try Self.forms(of: conv) {
            var output = [Float](), scratch = [Float]()
            try form.apply(try bundle.values(p + "input"), shape: try featureShape(p + "input"),
                           residual: try bundle.values(p + "residual"), relu: true, output: &output, scratch: &scratch,
                           team: ThreadTeam(size: 3))
            let diff = maxAbsDifference(expected, output)
            print("conv+bn+residual+relu \(Self.label(form)): max abs diff \(diff)")
            #expect(diff <= Self.tolerance)
        }
    }

    @Test(arguments: units)
    func maxPoolMatchesPyTorch(unit: VectorUnit) throws {
        var output = [Float]()
        let out = try MaxPoolKernel(kernel: 3, stride: 2, padding: 1, unit: unit)
            .apply(try bundle.values("maxpool.input"), shape: try featureShape("maxpool.input"), output: &output)
        #expect([out.batch, out.channels, out.height, out.width] == (try bundle.shape("maxpool.output")))
        // max pooling selects input values: it must be exact
        #expect(Array(output.prefix(out.count)) == (try bundle.values("maxpool.output")))
    }

    /// A NaN anywhere in a window makes that output NaN, as in PyTorch; every
    /// other output is unchanged. Also with a team splitting the work.
    @Test(arguments: units)
    func maxPoolPropagatesNaNsLikePyTorch(unit: VectorUnit) throws {
        let shape = try featureShape("maxpool.input")
        var input = try bundle.values("maxpool.input")
        let clean = try bundle.values("maxpool.output")
        let poisoned = [0, 13, shape.planeCount + 47, input.count - 1]
        for index in poisoned { input[index] = .nan }
        for team in [ThreadTeam.alone, ThreadTeam(size: 2)] {
            var output = [Float]()
            let out = try MaxPoolKernel(kernel: 3, stride: 2, padding: 1, unit: unit)
                .apply(input, shape: shape, output: &output, team: team)
            for plane in 0..<(out.batch * out.channels) {
                for oy in 0..<out.height {
                    for ox in 0..<out.width {
                        let index = plane * out.planeCount + oy * out.width + ox
                        let rows = max(0, 2 * oy - 1)..<min(shape.height, 2 * oy + 2)
                        let columns = max(0, 2 * ox - 1)..<min(shape.width, 2 * ox + 2)
                        let windowHasNaN = rows.contains { y in
                            columns.contains { x in poisoned.contains(plane * shape.planeCount + y * shape.width + x) }
                        }
                        if windowHasNaN {
                            #expect(output[index].isNaN, "plane \(plane) (\(oy), \(ox))")
                        } else {
                            #expect(output[index] == clean[index], "plane \(plane) (\(oy), \(ox))")
                        }
                    }
                }
            }
        }
    }

    /// Every unit pools alike for other windows and strides (the vector
    /// units' strided and scalar paths), maps wider than a vector, NaNs in
    /// the input and a team splitting the rows; pooling selects values, so
    /// the outputs must be identical.
    @Test(arguments: [(3, 2, 1), (2, 2, 0), (3, 1, 1), (5, 3, 2), (1, 1, 0), (4, 2, 2)])
    func maxPoolUnitsAgree(kernel: Int, stride: Int, padding: Int) throws {
        guard Self.units.count > 1 else { return }  // nothing to compare with
        var random = SplitMix64(seed: UInt64(kernel * 100 + stride * 10 + padding))
        let shape = try FeatureShape(batch: 2, channels: 3, height: 11, width: 75)
        var input = (0..<shape.count).map { _ in Float.random(in: -1...1, using: &random) }
        for index in [0, 40, 74, shape.planeCount + 5 * 75 + 33, input.count - 1] { input[index] = .nan }
        var outputs: [[Float]] = []
        for unit in Self.units {
            for team in [ThreadTeam.alone, ThreadTeam(size: 2)] {
                var output = [Float]()
                let out = try MaxPoolKernel(kernel: kernel, stride: stride, padding: padding, unit: unit)
                    .apply(input, shape: shape, output: &output, team: team)
                outputs.append(Array(output.prefix(out.count)))
            }
        }
        // NaN != NaN: compare bit patterns' NaN-ness and values separately.
        for other in outputs.dropFirst() {
            #expect(other.map(\.isNaN) == outputs[0].map(\.isNaN))
            #expect(zip(other, outputs[0]).allSatisfy { $0.isNaN || $0 == $1 })
        }
        #expect(outputs[0].contains { $0.isNaN } && outputs[0].contains { !$0.isNaN })
    }

    @Test(arguments: units)
    func linearMatchesPyTorch(unit: VectorUnit) throws {
        let weights = try bundle.values("linear.weight")
        let linear = try LinearKernel(inFeatures: 7, outFeatures: 4, weights: weights,
                                      bias: try bundle.values("linear.bias"), unit: unit)
        #expect(linear.weights == weights)  // the packed layout unpacks to PyTorch's
        // Alone, and with the output features split between three members.
        for team in [ThreadTeam.alone, ThreadTeam(size: 3)] {
            var output = [Float]()
            try linear.apply(try bundle.values("linear.input"), rows: 5, output: &output, team: team)
            let diff = maxAbsDifference(try bundle.values("linear.output"), output)
            print("linear \(unit), team of \(team.size): max abs diff \(diff)")
            #expect(output.count == 20 && diff <= Self.tolerance)
        }
    }

    @Test(arguments: units)
    func bidirectionalGRUWithInitialStateMatchesPyTorch(unit: VectorUnit) throws {
        let inputShape = try bundle.shape("gru.input")  // [L, B, I]
        let steps = inputShape[0], batch = inputShape[1], inputSize = inputShape[2]
        let hidden = try bundle.shape("gru.weight_hh_l0")[1]
        let h0 = try bundle.values("gru.h0")  // [2, B, H]
        var output = [Float]()
        for (suffix, reverse) in [("", false), ("_reverse", true)] {
            let direction = try GRUDirectionKernel(
                inputSize: inputSize, hiddenSize: hidden,
                weightIH: try bundle.values("gru.weight_ih_l0" + suffix),
                weightHH: try bundle.values("gru.weight_hh_l0" + suffix),
                biasIH: try bundle.values("gru.bias_ih_l0" + suffix), biasHH: try bundle.values("gru.bias_hh_l0" + suffix),
                unit: unit)
            #expect(direction.weightIH == (try bundle.values("gru.weight_ih_l0" + suffix)))
            let start = reverse ? batch * hidden : 0
            try direction.run(try bundle.values("gru.input"), steps: steps, batch: batch, reverse: reverse,
                              initialHidden: Array(h0[start..<(start + batch * hidden)]), output: &output,
                              outputStride: 2 * hidden, outputOffset: reverse ? hidden : 0)
        }
        let expected = try bundle.values("gru.output")
        #expect(output.count == expected.count)
        let diff = maxAbsDifference(expected, output)
        print("GRU \(unit) (L=3, B=\(batch), nonzero h0): max abs diff \(diff)")
        #expect(diff <= Self.tolerance)
    }

    /// The head's products agree between the units for sizes off every
    /// vector and panel multiple, for one sequence (the hidden product's
    /// one-row path) and several (its four-row path, with a partial group).
    /// The inputs scaled by 400 drive every gate to its limits (e^x overflows
    /// and underflows), where the units must agree too.
    @Test(arguments: [(1, 1), (2, 1), (6, 1), (1, 400), (3, 400)])
    func headKernelsAgreeBetweenUnits(batch: Int, scale: Float) throws {
        let available = Self.units
        var random = SplitMix64(seed: UInt64(batch))
        func values(_ count: Int) -> [Float] { (0..<count).map { _ in Float.random(in: -0.5...0.5, using: &random) } }
        let steps = 5, inputSize = 19, hidden = 37
        let input = values(steps * batch * inputSize).map { $0 * scale }
        let (wih, whh, bih, bhh) = (values(3 * hidden * inputSize), values(3 * hidden * hidden), values(3 * hidden),
                                    values(3 * hidden))
        let (linearWeights, linearBias) = (values(13 * inputSize), values(13))
        var results: [[Float]] = []
        for unit in available {
            let gru = try GRUDirectionKernel(inputSize: inputSize, hiddenSize: hidden, weightIH: wih, weightHH: whh,
                                             biasIH: bih, biasHH: bhh, unit: unit)
            var output = [Float]()
            try gru.run(input, steps: steps, batch: batch, reverse: false, output: &output, outputStride: hidden,
                        outputOffset: 0)
            let linear = try LinearKernel(inFeatures: inputSize, outFeatures: 13, weights: linearWeights,
                                          bias: linearBias, unit: unit)
            var projected = [Float](), split = [Float]()
            try linear.apply(input, rows: steps * batch, output: &projected)
            try linear.apply(input, rows: steps * batch, output: &split, team: ThreadTeam(size: 2))
            switch unit {
            case .avx512, .avx2:
                // Equal by construction: each output is one fused multiply-add chain over
                // the inputs in order, whichever member computes it and in whatever tile.
                #expect(split == projected)
            case .portable:
                // OpenBLAS may sum in another order for another call shape (its kernels
                // follow OPENBLAS_CORETYPE), so the split may round differently, within
                // the reassociation bound of each dot product.
                let bounds = dotProductReorderingBounds(input, rows: steps * batch, weights: linearWeights,
                                                        bias: linearBias)
                #expect(split.count == projected.count
                        && split.indices.allSatisfy { abs(split[$0] - projected[$0]) <= bounds[$0] })
            }
            results.append(output + projected)
        }
        #expect(results.allSatisfy { $0.count == steps * batch * (hidden + 13) })
        // The GRU's outputs stay within [-1, 1]; the linear outputs grow with the scale.
        let gruCount = steps * batch * hidden
        for (unit, result) in zip(available, results).dropFirst() {
            #expect(maxAbsDifference(Array(results[0].prefix(gruCount)), Array(result.prefix(gruCount))) <= 1e-5,
                    "\(unit) against \(available[0])")
            #expect(maxAbsDifference(Array(results[0].dropFirst(gruCount)), Array(result.dropFirst(gruCount)))
                    <= 1e-5 * scale, "\(unit) against \(available[0])")
        }
        #expect(results.allSatisfy { $0.allSatisfy(\.isFinite) })
    }

    /// A NaN in one input step makes the GRU's state NaN from that step on,
    /// as PyTorch's sigmoid and tanh pass NaN through (every gate row reads
    /// every input), and leaves the steps before it finite, on every unit
    /// (the vector units' e^x must not clamp a NaN into a number).
    @Test(arguments: units)
    func gruPropagatesNaN(unit: VectorUnit) throws {
        var random = SplitMix64(seed: 11)
        func values(_ count: Int) -> [Float] { (0..<count).map { _ in Float.random(in: -0.5...0.5, using: &random) } }
        let steps = 4, inputSize = 5, hidden = 19, poisonedStep = 2
        var input = values(steps * inputSize)
        input[poisonedStep * inputSize + 3] = .nan
        let gru = try GRUDirectionKernel(inputSize: inputSize, hiddenSize: hidden, weightIH: values(3 * hidden * inputSize),
                                         weightHH: values(3 * hidden * hidden), biasIH: values(3 * hidden),
                                         biasHH: values(3 * hidden), unit: unit)
        var output = [Float]()
        try gru.run(input, steps: steps, batch: 1, reverse: false, output: &output, outputStride: hidden, outputOffset: 0)
        for step in 0..<steps {
            let row = output[(step * hidden)..<((step + 1) * hidden)]
            #expect(step < poisonedStep ? row.allSatisfy(\.isFinite) : row.allSatisfy(\.isNaN), "step \(step)")
        }
    }

    @Test func outputSizesFollowPyTorchAndBadGeometryIsRefused() throws {
        let conv = try ConvolutionKernel(outChannels: 1, inChannels: 1, kernel: 3, stride: 2, padding: 1,
                                         weights: [Float](repeating: 1, count: 9))
        // floor((n + 2 - 3) / 2) + 1 = ceil(n / 2): 50 -> 25, 49 -> 25, 1 -> 1
        for (n, expected) in [(50, 25), (49, 25), (1, 1)] {
            #expect(try conv.outputShape(for: FeatureShape(batch: 1, channels: 1, height: n, width: n)).height == expected)
        }
        let wide = try ConvolutionKernel(outChannels: 1, inChannels: 1, kernel: 7, weights: [Float](repeating: 0, count: 49))
        #expect(throws: KernelError.emptyOutput(operation: "convolution", height: 5, width: 9)) {
            try wide.outputShape(for: FeatureShape(batch: 1, channels: 1, height: 5, width: 9))
        }
        #expect(throws: KernelError.parameterCount(operation: "convolution", name: "weights", expected: 9, found: 8)) {
            try ConvolutionKernel(outChannels: 1, inChannels: 1, kernel: 3, weights: [Float](repeating: 0, count: 8))
        }
        #expect(throws: KernelError.poolingPaddingTooLarge(kernel: 3, padding: 2)) {
            try MaxPoolKernel(kernel: 3, stride: 2, padding: 2)
        }
    }

    @Test(.enabled(if: !MatrixProduct.builtInRequested)) func blasThreadCountCanBeSet() {
        let before = BLASThreads.count
        BLASThreads.setCount(1)
        #expect(BLASThreads.count == 1)
        BLASThreads.setCount(before)
        #expect(BLASThreads.count == before)
    }
}
