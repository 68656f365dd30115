// Every kernel of a vector unit, written once in the vector operations of
// the ISA header included before this one (isa_avx512.h or isa_avx2.h), and
// the unit's table of them. Included by kernels_avx512.c and kernels_avx2.c
// only, so each function is compiled once per instruction set.
#ifndef CRNN_ISA_H
#error "include an ISA header (isa_avx512.h or isa_avx2.h) first"
#endif

#pragma clang attribute push(CRNN_TARGET, apply_to = function)

#include "products_body.h"  // first: finish_output serves the Winograd output pass too
#include "gru_body.h"
#include "im2col_pooling_body.h"
#include "winograd_body.h"

/// CRNN_FMA_PEAK_CHAINS accumulators, each updated by one FMA per round (see
/// vector_kernels.h): the loop body is FMAs and a counter only.
static float crnn_fma_peak(long iterations) {
    vfloat a = v_set1(0.999f), b = v_set1(1e-7f);
    vfloat c0 = v_set1(0.0f), c1 = v_set1(0.1f), c2 = v_set1(0.2f), c3 = v_set1(0.3f);
    vfloat c4 = v_set1(0.4f), c5 = v_set1(0.5f), c6 = v_set1(0.6f), c7 = v_set1(0.7f);
    vfloat c8 = v_set1(0.8f), c9 = v_set1(0.9f), c10 = v_set1(1.0f), c11 = v_set1(1.1f);
    for (long i = 0; i < iterations; i++) {
        c0 = v_fma(c0, a, b); c1 = v_fma(c1, a, b); c2 = v_fma(c2, a, b); c3 = v_fma(c3, a, b);
        c4 = v_fma(c4, a, b); c5 = v_fma(c5, a, b); c6 = v_fma(c6, a, b); c7 = v_fma(c7, a, b);
        c8 = v_fma(c8, a, b); c9 = v_fma(c9, a, b); c10 = v_fma(c10, a, b); c11 = v_fma(c11, a, b);
    }
    vfloat sum = v_add(v_add(v_add(c0, c1), v_add(c2, c3)), v_add(v_add(c4, c5), v_add(c6, c7)));
    return v_reduce_add(v_add(sum, v_add(v_add(c8, c9), v_add(c10, c11))));
}

/// Four vectors' sums of values[i .. end), four vectors at a time (see read_sum).
#define READ_RUN(i, end)                                                                                         \
    for (long at = (i); at < (end); at += 4 * LANES) {                                                           \
        a = v_add(a, v_load(values + at));                                                                       \
        b = v_add(b, v_load(values + at + LANES));                                                               \
        c = v_add(c, v_load(values + at + 2 * LANES));                                                           \
        d = v_add(d, v_load(values + at + 3 * LANES));                                                           \
    }

/// `passes` passes over the `count` floats at `values` (see vector_kernels.h),
/// into four independent sums so that the loop waits on memory only.
static float crnn_read_sum(const float *values, long count, long first, long passes) {
    vfloat a = v_zero(), b = v_zero(), c = v_zero(), d = v_zero();
    for (long pass = 0; pass < passes; pass++) {
        long start = (first + CRNN_READ_SHIFT * pass) % count;
        start -= start % 64;
        READ_RUN(start, count)
        READ_RUN(0, start)
    }
    return v_reduce_add(v_add(v_add(a, b), v_add(c, d)));
}
#undef READ_RUN

const crnn_vector_kernels *CRNN_KERNELS_GETTER(void) {
    static const crnn_vector_kernels kernels = {
        .packed_product = crnn_packed_product,
        .packed_product_epilogue = crnn_packed_product_epilogue,
        .row_products = crnn_row_products,
        .transpose = crnn_transpose,
        .gru_gates = crnn_gru_gates,
        .max_pool = crnn_max_pool,
        .im2col = crnn_im2col,
        .winograd_input = crnn_winograd_input,
        .winograd_output = crnn_winograd_output,
        .winograd4_input = crnn_winograd4_input,
        .winograd4_output = crnn_winograd4_output,
        .fma_peak = crnn_fma_peak,
        .read_sum = crnn_read_sum,
        .lanes = LANES,
    };
    return &kernels;
}

#pragma clang attribute pop
