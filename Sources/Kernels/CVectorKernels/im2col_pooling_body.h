// Max pooling and im2col. Written in the operations of isa_avx512.h /
// isa_avx2.h; included by kernels_avx512.c and kernels_avx2.c (see
// vector_kernels.h for the contracts).
#include <string.h>

// MARK: - Max pooling

static inline float larger_or_nan_scalar(float a, float b) {
    if (a != a) return a;
    return (b > a || b != b) ? b : a;
}

static void crnn_max_pool(const float *input, int planes, int height, int width, int kernel, int stride,
                          int padding, int out_height, int out_width, int first_out_row, int end_out_row,
                          float *output, float *scratch) {
    const size_t count = crnn_max_pool_scratch_count(width, kernel, stride, padding, out_width);
    const int chunks = (out_width + LANES - 1) / LANES;
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
            for (int x = 0; x < width; x += LANES) {
                vmask mask = v_first(width - x);
                vfloat best = v_load_masked(mask, source + (size_t)y0 * width + x);
                for (int y = y0 + 1; y < y1; y++)
                    best = v_larger_or_nan(best, v_load_masked(mask, source + (size_t)y * width + x));
                v_store_masked(columns + x, mask, best);
            }
            float *out = target + (size_t)oy * out_width;
            if (stride == 2) {
                for (int j = 0; j < chunks; j++) {
                    vfloat best = v_set1(-__builtin_inff());
                    for (int kx = 0; kx < kernel; kx++) {
                        const float *at = padded + 2 * LANES * j + kx;
                        best = v_larger_or_nan(best, v_even(v_load(at), v_load(at + LANES)));
                    }
                    v_store_masked(out + LANES * j, v_first(out_width - LANES * j), best);
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

static void crnn_im2col(const float *image, int height, int width, int first_channel, int end_channel,
                        int kernel_height, int kernel_width, int stride_y, int stride_x, int padding_y,
                        int padding_x, int out_height, int out_width, int first_position, int end_position,
                        float *col, int ldcol, float *scratch) {
    // Column 0 of `col` is output position first_position (= oy * out_width + ox).
    const size_t positions = (size_t)ldcol;
    const size_t row_count = crnn_im2col_scratch_count(width, kernel_width, stride_x, padding_x, out_width);
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
                        for (int j = 0; LANES * j < count; j++) {
                            const float *at = source + 2 * LANES * j;
                            v_store_masked(out + LANES * j, v_first(count - LANES * j),
                                           v_even(v_load(at), v_load(at + LANES)));
                        }
                    } else {
                        for (int ox = 0; ox < count; ox++) out[ox] = source[(size_t)stride_x * ox];
                    }
                }
            }
        }
    }
}
