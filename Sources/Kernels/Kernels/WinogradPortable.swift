/// The portable unit's Winograd: Swift transforms, OpenBLAS products.
extension WinogradConvolution {
    /// Portable unit: each member takes whole rows of the tile (ξ = 4 * row +
    /// column), transform then OpenBLAS products; then each a block of output
    /// channels for the output pass.
    func runPortable(_ call: Call, blas: MatrixProduct, team: ThreadTeam) {
        let total = call.tiles.total
        let transformedInput = call.scratch, products = call.scratch + 16 * inChannels * total
        let o = Int32(outChannels), i = Int32(inChannels), n = Int32(total)
        team.run { member in
            let rows = team.share(of: 4, member: member)
            guard !rows.isEmpty else { return }
            transformInput(call.input, shape: call.shape, tiles: call.tiles, rows: rows, into: transformedInput)
            for xi in (4 * rows.lowerBound)..<(4 * rows.upperBound) {
                blas.sgemm(m: o, n: n, k: i, a: call.weights + xi * matrixCount, lda: i,
                           b: transformedInput + xi * inChannels * total, ldb: n, beta: 0,
                           c: products + xi * outChannels * total, ldc: n)
            }
        }
        team.run { member in
            transformOutput(UnsafePointer(products), shape: call.shape, tiles: call.tiles,
                            channels: team.share(of: outChannels, member: member), residual: call.residual,
                            relu: call.relu, into: call.output)
        }
    }

    /// V = Bᵀ d B for every 4x4 tile d (rows 2ty-1 ... 2ty+2, columns
    /// 2tx-1 ... 2tx+2, zero outside the image), written as 16 matrices
    /// `[I, tiles]`, tile index n * rows * columns + ty * columns + tx; only
    /// the matrices of the transformed tile's `rows` (ξ = 4 * row + column).
    func transformInput(_ input: UnsafePointer<Float>, shape: FeatureShape,
                                tiles: (rows: Int, columns: Int, total: Int), rows tileRows: Range<Int>,
                                into v: UnsafeMutablePointer<Float>) {
        let height = shape.height, width = shape.width
        let paddedWidth = 2 * tiles.columns + 2
        let matrixStride = inChannels * tiles.total
        // Four padded input rows, then the four row combinations Bᵀ d.
        let rows = UnsafeMutablePointer<Float>.allocate(capacity: 8 * paddedWidth)
        defer { rows.deallocate() }
        rows.initialize(repeating: 0, count: 8 * paddedWidth)
        let combined = rows + 4 * paddedWidth
        for n in 0..<shape.batch {
            for c in 0..<inChannels {
                let plane = input + (n * inChannels + c) * height * width
                for ty in 0..<tiles.rows {
                    for r in 0..<4 {
                        let row = rows + r * paddedWidth
                        let y = 2 * ty - 1 + r
                        if y >= 0 && y < height {
                            (row + 1).update(from: plane + y * width, count: width)
                            (row + 1 + width).update(repeating: 0, count: paddedWidth - 1 - width)
                        } else {
                            row.update(repeating: 0, count: paddedWidth)
                        }
                    }
                    let d0 = rows, d1 = rows + paddedWidth, d2 = rows + 2 * paddedWidth, d3 = rows + 3 * paddedWidth
                    // Bᵀ d, row r: d0 - d2, d1 + d2, d2 - d1, d1 - d3.
                    for r in tileRows {
                        let t = combined + r * paddedWidth
                        switch r {
                        case 0: for x in 0..<paddedWidth { t[x] = d0[x] - d2[x] }
                        case 1: for x in 0..<paddedWidth { t[x] = d1[x] + d2[x] }
                        case 2: for x in 0..<paddedWidth { t[x] = d2[x] - d1[x] }
                        default: for x in 0..<paddedWidth { t[x] = d1[x] - d3[x] }
                        }
                    }
                    let firstTile = (n * tiles.rows + ty) * tiles.columns
                    let base = v + c * tiles.total + firstTile
                    for r in tileRows {
                        let t = combined + r * paddedWidth
                        let m0 = base + (4 * r) * matrixStride, m1 = base + (4 * r + 1) * matrixStride
                        let m2 = base + (4 * r + 2) * matrixStride, m3 = base + (4 * r + 3) * matrixStride
                        for tx in 0..<tiles.columns {
                            let x = 2 * tx
                            m0[tx] = t[x] - t[x + 2]
                            m1[tx] = t[x + 1] + t[x + 2]
                            m2[tx] = t[x + 2] - t[x + 1]
                            m3[tx] = t[x + 1] - t[x + 3]
                        }
                    }
                }
            }
        }
    }

    /// Y = Aᵀ m A for every tile (2x2 outputs, cut at the image's edge), plus
    /// bias, residual and ReLU, into the NCHW `output`, for output `channels`.
    func transformOutput(_ m: UnsafePointer<Float>, shape: FeatureShape,
                                 tiles: (rows: Int, columns: Int, total: Int), channels: Range<Int>,
                                 residual: UnsafePointer<Float>?, relu: Bool, into output: UnsafeMutablePointer<Float>) {
        let height = shape.height, width = shape.width
        let matrixStride = outChannels * tiles.total
        // Two output rows at a time, full tiles wide (2 * columns >= width).
        let block = UnsafeMutablePointer<Float>.allocate(capacity: 4 * tiles.columns)
        defer { block.deallocate() }
        for n in 0..<shape.batch {
            for k in channels {
                let value = bias[k]
                let planeOffset = (n * outChannels + k) * height * width
                for ty in 0..<tiles.rows {
                    let base = m + k * tiles.total + (n * tiles.rows + ty) * tiles.columns
                    let top = block, bottom = block + 2 * tiles.columns
                    for tx in 0..<tiles.columns {
                        let m00 = base[tx], m01 = base[matrixStride + tx]
                        let m02 = base[2 * matrixStride + tx], m03 = base[3 * matrixStride + tx]
                        let m10 = base[4 * matrixStride + tx], m11 = base[5 * matrixStride + tx]
                        let m12 = base[6 * matrixStride + tx], m13 = base[7 * matrixStride + tx]
                        let m20 = base[8 * matrixStride + tx], m21 = base[9 * matrixStride + tx]
                        let m22 = base[10 * matrixStride + tx], m23 = base[11 * matrixStride + tx]
                        let m30 = base[12 * matrixStride + tx], m31 = base[13 * matrixStride + tx]
                        let m32 = base[14 * matrixStride + tx], m33 = base[15 * matrixStride + tx]
                        // Aᵀ m: rows (m0 + m1 + m2) and (m1 - m2 - m3).
                        let r00 = m00 + m10 + m20, r01 = m01 + m11 + m21, r02 = m02 + m12 + m22, r03 = m03 + m13 + m23
                        let r10 = m10 - m20 - m30, r11 = m11 - m21 - m31, r12 = m12 - m22 - m32, r13 = m13 - m23 - m33
                        // (Aᵀ m) A: columns (r0 + r1 + r2) and (r1 - r2 - r3).
                        top[2 * tx] = r00 + r01 + r02 + value
                        top[2 * tx + 1] = r01 - r02 - r03 + value
                        bottom[2 * tx] = r10 + r11 + r12 + value
                        bottom[2 * tx + 1] = r11 - r12 - r13 + value
                    }
                    for i in 0..<2 {
                        let y = 2 * ty + i
                        guard y < height else { break }
                        let source = block + i * 2 * tiles.columns
                        let destination = output + planeOffset + y * width
                        // The same output pass as the im2col form's.
                        switch (residual.map { $0 + planeOffset + y * width }, relu) {
                        case let (add?, true): for x in 0..<width { destination[x] = rectified(source[x] + add[x]) }
                        case let (add?, false): for x in 0..<width { destination[x] = source[x] + add[x] }
                        case (nil, true): for x in 0..<width { destination[x] = rectified(source[x]) }
                        case (nil, false): destination.update(from: source, count: width)
                        }
                    }
                }
            }
        }
    }
}
