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
    };
    return &kernels;
}

#pragma clang attribute pop
