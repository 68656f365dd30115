// Matrix products: with weights packed at load, with a few rows, and transpositions.
// AVX-512F only: see vector_kernels.h for the contracts.
#if defined(__x86_64__)
#include "avx512_common.h"

#pragma clang attribute push(CRNN_AVX512_TARGET, apply_to = function)

// MARK: - Packed product

/// What happens to each value of the product before it is stored.
typedef struct {
    const float *bias;      // per row of c, or NULL
    const float *residual;  // laid out as c (same ldc), or NULL
    int relu;
} epilogue;

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

#pragma clang attribute pop

#endif
