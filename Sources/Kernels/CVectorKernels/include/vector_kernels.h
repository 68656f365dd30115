// The inner loops of the convolutions, the GRU and the linear layers,
// written once in vector operations and compiled twice: with AVX-512F (16
// lanes) and with AVX2 + FMA (8 lanes), for CPUs that have them (the Swift
// side checks before calling; see Kernels/VectorUnit.swift). Each unit's
// functions are reached through its table, crnn_vector_kernels_avx512() or
// crnn_vector_kernels_avx2(). On other CPUs, and on other architectures
// (where the tables hold empty stubs), the Kernels module runs its portable
// Swift loops and OpenBLAS instead.
//
// Layouts are those of Kernels/WinogradConvolution.swift: NCHW feature maps;
// Winograd F(2x2, 3x3) tiles of 4x4 inputs / 2x2 outputs, 16 matrices, one
// per tile position xi = 4 * row + column (F(4x4, 3x3): 6x6 inputs / 4x4
// outputs, 36 matrices, xi = 6 * row + column), each [channels, tiles] with
// tile index (n * tileRows + ty) * tileColumns + tx.
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

// Data pointers may be NULL where a comment says so, and Swift passes
// optional addresses; every function pointer of a table is set.
#pragma clang assume_nonnull begin

/// Rows per panel of a packed matrix (see crnn_pack_rows): one AVX-512
/// vector, so that a product with few columns can run vectorised over rows
/// (one vector load per panel per step of k).
#define CRNN_PANEL_ROWS 16

/// Floats crnn_pack_rows writes for an m x k matrix: m rounded up to whole
/// panels, times k.
size_t crnn_packed_count(int m, int k);

/// Packs the row-major m x k matrix `a` (row stride lda) into panels of
/// CRNN_PANEL_ROWS rows: panel p holds, for each column j in order, the
/// values of rows 16p ... 16p+15 at j (zeros past row m). Portable C.
void crnn_pack_rows(const float *_Nullable a, int lda, int m, int k, float *_Nullable packed);

/// Floats of scratch a unit's max_pool needs (enough for either unit).
size_t crnn_max_pool_scratch_count(int width, int kernel, int stride, int padding, int out_width);

/// Floats of scratch a unit's im2col needs (one zero-padded input row;
/// enough for either unit).
size_t crnn_im2col_scratch_count(int width, int kernel_width, int stride_x, int padding_x, int out_width);

/// One vector unit's kernels, each with the same contract on both units.
/// The packed products (one FMA per term, in order, per output), the
/// transforms, im2col, pooling and the gates do the same float operations
/// in the same order on both; the row products sum in partial sums one
/// vector wide (16 or 8 lanes), so they round differently between units.
typedef struct {
    /// c = A * b, where A is the m x k matrix packed by crnn_pack_rows, b is
    /// row-major k x n (row stride ldb) and c row-major m x n (row stride ldc).
    /// c is overwritten.
    void (*_Nonnull packed_product)(int m, int n, int k, const float *_Nullable packed, const float *_Nullable b,
                                    int ldb, float *_Nullable c, int ldc);

    /// The same product, then per value of c: plus bias[row] (bias may be
    /// NULL), plus `residual` (laid out as c, or NULL), then ReLU when `relu`
    /// is non-zero (NaN stays NaN).
    void (*_Nonnull packed_product_epilogue)(int m, int n, int k, const float *_Nullable packed,
                                             const float *_Nullable b, int ldb, float *_Nullable c, int ldc,
                                             const float *_Nullable bias, const float *_Nullable residual,
                                             int relu);

    /// y[r * ldy + o] = bias[o] + sum over j of w[o * ldw + j] * x[r * ldx + j],
    /// for rows r < `rows` of x and rows o < m of the row-major w (k columns):
    /// products with a few rows of x (a GRU's hidden state), where packing w
    /// would cost more than the product. bias may be NULL.
    void (*_Nonnull row_products)(int m, int k, const float *_Nullable w, int ldw, const float *_Nullable x,
                                  int rows, int ldx, const float *_Nullable bias, float *_Nullable y, int ldy);

    /// target[c * target_stride + r] = source[r * source_stride + c] for r < rows,
    /// c < columns (source_stride * rows must fit an int).
    void (*_Nonnull transpose)(int rows, int columns, const float *_Nullable source, int source_stride,
                               float *_Nullable target, int target_stride);

    /// One GRU step for one sequence, PyTorch's gate equations: with the input
    /// gates x (3 * hidden: r, z, n blocks, input bias included) and hidden
    /// gates h (the same, W_hh h + b_hh), r = sigmoid(x_r + h_r), z =
    /// sigmoid(x_z + h_z), n = tanh(x_n + r h_n), state = n + z (state - n);
    /// the new state is written to `state` and to `output` (added to it when
    /// `accumulate`).
    void (*_Nonnull gru_gates)(int hidden, const float *_Nullable input_gates, const float *_Nullable hidden_gates,
                               float *_Nullable state, float *_Nullable output, int accumulate);

    /// PyTorch's MaxPool2d (square window, no dilation, floor mode; padding
    /// counts as -inf, a NaN in a window gives NaN) over `planes` planes of
    /// height x width, for output rows [first_out_row, end_out_row) of every
    /// plane. `scratch` holds crnn_max_pool_scratch_count(...) floats.
    void (*_Nonnull max_pool)(const float *_Nullable input, int planes, int height, int width, int kernel,
                              int stride, int padding, int out_height, int out_width, int first_out_row,
                              int end_out_row, float *_Nullable output, float *_Nullable scratch);

    /// Writes the rows of channels [first_channel, end_channel) of one image's
    /// im2col matrix [channels * kh * kw, out_height * out_width] to `col` (row
    /// (c * kh + ky) * kw + kx holds, per output position, the input value the
    /// tap (ky, kx) of channel c meets there, 0 in the padding), for the output
    /// positions (oy * out_width + ox) in [first_position, end_position) only:
    /// column 0 of `col` (row stride ldcol) is first_position. From the image
    /// `image` (channels x height x width). `scratch` holds
    /// crnn_im2col_scratch_count(...) floats.
    void (*_Nonnull im2col)(const float *_Nullable image, int height, int width, int first_channel, int end_channel,
                            int kernel_height, int kernel_width, int stride_y, int stride_x, int padding_y,
                            int padding_x, int out_height, int out_width, int first_position, int end_position,
                            float *_Nullable col, int ldcol, float *_Nullable scratch);

    /// V = B^T d B for the 4x4 tiles d of the NCHW `input` (batch x channels x
    /// height x width, padding 1) numbered [first_tile, end_tile) (tile
    /// (n * tile_rows + ty) * tile_columns + tx) and the input channels
    /// [first_channel, end_channel), written to the 16 matrices of `transformed`
    /// (channels rows of tile_stride floats each, column 0 being first_tile;
    /// matrix_stride floats from one matrix to the next, at least channels x
    /// tile_stride).
    void (*_Nonnull winograd_input)(const float *_Nullable input, int batch, int channels, int height, int width,
                                    int first_channel, int end_channel, int first_tile, int end_tile,
                                    float *_Nullable transformed, int tile_stride, size_t matrix_stride);

    /// Y = A^T m A for the tiles [first_tile, end_tile) of the products `m` (16
    /// matrices of out_channels rows of tile_stride, matrix_stride floats apart,
    /// laid out as `transformed` above)
    /// and the output channels [first_channel, end_channel), plus `bias[k]`,
    /// plus `residual` (NCHW like the output, or NULL), then ReLU when `relu` is
    /// non-zero (NaN stays NaN, as in PyTorch), into the NCHW `output` (batch x
    /// out_channels x height x width).
    void (*_Nonnull winograd_output)(const float *_Nullable m, int batch, int out_channels, int height, int width,
                                     int first_channel, int end_channel, int first_tile, int end_tile,
                                     int tile_stride, size_t matrix_stride, const float *_Nullable bias,
                                     const float *_Nullable residual, int relu, float *_Nullable output);

    /// winograd_input for Winograd F(4x4, 3x3): V = B^T d B for the 6x6 tiles d
    /// (tile rows of 4 output rows, tile columns of 4 output columns, tiles
    /// numbered as above), written to 36 matrices (xi = 6 * row + column).
    void (*_Nonnull winograd4_input)(const float *_Nullable input, int batch, int channels, int height, int width,
                                     int first_channel, int end_channel, int first_tile, int end_tile,
                                     float *_Nullable transformed, int tile_stride, size_t matrix_stride);

    /// winograd_output for Winograd F(4x4, 3x3): Y = A^T m A from 36 matrices,
    /// 4x4 outputs per tile, with the same bias, residual and ReLU.
    void (*_Nonnull winograd4_output)(const float *_Nullable m, int batch, int out_channels, int height, int width,
                                      int first_channel, int end_channel, int first_tile, int end_tile,
                                      int tile_stride, size_t matrix_stride, const float *_Nullable bias,
                                      const float *_Nullable residual, int relu, float *_Nullable output);

    /// The unit's arithmetic limit, for the benchmark: `iterations` rounds of
    /// CRNN_FMA_PEAK_CHAINS independent fused multiply-adds on registers only (no
    /// memory traffic), each round CRNN_FMA_PEAK_CHAINS * lanes multiply-adds.
    /// Returns a value derived from every chain so none is optimised away.
    float (*_Nonnull fma_peak)(long iterations);
    /// The machine's read rate, for the benchmark: `passes` passes over the
    /// `count` floats at `values` (count a positive multiple of 64: whole
    /// 256-byte blocks), pass p starting at float
    /// (first + CRNN_READ_SHIFT * p) % count rounded down to a multiple of
    /// 64 and wrapping round to it, so that no two passes are alike. Returns
    /// the sum of every value read.
    float (*_Nonnull read_sum)(const float *_Nonnull values, long count, long first, long passes);
    /// The float lanes of this unit's vectors (16 for AVX-512F, 8 for AVX2).
    int lanes;
} crnn_vector_kernels;

/// The independent multiply-add chains `fma_peak` keeps in flight: enough to
/// cover an FMA's latency (4 cycles) on two FMA ports one and a half times
/// over, and few enough that the chains and the two operands fit AVX2's 16
/// registers (16 chains did not: the loop spilled and measured AVX2's peak
/// at 52-67 GFLOP/s on a core whose AVX2 products ran at 65).
#define CRNN_FMA_PEAK_CHAINS 12

/// Floats from one pass's starting point of `read_sum` to the next's: 17
/// blocks of 256 bytes.
#define CRNN_READ_SHIFT (17 * 64)

/// The AVX-512F kernels: call them only where the CPU has AVX-512F.
const crnn_vector_kernels *_Nonnull crnn_vector_kernels_avx512(void);

/// The AVX2 + FMA kernels: call them only where the CPU has AVX2 and FMA.
const crnn_vector_kernels *_Nonnull crnn_vector_kernels_avx2(void);

#pragma clang assume_nonnull end

#endif
