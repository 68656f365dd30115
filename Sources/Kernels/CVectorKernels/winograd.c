// Winograd F(2x2, 3x3) input and output transforms.
// AVX-512F only: see vector_kernels.h for the contracts.
#if defined(__x86_64__)
#include "avx512_common.h"

#pragma clang attribute push(CRNN_AVX512_TARGET, apply_to = function)

// MARK: - Winograd F(2x2, 3x3) transforms

void crnn_winograd_input_avx512(const float *input, int batch, int channels, int height, int width,
                                int first_channel, int end_channel, int first_tile, int end_tile,
                                float *transformed, int tile_stride) {
    const int tile_rows = (height + 1) / 2, tile_columns = (width + 1) / 2;
    const size_t tiles = (size_t)tile_stride;
    const size_t matrix = (size_t)channels * tiles;
    const size_t plane_size = (size_t)height * width;
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
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
            __mmask16 row_ok[4];
            for (int i = 0; i < 4; i++) row_ok[i] = (2 * ty - 1 + i >= 0 && 2 * ty - 1 + i < height) ? 0xFFFF : 0;
            for (int tx = first_x; tx < end_x; tx += 16) {
                // Tiles tx ... tx + 15 read columns 2tx - 1 ... 2tx + 32: two vectors from 2tx - 1
                // and two from 2tx + 1, zero outside the image (masked loads; masked lanes are
                // never read, so the addresses may lie outside the row).
                const int x0 = 2 * tx - 1;
                __mmask16 masks[4];
                for (int v = 0; v < 4; v++) {
                    int start = x0 + (v & 1) * 16 + (v >> 1) * 2;  // 2tx-1, 2tx+15, 2tx+1, 2tx+17
                    masks[v] = (__mmask16)(first_lanes(width - start) & ~first_lanes(-start));
                }
                // d[i][q]: tile column q (0..3) of tile row i, for 16 tiles.
                __m512 d[4][4];
                for (int i = 0; i < 4; i++) {
                    const float *row = plane + (ptrdiff_t)(2 * ty - 1 + i) * width + x0;
                    __m512 a0 = _mm512_maskz_loadu_ps(masks[0] & row_ok[i], row);
                    __m512 a1 = _mm512_maskz_loadu_ps(masks[1] & row_ok[i], row + 16);
                    __m512 b0 = _mm512_maskz_loadu_ps(masks[2] & row_ok[i], row + 2);
                    __m512 b1 = _mm512_maskz_loadu_ps(masks[3] & row_ok[i], row + 18);
                    d[i][0] = _mm512_permutex2var_ps(a0, even, a1);
                    d[i][1] = _mm512_permutex2var_ps(a0, odd, a1);
                    d[i][2] = _mm512_permutex2var_ps(b0, even, b1);
                    d[i][3] = _mm512_permutex2var_ps(b0, odd, b1);
                }
                // B^T d: rows (d0 - d2, d1 + d2, d2 - d1, d1 - d3), then (B^T d) B the same on columns.
                __m512 t[4][4];
                for (int q = 0; q < 4; q++) {
                    t[0][q] = _mm512_sub_ps(d[0][q], d[2][q]);
                    t[1][q] = _mm512_add_ps(d[1][q], d[2][q]);
                    t[2][q] = _mm512_sub_ps(d[2][q], d[1][q]);
                    t[3][q] = _mm512_sub_ps(d[1][q], d[3][q]);
                }
                const __mmask16 store = first_lanes(end_x - tx);
                for (int r = 0; r < 4; r++) {
                    float *m0 = base + (size_t)(4 * r) * matrix + (tx - first_x);
                    _mm512_mask_storeu_ps(m0, store, _mm512_sub_ps(t[r][0], t[r][2]));
                    _mm512_mask_storeu_ps(m0 + matrix, store, _mm512_add_ps(t[r][1], t[r][2]));
                    _mm512_mask_storeu_ps(m0 + 2 * matrix, store, _mm512_sub_ps(t[r][2], t[r][1]));
                    _mm512_mask_storeu_ps(m0 + 3 * matrix, store, _mm512_sub_ps(t[r][1], t[r][3]));
                }
            }
        }
    }
}

void crnn_winograd_output_avx512(const float *m, int batch, int out_channels, int height, int width,
                                 int first_channel, int end_channel, int first_tile, int end_tile,
                                 int tile_stride, const float *bias, const float *residual, int relu,
                                 float *output) {
    const int tile_rows = (height + 1) / 2, tile_columns = (width + 1) / 2;
    const size_t tiles = (size_t)tile_stride;
    const size_t matrix = (size_t)out_channels * tiles;
    // Output columns 2tx and 2tx + 1 interleaved from the even and odd results.
    const __m512i low = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i high = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    for (int k = first_channel; k < end_channel; k++) {
        const __m512 b = _mm512_set1_ps(bias[k]);
        // Row of tiles by row of tiles, each cut to the tiles asked for.
        for (int tile = first_tile; tile < end_tile;) {
            const row_piece piece = row_piece_at(tile, end_tile, tile_columns);
            const int first_x = piece.first, end_x = piece.end;
            const int n = piece.row / tile_rows, ty = piece.row % tile_rows;
            const size_t plane = ((size_t)n * out_channels + k) * height * width;
            // The tile first_x of this row is column (tile - first_tile) of the matrices.
            const float *base = m + (size_t)k * tiles + (size_t)(tile - first_tile);
            tile += end_x - first_x;
            for (int tx = first_x; tx < end_x; tx += 16) {
                __mmask16 mask = first_lanes(end_x - tx);
                __m512 x[16];
                for (int xi = 0; xi < 16; xi++) x[xi] = _mm512_maskz_loadu_ps(mask, base + xi * matrix + (tx - first_x));
                // A^T m: rows (m0 + m1 + m2) and (m1 - m2 - m3) of the 4x4 tile.
                __m512 r0[4], r1[4];
                for (int col = 0; col < 4; col++) {
                    r0[col] = _mm512_add_ps(_mm512_add_ps(x[col], x[4 + col]), x[8 + col]);
                    r1[col] = _mm512_sub_ps(_mm512_sub_ps(x[4 + col], x[8 + col]), x[12 + col]);
                }
                // (A^T m) A: columns (r0 + r1 + r2) and (r1 - r2 - r3).
                __m512 results[2][2] = {
                    {_mm512_add_ps(_mm512_add_ps(_mm512_add_ps(r0[0], r0[1]), r0[2]), b),
                     _mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(r0[1], r0[2]), r0[3]), b)},
                    {_mm512_add_ps(_mm512_add_ps(_mm512_add_ps(r1[0], r1[1]), r1[2]), b),
                     _mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(r1[1], r1[2]), r1[3]), b)},
                };
                for (int i = 0; i < 2; i++) {
                    int y = 2 * ty + i;
                    if (y >= height) break;
                    // Two outputs per tile of this chunk (at most 16 tiles, up to end_x), cut at the image's edge.
                    int x0 = 2 * tx, last_tile = end_x < tx + 16 ? end_x : tx + 16;
                    int count = (2 * last_tile < width ? 2 * last_tile : width) - x0;
                    size_t offset = plane + (size_t)y * width + x0;
                    __m512 first = _mm512_permutex2var_ps(results[i][0], low, results[i][1]);
                    __m512 second = _mm512_permutex2var_ps(results[i][0], high, results[i][1]);
                    finish_output(first, first_lanes(count), residual ? residual + offset : NULL, relu,
                                  output + offset);
                    if (count > 16)
                        finish_output(second, first_lanes(count - 16), residual ? residual + offset + 16 : NULL,
                                      relu, output + offset + 16);
                }
            }
        }
    }
}

#pragma clang attribute pop

#endif
