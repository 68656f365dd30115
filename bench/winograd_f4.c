// Winograd F(4x4, 3x3) against the kernels' F(2x2, 3x3) for one 3x3,
// stride-1, padding-1 convolution (default: the model's layer 1, 64 -> 64
// channels on 13 x 50), AVX-512 only: a measured prototype, not part of the
// package. It times each phase (input transform, products, output transform;
// the least of many repetitions, in thread CPU time, so that a shared host's
// drift matters less) and checks both forms against a direct convolution in
// double precision. F(4x4) needs 36 products of [O, I] x [I, T4] where
// F(2x2) needs 16 of [O, I] x [I, T2] (layer 1: T4 = 52 tiles of 4x4
// outputs, T2 = 175 of 2x2): 1.5x fewer multiplies there, and a third fewer
// transformed values to store and read back. The F(2x2) side runs all tiles
// in one block (the package runs blocks of at most 96).
//
//   K=Sources/Kernels/CVectorKernels
//   clang -O3 -I$K/include -I$K bench/winograd_f4.c $K/packing.c -o /tmp/winograd_f4 && /tmp/winograd_f4
//   /tmp/winograd_f4 CHANNELS HEIGHT WIDTH       (another shape)
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels_avx512.c"

#pragma clang attribute push(CRNN_TARGET, apply_to = function)

static double now(void) { struct timespec t; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

/// Lanes 0, 4, 8, ... (offset 0..3) of the 64 floats v[0..3].
static inline void deinterleave4(const vfloat v[4], vfloat out[4]) {
    const vfloat e01 = v_even(v[0], v[1]), o01 = v_odd(v[0], v[1]);
    const vfloat e23 = v_even(v[2], v[3]), o23 = v_odd(v[2], v[3]);
    out[0] = v_even(e01, e23);  // 4t
    out[2] = v_odd(e01, e23);   // 4t + 2
    out[1] = v_even(o01, o23);  // 4t + 1
    out[3] = v_odd(o01, o23);   // 4t + 3
}

/// The inverse: 64 floats, column 4t + k of tile t from in[k] lane t.
static inline void interleave4(const vfloat in[4], vfloat v[4]) {
    const vfloat a0 = v_interleave_low(in[0], in[2]), a1 = v_interleave_high(in[0], in[2]);  // (k0,k2) pairs
    const vfloat b0 = v_interleave_low(in[1], in[3]), b1 = v_interleave_high(in[1], in[3]);  // (k1,k3) pairs
    v[0] = v_interleave_low(a0, b0);
    v[1] = v_interleave_high(a0, b0);
    v[2] = v_interleave_low(a1, b1);
    v[3] = v_interleave_high(a1, b1);
}

/// V = B^T d B for F(4x4, 3x3) (points 0, 1, -1, 2, -2): 36 matrices of
/// channels x stride (column 0 = tile 0), all tiles of one image.
static void f4_input(const float *input, int channels, int height, int width, float *v, int stride, size_t matrix) {
    const int tile_rows = (height + 3) / 4, tile_columns = (width + 3) / 4;
    for (int c = 0; c < channels; c++) {
        const float *plane = input + (size_t)c * height * width;
        for (int ty = 0; ty < tile_rows; ty++) {
            for (int tx = 0; tx < tile_columns; tx += LANES) {
                const int x0 = 4 * tx - 1;
                vfloat d[6][6];
                for (int i = 0; i < 6; i++) {
                    const int y = 4 * ty - 1 + i;
                    vfloat raw[4], q[4];
                    for (int k = 0; k < 4; k++) {
                        const int start = x0 + LANES * k;
                        vmask mask = (y >= 0 && y < height) ? v_mask_andnot(v_first(width - start), v_first(-start)) : v_none();
                        raw[k] = v_load_masked(mask, plane + (ptrdiff_t)y * width + start);
                    }
                    deinterleave4(raw, q);
                    // Columns 4t + 3 and 4t + 4 of the tile: columns 0 and 1 of the next tile.
                    const int after = x0 + 4 * LANES;
                    vmask m0 = (y >= 0 && y < height && after >= 0 && after < width) ? 1 : 0;
                    vmask m1 = (y >= 0 && y < height && after + 1 < width) ? 1 : 0;
                    const vfloat n0 = _mm512_maskz_loadu_ps(m0, plane + (ptrdiff_t)y * width + after);
                    const vfloat n1 = _mm512_maskz_loadu_ps(m1, plane + (ptrdiff_t)y * width + after + 1);
                    for (int k = 0; k < 4; k++) d[i][k] = q[k];
                    d[i][4] = _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(n0), _mm512_castps_si512(q[0]), 1));
                    d[i][5] = _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(n1), _mm512_castps_si512(q[1]), 1));
                }
                // B^T on the rows, then on the columns.
                const vfloat four = v_set1(4.0f), five = v_set1(5.0f), two = v_set1(2.0f);
                vfloat t[6][6];
                for (int k = 0; k < 6; k++) {
                    const vfloat d0 = d[0][k], d1 = d[1][k], d2 = d[2][k], d3 = d[3][k], d4 = d[4][k], d5 = d[5][k];
                    t[0][k] = v_fnma(five, d2, v_fma(four, d0, d4));
                    t[1][k] = v_fnma(four, v_add(d1, d2), v_add(d3, d4));
                    t[2][k] = v_fma(four, v_sub(d1, d2), v_sub(d4, d3));
                    t[3][k] = v_fma(two, v_sub(d3, d1), v_sub(d4, d2));
                    t[4][k] = v_fnma(two, v_sub(d3, d1), v_sub(d4, d2));
                    t[5][k] = v_fnma(five, d3, v_fma(four, d1, d5));
                }
                const vmask store = v_first(tile_columns - tx);
                float *base = v + (size_t)c * stride + tx + (size_t)ty * tile_columns;
                for (int j = 0; j < 6; j++) {
                    const vfloat d0 = t[j][0], d1 = t[j][1], d2 = t[j][2], d3 = t[j][3], d4 = t[j][4], d5 = t[j][5];
                    float *row = base + (size_t)(6 * j) * matrix;
                    v_store_masked(row, store, v_fnma(five, d2, v_fma(four, d0, d4)));
                    v_store_masked(row + matrix, store, v_fnma(four, v_add(d1, d2), v_add(d3, d4)));
                    v_store_masked(row + 2 * matrix, store, v_fma(four, v_sub(d1, d2), v_sub(d4, d3)));
                    v_store_masked(row + 3 * matrix, store, v_fma(two, v_sub(d3, d1), v_sub(d4, d2)));
                    v_store_masked(row + 4 * matrix, store, v_fnma(two, v_sub(d3, d1), v_sub(d4, d2)));
                    v_store_masked(row + 5 * matrix, store, v_fnma(five, d3, v_fma(four, d1, d5)));
                }
            }
        }
    }
}

/// Y = A^T m A + bias, then ReLU, into the NCHW output.
static void f4_output(const float *m, int channels, int height, int width, int stride, size_t matrix,
                      const float *bias, float *output) {
    const int tile_rows = (height + 3) / 4, tile_columns = (width + 3) / 4;
    const vfloat two = v_set1(2.0f), four = v_set1(4.0f), eight = v_set1(8.0f);
    for (int c = 0; c < channels; c++) {
        const vfloat b = v_set1(bias[c]);
        for (int ty = 0; ty < tile_rows; ty++) {
            for (int tx = 0; tx < tile_columns; tx += LANES) {
                const vmask mask = v_first(tile_columns - tx);
                const float *base = m + (size_t)c * stride + tx + (size_t)ty * tile_columns;
                vfloat s[4][6];
                for (int k = 0; k < 6; k++) {
                    vfloat x[6];
                    for (int i = 0; i < 6; i++) x[i] = v_load_masked(mask, base + (size_t)(6 * i + k) * matrix);
                    const vfloat p12 = v_add(x[1], x[2]), m12 = v_sub(x[1], x[2]);
                    const vfloat p34 = v_add(x[3], x[4]), m34 = v_sub(x[3], x[4]);
                    s[0][k] = v_add(v_add(x[0], p12), p34);
                    s[1][k] = v_fma(two, m34, m12);
                    s[2][k] = v_fma(four, p34, p12);
                    s[3][k] = v_add(v_fma(eight, m34, m12), x[5]);
                }
                for (int j = 0; j < 4; j++) {
                    const int y = 4 * ty + j;
                    if (y >= height) break;
                    const vfloat *x = s[j];
                    const vfloat p12 = v_add(x[1], x[2]), m12 = v_sub(x[1], x[2]);
                    const vfloat p34 = v_add(x[3], x[4]), m34 = v_sub(x[3], x[4]);
                    vfloat columns[4] = {v_add(v_add(v_add(x[0], p12), p34), b), v_add(v_fma(two, m34, m12), b),
                                         v_add(v_fma(four, p34, p12), b), v_add(v_add(v_fma(eight, m34, m12), x[5]), b)};
                    vfloat out[4];
                    interleave4(columns, out);
                    float *row = output + ((size_t)c * height + y) * width + 4 * tx;
                    const int count = width - 4 * tx;
                    for (int k = 0; k < 4; k++) {
                        if (count - LANES * k <= 0) break;
                        v_store_masked(row + LANES * k, v_first(count - LANES * k), v_max(v_zero(), out[k]));
                    }
                }
            }
        }
    }
}

#pragma clang attribute pop

/// U = G g G^T for every (o, i), in double, packed: 36 (F4) or 16 (F2) matrices `count` apart.
static void transform_weights(const float *g, int o, int i, int f4, float *packed, size_t count) {
    static const double G4[6][3] = {{0.25, 0, 0}, {-1.0 / 6, -1.0 / 6, -1.0 / 6}, {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                    {1.0 / 24, 1.0 / 12, 1.0 / 6}, {1.0 / 24, -1.0 / 12, 1.0 / 6}, {0, 0, 1}};
    static const double G2[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
    const int n = f4 ? 6 : 4;
    float *rows = malloc(sizeof(float) * n * n * o * i);
    for (int a = 0; a < o; a++)
        for (int b = 0; b < i; b++) {
            const float *k = g + ((size_t)a * i + b) * 9;
            for (int r = 0; r < n; r++)
                for (int s = 0; s < n; s++) {
                    double sum = 0;
                    for (int u = 0; u < 3; u++)
                        for (int w = 0; w < 3; w++)
                            sum += (f4 ? G4[r][u] * G4[s][w] : G2[r][u] * G2[s][w]) * k[u * 3 + w];
                    rows[((size_t)(r * n + s) * o + a) * i + b] = (float)sum;
                }
        }
    for (int xi = 0; xi < n * n; xi++) crnn_pack_rows(rows + (size_t)xi * o * i, i, o, i, packed + xi * count);
    free(rows);
}

static float *filled(size_t n, unsigned seed, float scale) {
    float *p = aligned_alloc(64, (n * 4 + 63) / 64 * 64);
    srand(seed);
    for (size_t k = 0; k < n; k++) p[k] = scale * ((float)(rand() % 20001) / 10000.0f - 1.0f);
    return p;
}

/// The matrix stride the package uses (WinogradConvolution.matrixStride): 48 past a multiple of 1024.
static size_t matrix_stride(size_t count) { return count <= 48 ? 48 : (count - 48 + 1023) / 1024 * 1024 + 48; }

int main(int argc, char **argv) {
    const int C = argc > 1 ? atoi(argv[1]) : 64, H = argc > 2 ? atoi(argv[2]) : 13, W = argc > 3 ? atoi(argv[3]) : 50;
    if (!__builtin_cpu_supports("avx512f")) {
        fprintf(stderr, "winograd_f4: this CPU has no AVX-512F\n");
        return 1;
    }
    const int reps = 2000;
    float *input = filled((size_t)C * H * W, 1, 1.0f), *weights = filled((size_t)C * C * 9, 2, 0.1f);
    float *bias = filled(C, 3, 0.1f), *out2 = filled((size_t)C * H * W, 4, 0), *out4 = filled((size_t)C * H * W, 5, 0);
    // Direct reference in double.
    double *reference = calloc((size_t)C * H * W, sizeof(double));
    for (int o = 0; o < C; o++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                double sum = bias[o];
                for (int c = 0; c < C; c++)
                    for (int u = 0; u < 3; u++)
                        for (int w = 0; w < 3; w++) {
                            int iy = y + u - 1, ix = x + w - 1;
                            if (iy >= 0 && iy < H && ix >= 0 && ix < W)
                                sum += (double)weights[((size_t)o * C + c) * 9 + u * 3 + w] * input[((size_t)c * H + iy) * W + ix];
                        }
                reference[((size_t)o * H + y) * W + x] = sum > 0 ? sum : 0;
            }
    const size_t count = crnn_packed_count(C, C);
    float *u2 = filled(16 * count, 6, 0), *u4 = filled(36 * count, 7, 0);
    transform_weights(weights, C, C, 0, u2, count);
    transform_weights(weights, C, C, 1, u4, count);

    // F(2x2): all tiles in one block (the package runs blocks of 96; one block here keeps the comparison simple).
    const int tiles2 = ((H + 1) / 2) * ((W + 1) / 2), tiles4 = ((H + 3) / 4) * ((W + 3) / 4);
    const size_t m2 = matrix_stride((size_t)C * tiles2), m4 = matrix_stride((size_t)C * tiles4);
    float *v2 = filled(16 * m2, 8, 0), *p2 = filled(16 * m2, 9, 0), *v4 = filled(36 * m4, 10, 0), *p4 = filled(36 * m4, 11, 0);
    double best[2][3] = {{1e9, 1e9, 1e9}, {1e9, 1e9, 1e9}};
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        crnn_winograd_input(input, 1, C, H, W, 0, C, 0, tiles2, v2, tiles2, m2);
        double t1 = now();
        for (int xi = 0; xi < 16; xi++) crnn_packed_product(C, tiles2, C, u2 + xi * count, v2 + xi * m2, tiles2, p2 + xi * m2, tiles2);
        double t2 = now();
        crnn_winograd_output(p2, 1, C, H, W, 0, C, 0, tiles2, tiles2, m2, bias, NULL, 1, out2);
        double t3 = now();
        f4_input(input, C, H, W, v4, tiles4, m4);
        double t4 = now();
        for (int xi = 0; xi < 36; xi++) crnn_packed_product(C, tiles4, C, u4 + xi * count, v4 + xi * m4, tiles4, p4 + xi * m4, tiles4);
        double t5 = now();
        f4_output(p4, C, H, W, tiles4, m4, bias, out4);
        double t6 = now();
        double times[2][3] = {{t1 - t0, t2 - t1, t3 - t2}, {t4 - t3, t5 - t4, t6 - t5}};
        for (int f = 0; f < 2; f++)
            for (int p = 0; p < 3; p++)
                if (times[f][p] < best[f][p]) best[f][p] = times[f][p];
    }
    double error[2] = {0, 0}, largest = 0;
    for (size_t k = 0; k < (size_t)C * H * W; k++) {
        error[0] = fmax(error[0], fabs(out2[k] - reference[k]));
        error[1] = fmax(error[1], fabs(out4[k] - reference[k]));
        largest = fmax(largest, fabs(reference[k]));
    }
    printf("%d -> %d channels on %d x %d, one thread, least of %d runs (thread CPU time), AVX-512\n", C, C, H, W, reps);
    const char *names[2] = {"F(2x2,3x3)", "F(4x4,3x3)"};
    const int products[2] = {16, 36}, columns[2] = {tiles2, tiles4};
    for (int f = 0; f < 2; f++) {
        double flops = 2.0 * products[f] * C * C * columns[f];
        printf("%s: input %.1f us, %d products %.1f us (%.0f GFLOP/s), output %.1f us, total %.1f us; "
               "largest error %.2e (outputs up to %.2f)\n",
               names[f], best[f][0] * 1e6, products[f], best[f][1] * 1e6, flops / best[f][1] / 1e9, best[f][2] * 1e6,
               (best[f][0] + best[f][1] + best[f][2]) * 1e6, error[f], largest);
    }
    return 0;
}
