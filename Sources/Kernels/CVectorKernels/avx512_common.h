// Shared by the AVX-512 kernel files: the target attribute every function
// in them is compiled with, and two small helpers. Internal to
// CVectorKernels (not in include/).
#ifndef CRNN_AVX512_COMMON_H
#define CRNN_AVX512_COMMON_H

#include <immintrin.h>
#include <stddef.h>

#include "vector_kernels.h"

// Each kernel file wraps its functions in
//   #pragma clang attribute push(CRNN_AVX512_TARGET, apply_to = function)
//   ... #pragma clang attribute pop
// so they are compiled for AVX-512F whatever the build's target CPU;
// callers check the CPU first (Kernels/VectorUnit.swift).
#define CRNN_AVX512_TARGET __attribute__((target("avx512f,fma")))

/// The piece of one row that a run [index, end) of row-major positions
/// (rows of `row_length`) covers from `index` on: columns [first, end) of row
/// `row`. The kernels that take runs of tiles or positions walk them row by
/// row: index += piece.end - piece.first.
typedef struct {
    int row, first, end;
} row_piece;

static inline row_piece row_piece_at(int index, int end, int row_length) {
    row_piece piece = {index / row_length, index % row_length, 0};
    piece.end = row_length < piece.first + (end - index) ? row_length : piece.first + (end - index);
    return piece;
}

/// A mask of the first `count` lanes (all 16 when count >= 16, none when <= 0).
static inline CRNN_AVX512_TARGET __mmask16 first_lanes(int count) {
    count = count < 0 ? 0 : count > 16 ? 16 : count;  // branch-free (conditional moves)
    return (__mmask16)((1u << count) - 1);
}

/// Adds the residual (lanes of `mask`), applies ReLU and stores the lanes of `mask` at `out`.
static inline CRNN_AVX512_TARGET void finish_output(__m512 value, __mmask16 mask, const float *residual, int relu, float *out) {
    if (residual) value = _mm512_add_ps(value, _mm512_maskz_loadu_ps(mask, residual));
    // max(0, NaN) is the second operand, NaN, as PyTorch's relu gives.
    if (relu) value = _mm512_max_ps(_mm512_setzero_ps(), value);
    _mm512_mask_storeu_ps(out, mask, value);
}

#endif
