/// The portable unit's own matrix product, written with Swift's SIMD types
/// (lowered to SSE on baseline x86-64 and to NEON on ARM), for machines
/// without OpenBLAS or when `CRNN_BLAS=builtin` asks for it. Single-threaded:
/// the kernels split their work between a team's members themselves.
///
/// Each output block of 4 rows by 8 columns is accumulated over the whole
/// reduction in registers; the columns past the last full block go through
/// the same blocks from a zero-padded copy of those columns (a scalar loop
/// there, with B read down its columns, had taken 60% of the model's time);
/// a transposed B takes a dot product per output. Every output is one sum
/// over the reduction in order, so a result does not depend on how the
/// caller splits the rows.
enum BuiltInProduct {
    /// One row of an output block: 8 lanes (two SSE or NEON registers), so
    /// that 4 rows of accumulators and a row of B fit the 16 vector registers
    /// of baseline x86-64 without spilling.
    typealias Block = SIMD8<Float>
    static let blockWidth = 8

    /// Row-major C = alpha * A * op(B) + beta * C with A `[m, k]`, op(B)
    /// `[k, n]` (B `[n, k]` when `transposeB`) and C `[m, n]`; `lda`, `ldb`,
    /// `ldc` are row strides. `beta == 0` ignores C's contents, as BLAS does.
    static func sgemm(transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                      a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                      beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard m > 0, n > 0 else { return }
        if transposeB {
            dotProducts(m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            return
        }
        let fullColumns = n / blockWidth * blockWidth
        var row = 0
        while row < m {
            let rows = min(4, m - row)
            var column = 0
            while column < fullColumns {
                block(rows: rows, row: row, column: column, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                      beta: beta, c: c, ldc: ldc)
                column += blockWidth
            }
            row += rows
        }
        // The columns past the last full block: copied, zero-padded, into a panel one block wide, run
        // through the same register blocks into a scratch block, and the valid columns stored.
        let tail = n - fullColumns
        guard tail > 0 else { return }
        let panel = UnsafeMutablePointer<Float>.allocate(capacity: max(1, k) * blockWidth)
        defer { panel.deallocate() }
        for p in 0..<k {
            for j in 0..<blockWidth { panel[p &* blockWidth &+ j] = j < tail ? b[p &* ldb &+ fullColumns &+ j] : 0 }
        }
        var scratch = [Float](repeating: 0, count: 4 * blockWidth)
        scratch.withUnsafeMutableBufferPointer { scratch in
            var row = 0
            while row < m {
                let rows = min(4, m - row)
                block(rows: rows, row: 0, column: 0, k: k, alpha: 1, a: a + row * lda, lda: lda, b: panel, ldb: blockWidth,
                      beta: 0, c: scratch.baseAddress!, ldc: blockWidth)
                for r in 0..<rows {
                    for j in 0..<tail {
                        store(scratch[r * blockWidth + j], at: c + (row + r) * ldc + fullColumns + j, alpha: alpha, beta: beta)
                    }
                }
                row += rows
            }
        }
    }

    /// Up to 4 rows by `blockWidth` columns, accumulated in registers.
    @inline(__always)
    private static func block(rows: Int, row: Int, column: Int, k: Int, alpha: Float,
                              a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                              beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        var sum0 = Block(), sum1 = Block(), sum2 = Block(), sum3 = Block()
        let a0 = a + row * lda
        let a1 = a0 + (rows > 1 ? lda : 0), a2 = a0 + (rows > 2 ? 2 * lda : 0), a3 = a0 + (rows > 3 ? 3 * lda : 0)
        var bRow = UnsafeRawPointer(b + column)
        let bStride = ldb * MemoryLayout<Float>.stride
        for p in 0..<k {
            let bv = bRow.loadUnaligned(as: Block.self)
            sum0 += a0[p] * bv
            sum1 += a1[p] * bv
            sum2 += a2[p] * bv
            sum3 += a3[p] * bv
            bRow += bStride
        }
        func write(_ sum: Block, _ r: Int) {
            let out = UnsafeMutableRawPointer(c + (row + r) * ldc + column)
            var value = alpha * sum
            if beta != 0 { value += beta * out.loadUnaligned(as: Block.self) }
            out.storeBytes(of: value, as: Block.self)
        }
        write(sum0, 0)
        if rows > 1 { write(sum1, 1) }
        if rows > 2 { write(sum2, 2) }
        if rows > 3 { write(sum3, 3) }
    }

    /// C[i, j] = alpha * dot(A[i, :], B[j, :]) + beta * C[i, j], 8 lanes at a time.
    private static func dotProducts(m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
                                    b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        let vectorLength = k / 8 * 8
        for i in 0..<m {
            let aRow = UnsafeRawPointer(a + i * lda)
            for j in 0..<n {
                let bRow = UnsafeRawPointer(b + j * ldb)
                var lanes = SIMD8<Float>()
                var p = 0
                while p < vectorLength {
                    lanes += aRow.loadUnaligned(fromByteOffset: p * 4, as: SIMD8<Float>.self)
                        * bRow.loadUnaligned(fromByteOffset: p * 4, as: SIMD8<Float>.self)
                    p += 8
                }
                var sum = lanes.sum()
                while p < k {
                    sum += a[i * lda + p] * b[j * ldb + p]
                    p += 1
                }
                store(sum, at: c + i * ldc + j, alpha: alpha, beta: beta)
            }
        }
    }

    @inline(__always)
    private static func store(_ sum: Float, at pointer: UnsafeMutablePointer<Float>, alpha: Float, beta: Float) {
        pointer.pointee = beta == 0 ? alpha * sum : alpha * sum + beta * pointer.pointee
    }
}
