// AVX-512F versions of the convolution inner loops (see vector_kernels.h).
// Every function in this file is compiled for AVX-512F whatever the build's
// target CPU; callers must check the CPU first.
#include "vector_kernels.h"

#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx512f,fma"))), apply_to = function)

/// A mask of the first `count` lanes (all 16 when count >= 16, none when <= 0).
static inline __mmask16 first_lanes(int count) {
    count = count < 0 ? 0 : count > 16 ? 16 : count;  // branch-free (conditional moves)
    return (__mmask16)((1u << count) - 1);
}

// MARK: - Packed product

/// What happens to each value of the product before it is stored.
typedef struct {
    const float *bias;      // per row of c, or NULL
    const float *residual;  // laid out as c (same ldc), or NULL
    int relu;
} epilogue;

/// Adds the residual (lanes of `mask`), applies ReLU and stores the lanes of `mask` at `out`.
static inline void finish_output(__m512 value, __mmask16 mask, const float *residual, int relu, float *out) {
    if (residual) value = _mm512_add_ps(value, _mm512_maskz_loadu_ps(mask, residual));
    // max(0, NaN) is the second operand, NaN, as PyTorch's relu gives.
    if (relu) value = _mm512_max_ps(_mm512_setzero_ps(), value);
    _mm512_mask_storeu_ps(out, mask, value);
}

/// One (PANELS * CRNN_PANEL_ROWS) x (16 * VECTORS) block of c (`rows` of
/// its rows and the lanes of `last` in its last vector are stored); `row` is
/// the block's first row of c, for the bias. PANELS * 8 * VECTORS
/// accumulators stay in registers (at most 24 of the 32).
#define PRODUCT_TILE(PANELS, VECTORS)                                                                         \
    static void product_tile_##PANELS##_##VECTORS(int rows, int k, const float *panel, const float *b, int ldb, \
                                                  __mmask16 last, float *c, int ldc, int row, size_t offset,  \
                                                  epilogue post) {                                            \
        enum { ROWS = PANELS * CRNN_PANEL_ROWS };                                                              \
        const size_t panel_size = (size_t)k * CRNN_PANEL_ROWS;                                                 \
        __m512 acc[ROWS][VECTORS];                                                                             \
        for (int r = 0; r < ROWS; r++)                                                                         \
            for (int v = 0; v < VECTORS; v++) acc[r][v] = _mm512_setzero_ps();                                \
        for (int j = 0; j < k; j++) {                                                                          \
            const float *values_row = b + (size_t)j * ldb;                                                     \
            __m512 values[VECTORS];                                                                            \
            for (int v = 0; v < VECTORS - 1; v++) values[v] = _mm512_loadu_ps(values_row + 16 * v);           \
            values[VECTORS - 1] = _mm512_maskz_loadu_ps(last, values_row + 16 * (VECTORS - 1));                \
            const float *weights = panel + (size_t)j * CRNN_PANEL_ROWS;                                        \
            _Pragma("clang loop unroll(full)")                                                                 \
            for (int r = 0; r < ROWS; r++) {                                                                   \
                __m512 weight =                                                                                \
                    _mm512_set1_ps(weights[(r / CRNN_PANEL_ROWS) * panel_size + r % CRNN_PANEL_ROWS]);         \
                _Pragma("clang loop unroll(full)")                                                             \
                for (int v = 0; v < VECTORS; v++) acc[r][v] = _mm512_fmadd_ps(weight, values[v], acc[r][v]);   \
            }                                                                                                  \
        }                                                                                                      \
        for (int r = 0; r < rows; r++) {                                                                       \
            size_t at = offset + (size_t)r * ldc;                                                              \
            __m512 bias = _mm512_set1_ps(post.bias ? post.bias[row + r] : 0.0f);                               \
            for (int v = 0; v < VECTORS; v++) {                                                                \
                __m512 value = post.bias ? _mm512_add_ps(acc[r][v], bias) : acc[r][v];                         \
                finish_output(value, v == VECTORS - 1 ? last : (__mmask16)0xFFFF,                              \
                              post.residual ? post.residual + at + 16 * v : NULL, post.relu, c + at + 16 * v);  \
            }                                                                                                  \
        }                                                                                                      \
    }

PRODUCT_TILE(1, 1)
PRODUCT_TILE(1, 2)
PRODUCT_TILE(1, 3)
PRODUCT_TILE(3, 1)

static void packed_product(int m, int n, int k, const float *packed, const float *b, int ldb, float *c, int ldc,
                           epilogue post) {
    int panels = (m + CRNN_PANEL_ROWS - 1) / CRNN_PANEL_ROWS;
    // Column blocks of up to 48 outer, so one block of b (k x 48) stays in
    // cache while every panel of A passes over it.
    for (int first = 0; first < n; first += 48) {
        int width = n - first < 48 ? n - first : 48;
        int vectors = (width + 15) / 16;
        __mmask16 last = first_lanes(width - 16 * (vectors - 1));
        for (int p = 0; p < panels;) {
            int row = p * CRNN_PANEL_ROWS;
            int left = m - row;
            const float *panel = packed + (size_t)p * k * CRNN_PANEL_ROWS;
            size_t offset = (size_t)row * ldc + first;
            if (vectors == 1 && panels - p >= 3) {
                // One vector of columns: three panels at once, so that 24 sums are in flight.
                product_tile_3_1(left < 24 ? left : 24, k, panel, b + first, ldb, last, c, ldc, row, offset, post);
                p += 3;
                continue;
            }
            int rows = left < CRNN_PANEL_ROWS ? left : CRNN_PANEL_ROWS;
            switch (vectors) {
            case 3: product_tile_1_3(rows, k, panel, b + first, ldb, last, c, ldc, row, offset, post); break;
            case 2: product_tile_1_2(rows, k, panel, b + first, ldb, last, c, ldc, row, offset, post); break;
            default: product_tile_1_1(rows, k, panel, b + first, ldb, last, c, ldc, row, offset, post); break;
            }
            p += 1;
        }
    }
}

void crnn_packed_product_avx512(int m, int n, int k, const float *packed, const float *b, int ldb, float *c,
                                int ldc) {
    epilogue none = {NULL, NULL, 0};
    packed_product(m, n, k, packed, b, ldb, c, ldc, none);
}

void crnn_packed_product_epilogue_avx512(int m, int n, int k, const float *packed, const float *b, int ldb,
                                         float *c, int ldc, const float *bias, const float *residual, int relu) {
    epilogue post = {bias, residual, relu};
    packed_product(m, n, k, packed, b, ldb, c, ldc, post);
}

// MARK: - Products with a few rows

/// Rows [first_o, first_o + O) of w against rows [first_x, first_x + X) of x
/// (both counts at most the macro's; missing rows read as zeros and are not stored).
#define ROW_PRODUCTS(NAME, O, X)                                                                               \
    static void NAME(int m, int k, const float *w, int ldw, const float *x, int rows, int ldx,                \
                     const float *bias, float *y, int ldy, int first_o, int first_x) {                        \
        __m512 acc[O][X];                                                                                      \
        for (int a = 0; a < O; a++)                                                                            \
            for (int b = 0; b < X; b++) acc[a][b] = _mm512_setzero_ps();                                       \
        for (int j = 0; j < k; j += 16) {                                                                      \
            __mmask16 mask = first_lanes(k - j);                                                               \
            __m512 xs[X];                                                                                      \
            for (int b = 0; b < X; b++)                                                                        \
                xs[b] = first_x + b < rows ? _mm512_maskz_loadu_ps(mask, x + (size_t)(first_x + b) * ldx + j)  \
                                           : _mm512_setzero_ps();                                              \
            for (int a = 0; a < O; a++) {                                                                      \
                __m512 ws = first_o + a < m ? _mm512_maskz_loadu_ps(mask, w + (size_t)(first_o + a) * ldw + j) \
                                            : _mm512_setzero_ps();                                             \
                for (int b = 0; b < X; b++) acc[a][b] = _mm512_fmadd_ps(ws, xs[b], acc[a][b]);                 \
            }                                                                                                  \
        }                                                                                                      \
        for (int a = 0; a < O && first_o + a < m; a++)                                                         \
            for (int b = 0; b < X && first_x + b < rows; b++)                                                  \
                y[(size_t)(first_x + b) * ldy + first_o + a] =                                                 \
                    (bias ? bias[first_o + a] : 0.0f) + _mm512_reduce_add_ps(acc[a][b]);                       \
    }

ROW_PRODUCTS(row_products_8x1, 8, 1)
ROW_PRODUCTS(row_products_4x4, 4, 4)

void crnn_row_products_avx512(int m, int k, const float *w, int ldw, const float *x, int rows, int ldx,
                              const float *bias, float *y, int ldy) {
    if (rows == 1) {
        for (int o = 0; o < m; o += 8) row_products_8x1(m, k, w, ldw, x, rows, ldx, bias, y, ldy, o, 0);
        return;
    }
    for (int r = 0; r < rows; r += 4)
        for (int o = 0; o < m; o += 4) row_products_4x4(m, k, w, ldw, x, rows, ldx, bias, y, ldy, o, r);
}

// MARK: - Transposition

void crnn_transpose_avx512(int rows, int columns, const float *source, int source_stride, float *target,
                           int target_stride) {
    // Each target row (a source column) 16 values at a time, gathered down the source rows.
    const __m512i lanes = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                             _mm512_set1_epi32(source_stride));
    for (int r = 0; r < rows; r += 16) {
        __mmask16 mask = first_lanes(rows - r);
        const float *block = source + (size_t)r * source_stride;
        for (int c = 0; c < columns; c++) {
            __m512 values = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), mask, lanes, block + c, 4);
            _mm512_mask_storeu_ps(target + (size_t)c * target_stride + r, mask, values);
        }
    }
}

// MARK: - GRU gates

/// e^x for 16 floats (Cephes' expf: n = round(x log2 e), a degree-6
/// polynomial of the remainder, times 2^n by VSCALEFPS), within a few ulp;
/// +inf above 88.7, 0 far below, NaN stays NaN.
static inline __m512 exp_ps(__m512 x) {
    // Clamped first (MINPS/MAXPS return their second operand, x, when x is NaN).
    x = _mm512_min_ps(_mm512_set1_ps(89.0f), _mm512_max_ps(_mm512_set1_ps(-104.0f), x));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_scalef_ps(p, n);
}

void crnn_gru_gates_avx512(int hidden, const float *input_gates, const float *hidden_gates, float *state,
                           float *output, int accumulate) {
    const __m512 one = _mm512_set1_ps(1.0f), two = _mm512_set1_ps(2.0f);
    for (int j = 0; j < hidden; j += 16) {
        __mmask16 mask = first_lanes(hidden - j);
        #define LOAD(base, offset) _mm512_maskz_loadu_ps(mask, (base) + (offset) + j)
        // r = sigmoid(x_r + h_r), z = sigmoid(x_z + h_z): 1 / (1 + e^-x).
        __m512 r = _mm512_div_ps(one, _mm512_add_ps(one, exp_ps(_mm512_sub_ps(_mm512_setzero_ps(),
            _mm512_add_ps(LOAD(input_gates, 0), LOAD(hidden_gates, 0))))));
        __m512 z = _mm512_div_ps(one, _mm512_add_ps(one, exp_ps(_mm512_sub_ps(_mm512_setzero_ps(),
            _mm512_add_ps(LOAD(input_gates, hidden), LOAD(hidden_gates, hidden))))));
        // n = tanh(x_n + r h_n) = 1 - 2 / (e^2x + 1).
        __m512 a = _mm512_add_ps(LOAD(input_gates, 2 * hidden), _mm512_mul_ps(r, LOAD(hidden_gates, 2 * hidden)));
        __m512 n = _mm512_sub_ps(one, _mm512_div_ps(two, _mm512_add_ps(exp_ps(_mm512_mul_ps(two, a)), one)));
        // h = n + z (h - n), as PyTorch computes (1 - z) n + z h.
        __m512 h = _mm512_fmadd_ps(z, _mm512_sub_ps(LOAD(state, 0), n), n);
        #undef LOAD
        _mm512_mask_storeu_ps(state + j, mask, h);
        if (accumulate) h = _mm512_add_ps(h, _mm512_maskz_loadu_ps(mask, output + j));
        _mm512_mask_storeu_ps(output + j, mask, h);
    }
}

// MARK: - Max pooling

/// The larger of a and b, NaN when either is NaN (PyTorch's max pooling).
static inline __m512 larger_or_nan(__m512 a, __m512 b) {
    // MAXPS gives its second operand when either is NaN: b's NaN comes
    // through, and a's is put back by the mask.
    return _mm512_mask_mov_ps(_mm512_max_ps(a, b), _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q), a);
}

static inline float larger_or_nan_scalar(float a, float b) {
    if (a != a) return a;
    return (b > a || b != b) ? b : a;
}

void crnn_max_pool_avx512(const float *input, int planes, int height, int width, int kernel, int stride,
                          int padding, int out_height, int out_width, int first_out_row, int end_out_row,
                          float *output, float *scratch) {
    const size_t count = crnn_max_pool_scratch_count(width, kernel, stride, padding, out_width);
    const int chunks = (out_width + 15) / 16;
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    // The column maxima of the window's rows, with `padding` -inf in front
    // and -inf after: output column ox's window is padded[stride * ox ... + kernel).
    float *padded = scratch, *columns = scratch + padding;
    for (size_t i = 0; i < count; i++) padded[i] = -__builtin_inff();
    for (int plane = 0; plane < planes; plane++) {
        const float *source = input + (size_t)plane * height * width;
        float *target = output + (size_t)plane * out_height * out_width;
        for (int oy = first_out_row; oy < end_out_row; oy++) {
            // padding <= kernel / 2: every window meets at least one real row.
            int y0 = oy * stride - padding, y1 = y0 + kernel;
            if (y0 < 0) y0 = 0;
            if (y1 > height) y1 = height;
            for (int x = 0; x < width; x += 16) {
                __mmask16 mask = first_lanes(width - x);
                __m512 best = _mm512_maskz_loadu_ps(mask, source + (size_t)y0 * width + x);
                for (int y = y0 + 1; y < y1; y++)
                    best = larger_or_nan(best, _mm512_maskz_loadu_ps(mask, source + (size_t)y * width + x));
                _mm512_mask_storeu_ps(columns + x, mask, best);
            }
            float *out = target + (size_t)oy * out_width;
            if (stride == 2) {
                for (int j = 0; j < chunks; j++) {
                    __m512 best = _mm512_set1_ps(-__builtin_inff());
                    for (int kx = 0; kx < kernel; kx++) {
                        const float *at = padded + 32 * j + kx;
                        __m512 a = _mm512_loadu_ps(at), b = _mm512_loadu_ps(at + 16);
                        best = larger_or_nan(best, _mm512_permutex2var_ps(a, even, b));
                    }
                    _mm512_mask_storeu_ps(out + 16 * j, first_lanes(out_width - 16 * j), best);
                }
            } else {
                for (int ox = 0; ox < out_width; ox++) {
                    float best = -__builtin_inff();
                    for (int kx = 0; kx < kernel; kx++) best = larger_or_nan_scalar(best, padded[(size_t)stride * ox + kx]);
                    out[ox] = best;
                }
            }
        }
    }
}

// MARK: - im2col

void crnn_im2col_avx512(const float *image, int height, int width, int first_channel, int end_channel,
                        int kernel_height, int kernel_width, int stride_y, int stride_x, int padding_y,
                        int padding_x, int out_height, int out_width, int first_position, int end_position,
                        float *col, int ldcol, float *scratch) {
    // Column 0 of `col` is output position first_position (= oy * out_width + ox).
    const size_t positions = (size_t)ldcol;
    const size_t row_count = crnn_im2col_scratch_count(width, kernel_width, stride_x, padding_x, out_width);
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    // The input row with padding_x zeros in front: output column ox of tap kx
    // reads padded[stride_x * ox + kx]. Only [padding_x, padding_x + width) is ever written.
    float *padded = scratch;
    memset(padded, 0, row_count * sizeof(float));
    (void)out_height;
    for (int c = first_channel; c < end_channel; c++) {
        const float *plane = image + (size_t)c * height * width;
        for (int ky = 0; ky < kernel_height; ky++) {
            float *rows = col + ((size_t)c * kernel_height + ky) * kernel_width * positions;
            // Row by row of output, each cut to the positions asked for.
            for (int position = first_position; position < end_position;) {
                const int oy = position / out_width, first_x = position % out_width;
                const int end_x = out_width < first_x + (end_position - position) ? out_width
                                                                                   : first_x + (end_position - position);
                const int count = end_x - first_x;
                const size_t column = (size_t)(position - first_position);
                position += count;
                int iy = oy * stride_y - padding_y + ky;
                if (iy < 0 || iy >= height) {
                    for (int kx = 0; kx < kernel_width; kx++)
                        memset(rows + kx * positions + column, 0, (size_t)count * sizeof(float));
                    continue;
                }
                memcpy(padded + padding_x, plane + (size_t)iy * width, (size_t)width * sizeof(float));
                for (int kx = 0; kx < kernel_width; kx++) {
                    float *out = rows + kx * positions + column;
                    const float *source = padded + kx + (size_t)stride_x * first_x;
                    if (stride_x == 1) {
                        memcpy(out, source, (size_t)count * sizeof(float));
                    } else if (stride_x == 2) {
                        for (int j = 0; 16 * j < count; j++) {
                            __m512 a = _mm512_loadu_ps(source + 32 * j), b = _mm512_loadu_ps(source + 32 * j + 16);
                            _mm512_mask_storeu_ps(out + 16 * j, first_lanes(count - 16 * j),
                                                  _mm512_permutex2var_ps(a, even, b));
                        }
                    } else {
                        for (int ox = 0; ox < count; ox++) out[ox] = source[(size_t)stride_x * ox];
                    }
                }
            }
        }
    }
}

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
            const int g = tile / tile_columns, first_x = tile % tile_columns;
            const int end_x = tile_columns < first_x + (end_tile - tile) ? tile_columns : first_x + (end_tile - tile);
            const int n = g / tile_rows, ty = g % tile_rows;
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
            const int g = tile / tile_columns, first_x = tile % tile_columns;
            const int end_x = tile_columns < first_x + (end_tile - tile) ? tile_columns : first_x + (end_tile - tile);
            const int n = g / tile_rows, ty = g % tile_rows;
            const size_t plane = ((size_t)n * out_channels + k) * height * width;
            // The tile first_x of this row is column (tile - first_tile) of the matrices.
            const float *base = m + (size_t)k * tiles + (size_t)(tile - first_tile);
            tile += end_x - first_x;
            {
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
}

#pragma clang attribute pop

#else

// Not x86-64: never called (the Swift side runs its portable loops).
void crnn_packed_product_avx512(int m, int n, int k, const float *packed, const float *b, int ldb, float *c,
                                int ldc) {}
void crnn_packed_product_epilogue_avx512(int m, int n, int k, const float *packed, const float *b, int ldb,
                                         float *c, int ldc, const float *bias, const float *residual, int relu) {}
void crnn_im2col_avx512(const float *image, int height, int width, int first_channel, int end_channel,
                        int kernel_height, int kernel_width, int stride_y, int stride_x, int padding_y,
                        int padding_x, int out_height, int out_width, int first_position, int end_position,
                        float *col, int ldcol, float *scratch) {}
void crnn_row_products_avx512(int m, int k, const float *w, int ldw, const float *x, int rows, int ldx,
                              const float *bias, float *y, int ldy) {}
void crnn_max_pool_avx512(const float *input, int planes, int height, int width, int kernel, int stride,
                          int padding, int out_height, int out_width, int first_out_row, int end_out_row,
                          float *output, float *scratch) {}
void crnn_gru_gates_avx512(int hidden, const float *input_gates, const float *hidden_gates, float *state,
                           float *output, int accumulate) {}
void crnn_transpose_avx512(int rows, int columns, const float *source, int source_stride, float *target,
                           int target_stride) {}
void crnn_winograd_input_avx512(const float *input, int batch, int channels, int height, int width,
                                int first_channel, int end_channel, int first_tile, int end_tile,
                                float *transformed, int tile_stride) {}
void crnn_winograd_output_avx512(const float *m, int batch, int out_channels, int height, int width,
                                 int first_channel, int end_channel, int first_tile, int end_tile,
                                 int tile_stride, const float *bias, const float *residual, int relu,
                                 float *output) {}

#endif
