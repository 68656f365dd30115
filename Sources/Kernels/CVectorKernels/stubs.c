// Not x86-64: the AVX-512 kernels do not exist. These empty definitions
// only satisfy the linker; they are never called (VectorUnit.avx512 is
// unavailable there, so the portable Swift loops run).
#include "vector_kernels.h"

#if !defined(__x86_64__)

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
