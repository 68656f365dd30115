// Not x86-64: neither vector unit exists. These tables of empty functions
// only satisfy the linker; they are never called (VectorUnit.avx512 and
// .avx2 are unavailable there, so the portable Swift loops run).
#include "vector_kernels.h"

#if !defined(__x86_64__)

static void packed_product(int m, int n, int k, const float *packed, const float *b, int ldb, float *c, int ldc) {}
static void packed_product_epilogue(int m, int n, int k, const float *packed, const float *b, int ldb, float *c,
                                    int ldc, const float *bias, const float *residual, int relu) {}
static void row_products(int m, int k, const float *w, int ldw, const float *x, int rows, int ldx,
                         const float *bias, float *y, int ldy) {}
static void transpose(int rows, int columns, const float *source, int source_stride, float *target,
                      int target_stride) {}
static void gru_gates(int hidden, const float *input_gates, const float *hidden_gates, float *state, float *output,
                      int accumulate) {}
static void max_pool(const float *input, int planes, int height, int width, int kernel, int stride, int padding,
                     int out_height, int out_width, int first_out_row, int end_out_row, float *output,
                     float *scratch) {}
static void im2col(const float *image, int height, int width, int first_channel, int end_channel, int kernel_height,
                   int kernel_width, int stride_y, int stride_x, int padding_y, int padding_x, int out_height,
                   int out_width, int first_position, int end_position, float *col, int ldcol, float *scratch) {}
static void winograd_input(const float *input, int batch, int channels, int height, int width, int first_channel,
                           int end_channel, int first_tile, int end_tile, float *transformed, int tile_stride,
                           size_t matrix_stride) {}
static void winograd_output(const float *m, int batch, int out_channels, int height, int width, int first_channel,
                            int end_channel, int first_tile, int end_tile, int tile_stride, size_t matrix_stride,
                            const float *bias, const float *residual, int relu, float *output) {}

static float fma_peak(long iterations) { return 0; }
static float read_sum(const float *values, long count, long first, long passes) { return 0; }

static const crnn_vector_kernels stubs = {
    packed_product, packed_product_epilogue, row_products, transpose, gru_gates,
    max_pool, im2col, winograd_input, winograd_output, winograd_input, winograd_output, fma_peak, read_sum, 1,
};

const crnn_vector_kernels *crnn_vector_kernels_avx512(void) { return &stubs; }
const crnn_vector_kernels *crnn_vector_kernels_avx2(void) { return &stubs; }

#endif
