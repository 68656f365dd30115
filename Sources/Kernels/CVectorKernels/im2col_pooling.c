// Max pooling and im2col.
// AVX-512F only: see vector_kernels.h for the contracts.
#if defined(__x86_64__)
#include "avx512_common.h"
#include <string.h>

#pragma clang attribute push(CRNN_AVX512_TARGET, apply_to = function)

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
                const row_piece piece = row_piece_at(position, end_position, out_width);
                const int oy = piece.row, first_x = piece.first, count = piece.end - piece.first;
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

#pragma clang attribute pop

#endif
