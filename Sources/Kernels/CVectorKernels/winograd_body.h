// Winograd F(2x2, 3x3) input and output transforms. Written in the
// operations of isa_avx512.h / isa_avx2.h; included by kernels_avx512.c and
// kernels_avx2.c (see vector_kernels.h for the contracts).

// MARK: - Winograd F(2x2, 3x3) transforms

static void crnn_winograd_input(const float *input, int batch, int channels, int height, int width,
                                int first_channel, int end_channel, int first_tile, int end_tile,
                                float *transformed, int tile_stride, size_t matrix_stride) {
    const int tile_rows = (height + 1) / 2, tile_columns = (width + 1) / 2;
    const size_t tiles = (size_t)tile_stride;
    const size_t matrix = matrix_stride;
    const size_t plane_size = (size_t)height * width;
    (void)batch;
    for (int c = first_channel; c < end_channel; c++) {
        // Row of tiles by row of tiles, each cut to the tiles asked for.
        for (int tile = first_tile; tile < end_tile;) {
            const row_piece piece = row_piece_at(tile, end_tile, tile_columns);
            const int first_x = piece.first, end_x = piece.end;
            const int n = piece.row / tile_rows, ty = piece.row % tile_rows;
            // The tile first_x of this row is column (tile - first_tile) of the matrices.
            float *base = transformed + (size_t)c * tiles + (size_t)(tile - first_tile);
            tile += end_x - first_x;
            // Input rows 2ty - 1 ... 2ty + 2; a row outside the image gets no lanes (reads as zeros).
            const float *plane = input + ((size_t)n * channels + c) * plane_size;
            vmask row_ok[4];
            for (int i = 0; i < 4; i++) row_ok[i] = (2 * ty - 1 + i >= 0 && 2 * ty - 1 + i < height) ? v_all() : v_none();
            for (int tx = first_x; tx < end_x; tx += LANES) {
                // Tiles tx ... tx + LANES - 1 read columns 2tx - 1 ... 2tx + 2 LANES: two vectors
                // from 2tx - 1 and two from 2tx + 1, zero outside the image (masked loads; masked
                // lanes are never read, so the addresses may lie outside the row).
                const int x0 = 2 * tx - 1;
                vmask masks[4];
                for (int v = 0; v < 4; v++) {
                    int start = x0 + (v & 1) * LANES + (v >> 1) * 2;  // 2tx-1, 2tx-1+LANES, 2tx+1, 2tx+1+LANES
                    masks[v] = v_mask_andnot(v_first(width - start), v_first(-start));
                }
                // d[i][q]: tile column q (0..3) of tile row i, for LANES tiles.
                vfloat d[4][4];
                for (int i = 0; i < 4; i++) {
                    const float *row = plane + (ptrdiff_t)(2 * ty - 1 + i) * width + x0;
                    vfloat a0 = v_load_masked(v_mask_and(masks[0], row_ok[i]), row);
                    vfloat a1 = v_load_masked(v_mask_and(masks[1], row_ok[i]), row + LANES);
                    vfloat b0 = v_load_masked(v_mask_and(masks[2], row_ok[i]), row + 2);
                    vfloat b1 = v_load_masked(v_mask_and(masks[3], row_ok[i]), row + 2 + LANES);
                    d[i][0] = v_even(a0, a1);
                    d[i][1] = v_odd(a0, a1);
                    d[i][2] = v_even(b0, b1);
                    d[i][3] = v_odd(b0, b1);
                }
                // B^T d: rows (d0 - d2, d1 + d2, d2 - d1, d1 - d3), then (B^T d) B the same on columns.
                vfloat t[4][4];
                for (int q = 0; q < 4; q++) {
                    t[0][q] = v_sub(d[0][q], d[2][q]);
                    t[1][q] = v_add(d[1][q], d[2][q]);
                    t[2][q] = v_sub(d[2][q], d[1][q]);
                    t[3][q] = v_sub(d[1][q], d[3][q]);
                }
                const vmask store = v_first(end_x - tx);
                for (int r = 0; r < 4; r++) {
                    float *m0 = base + (size_t)(4 * r) * matrix + (tx - first_x);
                    v_store_masked(m0, store, v_sub(t[r][0], t[r][2]));
                    v_store_masked(m0 + matrix, store, v_add(t[r][1], t[r][2]));
                    v_store_masked(m0 + 2 * matrix, store, v_sub(t[r][2], t[r][1]));
                    v_store_masked(m0 + 3 * matrix, store, v_sub(t[r][1], t[r][3]));
                }
            }
        }
    }
}

static void crnn_winograd_output(const float *m, int batch, int out_channels, int height, int width,
                                 int first_channel, int end_channel, int first_tile, int end_tile,
                                 int tile_stride, size_t matrix_stride, const float *bias, const float *residual,
                                 int relu, float *output) {
    const int tile_rows = (height + 1) / 2, tile_columns = (width + 1) / 2;
    const size_t tiles = (size_t)tile_stride;
    const size_t matrix = matrix_stride;
    for (int k = first_channel; k < end_channel; k++) {
        const vfloat b = v_set1(bias[k]);
        // Row of tiles by row of tiles, each cut to the tiles asked for.
        for (int tile = first_tile; tile < end_tile;) {
            const row_piece piece = row_piece_at(tile, end_tile, tile_columns);
            const int first_x = piece.first, end_x = piece.end;
            const int n = piece.row / tile_rows, ty = piece.row % tile_rows;
            const size_t plane = ((size_t)n * out_channels + k) * height * width;
            // The tile first_x of this row is column (tile - first_tile) of the matrices.
            const float *base = m + (size_t)k * tiles + (size_t)(tile - first_tile);
            tile += end_x - first_x;
            for (int tx = first_x; tx < end_x; tx += LANES) {
                vmask mask = v_first(end_x - tx);
                vfloat x[16];
                for (int xi = 0; xi < 16; xi++) x[xi] = v_load_masked(mask, base + xi * matrix + (tx - first_x));
                // A^T m: rows (m0 + m1 + m2) and (m1 - m2 - m3) of the 4x4 tile.
                vfloat r0[4], r1[4];
                for (int col = 0; col < 4; col++) {
                    r0[col] = v_add(v_add(x[col], x[4 + col]), x[8 + col]);
                    r1[col] = v_sub(v_sub(x[4 + col], x[8 + col]), x[12 + col]);
                }
                // (A^T m) A: columns (r0 + r1 + r2) and (r1 - r2 - r3).
                vfloat results[2][2] = {
                    {v_add(v_add(v_add(r0[0], r0[1]), r0[2]), b), v_add(v_sub(v_sub(r0[1], r0[2]), r0[3]), b)},
                    {v_add(v_add(v_add(r1[0], r1[1]), r1[2]), b), v_add(v_sub(v_sub(r1[1], r1[2]), r1[3]), b)},
                };
                for (int i = 0; i < 2; i++) {
                    int y = 2 * ty + i;
                    if (y >= height) break;
                    // Two outputs per tile of this chunk (at most LANES tiles, up to end_x), cut at
                    // the image's edge; output columns 2tx and 2tx + 1 interleaved from the even
                    // and odd results.
                    int x0 = 2 * tx, last_tile = end_x < tx + LANES ? end_x : tx + LANES;
                    int count = (2 * last_tile < width ? 2 * last_tile : width) - x0;
                    size_t offset = plane + (size_t)y * width + x0;
                    vfloat first = v_interleave_low(results[i][0], results[i][1]);
                    vfloat second = v_interleave_high(results[i][0], results[i][1]);
                    finish_output(first, v_first(count), residual ? residual + offset : NULL, relu, output + offset);
                    if (count > LANES)
                        finish_output(second, v_first(count - LANES), residual ? residual + offset + LANES : NULL,
                                      relu, output + offset + LANES);
                }
            }
        }
    }
}
