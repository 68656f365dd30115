// Winograd F(2x2, 3x3) and F(4x4, 3x3) input and output transforms. Written in the
// operations of isa_avx512.h / isa_avx2.h; included by kernels_avx512.c and
// kernels_avx2.c (see vector_kernels.h for the contracts).

// MARK: - Runs of tiles

/// The tiles first_x ... end_x - 1 of tile row ty of image n: the part of a
/// run of tiles within one row of tiles, its first tile being column
/// `column` of the transformed matrices.
typedef struct {
    int n, ty, first_x, end_x;
    size_t column;
} tile_run;

/// The part of the run [*tile, end_tile) (tiles numbered (n * tile_rows + ty)
/// * tile_columns + tx, the matrices' column 0 being first_tile) within the
/// row of tiles of *tile; moves *tile past it.
static inline tile_run next_tile_run(int *tile, int first_tile, int end_tile, int tile_rows, int tile_columns) {
    const row_piece piece = row_piece_at(*tile, end_tile, tile_columns);
    const tile_run run = {piece.row / tile_rows, piece.row % tile_rows, piece.first, piece.end,
                          (size_t)(*tile - first_tile)};
    *tile += piece.end - piece.first;
    return run;
}

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
            const tile_run run = next_tile_run(&tile, first_tile, end_tile, tile_rows, tile_columns);
            const int first_x = run.first_x, end_x = run.end_x, n = run.n, ty = run.ty;
            float *base = transformed + (size_t)c * tiles + run.column;
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
            const tile_run run = next_tile_run(&tile, first_tile, end_tile, tile_rows, tile_columns);
            const int first_x = run.first_x, end_x = run.end_x, n = run.n, ty = run.ty;
            const size_t plane = ((size_t)n * out_channels + k) * height * width;
            const float *base = m + (size_t)k * tiles + run.column;
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

// MARK: - Winograd F(4x4, 3x3) transforms

/// Columns 4t + k (k = 0 ... 3) of the 4 * LANES floats v[0..3], for the LANES tiles t.
static inline void deinterleave_by_4(const vfloat v[4], vfloat columns[4]) {
    const vfloat e01 = v_even(v[0], v[1]), o01 = v_odd(v[0], v[1]);
    const vfloat e23 = v_even(v[2], v[3]), o23 = v_odd(v[2], v[3]);
    columns[0] = v_even(e01, e23);
    columns[1] = v_even(o01, o23);
    columns[2] = v_odd(e01, e23);
    columns[3] = v_odd(o01, o23);
}

/// The inverse: 4 * LANES floats, column 4t + k from lane t of columns[k].
static inline void interleave_by_4(const vfloat columns[4], vfloat v[4]) {
    const vfloat a0 = v_interleave_low(columns[0], columns[2]), a1 = v_interleave_high(columns[0], columns[2]);
    const vfloat b0 = v_interleave_low(columns[1], columns[3]), b1 = v_interleave_high(columns[1], columns[3]);
    v[0] = v_interleave_low(a0, b0);
    v[1] = v_interleave_high(a0, b0);
    v[2] = v_interleave_low(a1, b1);
    v[3] = v_interleave_high(a1, b1);
}

/// Bᵀ x for F(4x4, 3x3) (interpolation points 0, 1, -1, 2, -2 and infinity):
/// the 6 values of one column (or row) of a tile, in place.
static inline void winograd4_input_combination(vfloat x[6]) {
    const vfloat four = v_set1(4.0f), five = v_set1(5.0f), two = v_set1(2.0f);
    const vfloat d0 = x[0], d1 = x[1], d2 = x[2], d3 = x[3], d4 = x[4], d5 = x[5];
    x[0] = v_fnma(five, d2, v_fma(four, d0, d4));        // 4 d0 - 5 d2 + d4
    x[1] = v_fnma(four, v_add(d1, d2), v_add(d3, d4));   // -4 d1 - 4 d2 + d3 + d4
    x[2] = v_fma(four, v_sub(d1, d2), v_sub(d4, d3));    // 4 d1 - 4 d2 - d3 + d4
    x[3] = v_fma(two, v_sub(d3, d1), v_sub(d4, d2));     // -2 d1 - d2 + 2 d3 + d4
    x[4] = v_fnma(two, v_sub(d3, d1), v_sub(d4, d2));    // 2 d1 - d2 - 2 d3 + d4
    x[5] = v_fnma(five, d3, v_fma(four, d1, d5));        // 4 d1 - 5 d3 + d5
}

static void crnn_winograd4_input(const float *input, int batch, int channels, int height, int width,
                                 int first_channel, int end_channel, int first_tile, int end_tile,
                                 float *transformed, int tile_stride, size_t matrix_stride) {
    const int tile_rows = (height + 3) / 4, tile_columns = (width + 3) / 4;
    const size_t tiles = (size_t)tile_stride;
    const size_t matrix = matrix_stride;
    const size_t plane_size = (size_t)height * width;
    (void)batch;
    for (int c = first_channel; c < end_channel; c++) {
        for (int tile = first_tile; tile < end_tile;) {
            const tile_run run = next_tile_run(&tile, first_tile, end_tile, tile_rows, tile_columns);
            const int first_x = run.first_x, end_x = run.end_x, n = run.n, ty = run.ty;
            float *base = transformed + (size_t)c * tiles + run.column;
            // Input rows 4ty - 1 ... 4ty + 4; a row outside the image gets no lanes (reads as zeros).
            const float *plane = input + ((size_t)n * channels + c) * plane_size;
            for (int tx = first_x; tx < end_x; tx += LANES) {
                // Tiles tx ... tx + LANES - 1 read columns 4tx - 1 ... 4tx + 4 LANES: four vectors
                // from 4tx - 1, deinterleaved, and the two columns after them (zero outside the
                // image; masked lanes are never read, so the addresses may lie outside the row).
                const int x0 = 4 * tx - 1, after = x0 + 4 * LANES;
                vmask masks[4];
                for (int v = 0; v < 4; v++) masks[v] = v_mask_andnot(v_first(width - (x0 + LANES * v)), v_first(-(x0 + LANES * v)));
                const vmask next0 = v_mask_and(v_first(1), v_first(width - after));
                const vmask next1 = v_mask_and(v_first(1), v_first(width - after - 1));
                // d[i][q]: tile column q (0..5) of tile row i, for LANES tiles.
                vfloat d[6][6];
                for (int i = 0; i < 6; i++) {
                    const int y = 4 * ty - 1 + i;
                    const vmask row_ok = (y >= 0 && y < height) ? v_all() : v_none();
                    const float *row = plane + (ptrdiff_t)y * width;
                    vfloat raw[4];
                    for (int v = 0; v < 4; v++) raw[v] = v_load_masked(v_mask_and(masks[v], row_ok), row + x0 + LANES * v);
                    deinterleave_by_4(raw, d[i]);
                    // Columns 4 and 5 of tile t are columns 0 and 1 of tile t + 1.
                    d[i][4] = v_shift_in(d[i][0], v_load_masked(v_mask_and(next0, row_ok), row + after));
                    d[i][5] = v_shift_in(d[i][1], v_load_masked(v_mask_and(next1, row_ok), row + after + 1));
                }
                // Bᵀ d on the columns, then (Bᵀ d) B on the rows.
                for (int q = 0; q < 6; q++) {
                    vfloat column[6] = {d[0][q], d[1][q], d[2][q], d[3][q], d[4][q], d[5][q]};
                    winograd4_input_combination(column);
                    for (int i = 0; i < 6; i++) d[i][q] = column[i];
                }
                const vmask store = v_first(end_x - tx);
                for (int r = 0; r < 6; r++) {
                    winograd4_input_combination(d[r]);
                    float *m0 = base + (size_t)(6 * r) * matrix + (tx - first_x);
                    for (int q = 0; q < 6; q++) v_store_masked(m0 + (size_t)q * matrix, store, d[r][q]);
                }
            }
        }
    }
}

/// Aᵀ x for F(4x4, 3x3): the 4 outputs of one column (or row) of 6 products.
static inline void winograd4_output_combination(const vfloat x[6], vfloat y[4]) {
    const vfloat two = v_set1(2.0f), four = v_set1(4.0f), eight = v_set1(8.0f);
    const vfloat p12 = v_add(x[1], x[2]), m12 = v_sub(x[1], x[2]);
    const vfloat p34 = v_add(x[3], x[4]), m34 = v_sub(x[3], x[4]);
    y[0] = v_add(v_add(x[0], p12), p34);        // x0 + x1 + x2 + x3 + x4
    y[1] = v_fma(two, m34, m12);                // x1 - x2 + 2 x3 - 2 x4
    y[2] = v_fma(four, p34, p12);               // x1 + x2 + 4 x3 + 4 x4
    y[3] = v_add(v_fma(eight, m34, m12), x[5]); // x1 - x2 + 8 x3 - 8 x4 + x5
}

static void crnn_winograd4_output(const float *m, int batch, int out_channels, int height, int width,
                                  int first_channel, int end_channel, int first_tile, int end_tile,
                                  int tile_stride, size_t matrix_stride, const float *bias, const float *residual,
                                  int relu, float *output) {
    const int tile_rows = (height + 3) / 4, tile_columns = (width + 3) / 4;
    const size_t tiles = (size_t)tile_stride;
    const size_t matrix = matrix_stride;
    (void)batch;
    for (int k = first_channel; k < end_channel; k++) {
        const vfloat b = v_set1(bias[k]);
        for (int tile = first_tile; tile < end_tile;) {
            const tile_run run = next_tile_run(&tile, first_tile, end_tile, tile_rows, tile_columns);
            const int first_x = run.first_x, end_x = run.end_x, n = run.n, ty = run.ty;
            const size_t plane = ((size_t)n * out_channels + k) * height * width;
            const float *base = m + (size_t)k * tiles + run.column;
            for (int tx = first_x; tx < end_x; tx += LANES) {
                const vmask mask = v_first(end_x - tx);
                // Aᵀ m on the columns (s[i][q]: output row i, column q of the 6), then on the rows.
                vfloat s[4][6];
                for (int q = 0; q < 6; q++) {
                    vfloat x[6], y[4];
                    for (int i = 0; i < 6; i++) x[i] = v_load_masked(mask, base + (size_t)(6 * i + q) * matrix + (tx - first_x));
                    winograd4_output_combination(x, y);
                    for (int i = 0; i < 4; i++) s[i][q] = y[i];
                }
                // Four outputs per tile of this chunk (at most LANES tiles, up to end_x), cut at the
                // image's edge: output columns 4tx ... interleaved from the four column results.
                const int x0 = 4 * tx, last_tile = end_x < tx + LANES ? end_x : tx + LANES;
                const int count = (4 * last_tile < width ? 4 * last_tile : width) - x0;
                for (int i = 0; i < 4; i++) {
                    const int y = 4 * ty + i;
                    if (y >= height) break;
                    vfloat columns[4], values[4];
                    winograd4_output_combination(s[i], columns);
                    for (int q = 0; q < 4; q++) columns[q] = v_add(columns[q], b);
                    interleave_by_4(columns, values);
                    const size_t offset = plane + (size_t)y * width + x0;
                    for (int v = 0; v < 4 && count > LANES * v; v++)
                        finish_output(values[v], v_first(count - LANES * v),
                                      residual ? residual + offset + LANES * v : NULL, relu, output + offset + LANES * v);
                }
            }
        }
    }
}
