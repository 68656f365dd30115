#include "vector_kernels.h"

size_t crnn_packed_count(int m, int k) {
    size_t panels = ((size_t)m + CRNN_PANEL_ROWS - 1) / CRNN_PANEL_ROWS;
    return panels * CRNN_PANEL_ROWS * (size_t)k;
}

void crnn_pack_rows(const float *a, int lda, int m, int k, float *packed) {
    int panels = (m + CRNN_PANEL_ROWS - 1) / CRNN_PANEL_ROWS;
    for (int p = 0; p < panels; p++) {
        float *panel = packed + (size_t)p * k * CRNN_PANEL_ROWS;
        for (int r = 0; r < CRNN_PANEL_ROWS; r++) {
            int row = p * CRNN_PANEL_ROWS + r;
            const float *source = a + (size_t)row * lda;
            for (int j = 0; j < k; j++) panel[(size_t)j * CRNN_PANEL_ROWS + r] = row < m ? source[j] : 0.0f;
        }
    }
}

size_t crnn_im2col_scratch_count(int width, int kernel_width, int stride_x, int padding_x, int out_width) {
    // The padded row, and room for the last 16-column chunk's reads (two
    // vectors from stride_x * 16 * chunk + kx) past it (8-column chunks, on
    // AVX2, read no further).
    size_t chunks = ((size_t)out_width + 15) / 16;
    size_t padded = (size_t)width + 2 * (size_t)padding_x;
    size_t reads = (size_t)stride_x * 16 * chunks + (size_t)kernel_width + 32;
    return padded > reads ? padded : reads;
}

size_t crnn_max_pool_scratch_count(int width, int kernel, int stride, int padding, int out_width) {
    // The padded row of column maxima (written 16 at a time on AVX-512, 8 on
    // AVX2: rounded up to 16 serves both), and room for the last 16-column
    // chunk's two-vector reads past it (8-column chunks read no further).
    size_t chunks = ((size_t)out_width + 15) / 16;
    size_t padded = (size_t)padding + ((size_t)width + 15) / 16 * 16 + (size_t)padding;
    size_t reads = (size_t)stride * 16 * chunks + (size_t)kernel + 32;
    return padded > reads ? padded : reads;
}
