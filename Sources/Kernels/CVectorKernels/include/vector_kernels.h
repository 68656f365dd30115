// The inner loops of the convolutions written with AVX-512 intrinsics, for
// CPUs that have AVX-512F (the Swift side checks before calling; see
// Kernels/VectorUnit.swift). On other CPUs, and on other architectures where
// these functions are empty stubs, the Kernels module runs its portable
// Swift loops and OpenBLAS instead.
//
// Layouts are those of Kernels/WinogradConvolution.swift: NCHW feature maps;
// Winograd F(2x2, 3x3) tiles of 4x4 inputs / 2x2 outputs; 16 matrices, one
// per tile position xi = 4 * row + column, each [channels, tiles] with tile
// index (n * tileRows + ty) * tileColumns + tx.
#ifndef CRNN_VECTOR_KERNELS_H
#define CRNN_VECTOR_KERNELS_H

#include <stddef.h>

/// Vector features, as bits of crnn_cpu_features(): each set only when the
/// CPU has it and the operating system saves the registers it needs.
enum {
    CRNN_CPU_AVX = 1 << 0,
    CRNN_CPU_FMA = 1 << 1,
    CRNN_CPU_AVX2 = 1 << 2,
    CRNN_CPU_AVX512F = 1 << 3,
    CRNN_CPU_AVX512DQ = 1 << 4,
    CRNN_CPU_AVX512CD = 1 << 5,
    CRNN_CPU_AVX512BW = 1 << 6,
    CRNN_CPU_AVX512VL = 1 << 7,
};

/// This CPU's vector features (CPUID and XGETBV on x86-64; 0 elsewhere).
unsigned crnn_cpu_features(void);

/// Rows per panel of a packed matrix (see crnn_pack_rows).
#define CRNN_PANEL_ROWS 8

/// Floats crnn_pack_rows writes for an m x k matrix: m rounded up to whole
/// panels, times k.
size_t crnn_packed_count(int m, int k);

/// Packs the row-major m x k matrix `a` (row stride lda) into panels of
/// CRNN_PANEL_ROWS rows: panel p holds, for each column j in order, the
/// values of rows 8p ... 8p+7 at j (zeros past row m). Portable C.
void crnn_pack_rows(const float *a, int lda, int m, int k, float *packed);

/// c = A * b, where A is the m x k matrix packed by crnn_pack_rows, b is
/// row-major k x n (row stride ldb) and c row-major m x n (row stride ldc).
/// c is overwritten. AVX-512F only.
void crnn_packed_product_avx512(int m, int n, int k, const float *packed, const float *b, int ldb, float *c,
                                int ldc);

/// The same product, then per value of c: plus bias[row] (bias may be
/// NULL), plus `residual` (laid out as c, or NULL), then ReLU when `relu`
/// is non-zero (NaN stays NaN). AVX-512F only.
void crnn_packed_product_epilogue_avx512(int m, int n, int k, const float *packed, const float *b, int ldb,
                                         float *c, int ldc, const float *bias, const float *residual, int relu);

/// y[r * ldy + o] = bias[o] + sum over j of w[o * ldw + j] * x[r * ldx + j],
/// for rows r < `rows` of x and rows o < m of the row-major w (k columns):
/// products with a few rows of x (a GRU's hidden state), where packing w
/// would cost more than the product. bias may be NULL. AVX-512F only.
void crnn_row_products_avx512(int m, int k, const float *w, int ldw, const float *x, int rows, int ldx,
                              const float *bias, float *y, int ldy);

/// target[c * target_stride + r] = source[r * source_stride + c] for r < rows,
/// c < columns (source_stride * rows must fit an int). AVX-512F only.
void crnn_transpose_avx512(int rows, int columns, const float *source, int source_stride, float *target,
                           int target_stride);

/// One GRU step for one sequence, PyTorch's gate equations: with the input
/// gates x (3 * hidden: r, z, n blocks, input bias included) and hidden
/// gates h (the same, W_hh h + b_hh), r = sigmoid(x_r + h_r), z =
/// sigmoid(x_z + h_z), n = tanh(x_n + r h_n), state = n + z (state - n);
/// the new state is written to `state` and to `output` (added to it when
/// `accumulate`). AVX-512F only.
void crnn_gru_gates_avx512(int hidden, const float *input_gates, const float *hidden_gates, float *state,
                           float *output, int accumulate);

/// Floats of scratch crnn_max_pool_avx512 needs.
size_t crnn_max_pool_scratch_count(int width, int kernel, int stride, int padding, int out_width);

/// PyTorch's MaxPool2d (square window, no dilation, floor mode; padding
/// counts as -inf, a NaN in a window gives NaN) over `planes` planes of
/// height x width, for output rows [first_out_row, end_out_row) of every
/// plane. `scratch` holds crnn_max_pool_scratch_count(...) floats.
/// AVX-512F only.
void crnn_max_pool_avx512(const float *input, int planes, int height, int width, int kernel, int stride,
                          int padding, int out_height, int out_width, int first_out_row, int end_out_row,
                          float *output, float *scratch);

/// Floats of scratch crnn_im2col_avx512 needs (one zero-padded input row).
size_t crnn_im2col_scratch_count(int width, int kernel_width, int stride_x, int padding_x, int out_width);

/// Writes the rows of channels [first_channel, end_channel) of one image's
/// im2col matrix [channels * kh * kw, out_height * out_width] to `col` (row
/// (c * kh + ky) * kw + kx holds, per output position, the input value the
/// tap (ky, kx) of channel c meets there, 0 in the padding), for the output
/// positions (oy * out_width + ox) in [first_position, end_position) only:
/// column 0 of `col` (row stride ldcol) is first_position. From the image
/// `image` (channels x height x width). `scratch` holds
/// crnn_im2col_scratch_count(...) floats. AVX-512F only.
void crnn_im2col_avx512(const float *image, int height, int width, int first_channel, int end_channel,
                        int kernel_height, int kernel_width, int stride_y, int stride_x, int padding_y,
                        int padding_x, int out_height, int out_width, int first_position, int end_position,
                        float *col, int ldcol, float *scratch);

/// V = B^T d B for the 4x4 tiles d of the NCHW `input` (batch x channels x
/// height x width, padding 1) numbered [first_tile, end_tile) (tile
/// (n * tile_rows + ty) * tile_columns + tx) and the input channels
/// [first_channel, end_channel), written to the 16 matrices of `transformed`
/// (channels x tile_stride each; column 0 is first_tile). AVX-512F only.
void crnn_winograd_input_avx512(const float *input, int batch, int channels, int height, int width,
                                int first_channel, int end_channel, int first_tile, int end_tile,
                                float *transformed, int tile_stride);

/// Y = A^T m A for the tiles [first_tile, end_tile) of the products `m` (16
/// matrices of out_channels x tile_stride, laid out as `transformed` above)
/// and the output channels [first_channel, end_channel), plus `bias[k]`,
/// plus `residual` (NCHW like the output, or NULL), then ReLU when `relu` is
/// non-zero (NaN stays NaN, as in PyTorch), into the NCHW `output` (batch x
/// out_channels x height x width). AVX-512F only.
void crnn_winograd_output_avx512(const float *m, int batch, int out_channels, int height, int width,
                                 int first_channel, int end_channel, int first_tile, int end_tile,
                                 int tile_stride, const float *bias, const float *residual, int relu,
                                 float *output);

#endif
