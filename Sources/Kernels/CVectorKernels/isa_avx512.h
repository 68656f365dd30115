// The vector operations the kernel bodies (*_body.h) are written in, for
// AVX-512F: 16 float lanes, mask registers for partial vectors. Included
// once, by kernels_avx512.c; isa_avx2.h defines the same names for AVX2.
// Internal to CVectorKernels (not in include/).
#ifndef CRNN_ISA_H
#define CRNN_ISA_H

#include <immintrin.h>

#include "kernel_common.h"

// Every function of the translation unit is compiled for AVX-512F whatever
// the build's target CPU (kernels_avx512.c wraps the bodies in
// `#pragma clang attribute push(CRNN_TARGET, apply_to = function)`);
// callers check the CPU first (Kernels/VectorUnit.swift).
#define CRNN_TARGET __attribute__((target("avx512f,fma")))

/// The table of kernels this unit exports (vector_kernels.h).
#define CRNN_KERNELS_GETTER crnn_vector_kernels_avx512

/// Whether the kernels should prefer plain loads where every lane is wanted
/// (a masked load costs what a plain one does).
#define CRNN_MASKED_LOADS_COST 0

/// Float lanes per vector.
#define LANES 16

typedef __m512 vfloat;
typedef __mmask16 vmask;
typedef __m512i vint;

#pragma clang attribute push(CRNN_TARGET, apply_to = function)

/// A mask of the first `count` lanes (all when count >= LANES, none when <= 0).
static inline vmask v_first(int count) {
    count = count < 0 ? 0 : count > 16 ? 16 : count;  // branch-free (conditional moves)
    return (vmask)((1u << count) - 1);
}
static inline vmask v_all(void) { return (vmask)0xFFFF; }
static inline vmask v_none(void) { return (vmask)0; }
static inline vmask v_mask_and(vmask a, vmask b) { return (vmask)(a & b); }
/// The lanes of `a` that are not in `b`.
static inline vmask v_mask_andnot(vmask a, vmask b) { return (vmask)(a & ~b); }

static inline vfloat v_zero(void) { return _mm512_setzero_ps(); }
static inline vfloat v_set1(float value) { return _mm512_set1_ps(value); }
static inline vfloat v_load(const float *p) { return _mm512_loadu_ps(p); }
/// The lanes of `mask` from p, zeros elsewhere (lanes outside the mask are never read).
static inline vfloat v_load_masked(vmask mask, const float *p) { return _mm512_maskz_loadu_ps(mask, p); }
/// Stores the lanes of `mask` only.
static inline void v_store_masked(float *p, vmask mask, vfloat v) { _mm512_mask_storeu_ps(p, mask, v); }

/// Asks for the cache line at p (a hint: never faults, whatever the address).
static inline void v_prefetch(const float *p) { _mm_prefetch((const char *)p, _MM_HINT_T0); }

static inline vfloat v_add(vfloat a, vfloat b) { return _mm512_add_ps(a, b); }
static inline vfloat v_sub(vfloat a, vfloat b) { return _mm512_sub_ps(a, b); }
static inline vfloat v_mul(vfloat a, vfloat b) { return _mm512_mul_ps(a, b); }
static inline vfloat v_div(vfloat a, vfloat b) { return _mm512_div_ps(a, b); }
/// a * b + c, one rounding.
static inline vfloat v_fma(vfloat a, vfloat b, vfloat c) { return _mm512_fmadd_ps(a, b, c); }
/// c - a * b, one rounding.
static inline vfloat v_fnma(vfloat a, vfloat b, vfloat c) { return _mm512_fnmadd_ps(a, b, c); }
/// MAXPS / MINPS: the second operand when either is NaN.
static inline vfloat v_max(vfloat a, vfloat b) { return _mm512_max_ps(a, b); }
static inline vfloat v_min(vfloat a, vfloat b) { return _mm512_min_ps(a, b); }
static inline float v_reduce_add(vfloat v) { return _mm512_reduce_add_ps(v); }

/// The larger of a and b, NaN when either is NaN (PyTorch's max pooling).
static inline vfloat v_larger_or_nan(vfloat a, vfloat b) {
    // MAXPS gives its second operand when either is NaN: b's NaN comes
    // through, and a's is put back by the mask.
    return _mm512_mask_mov_ps(_mm512_max_ps(a, b), _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q), a);
}

/// Lanes 0, 2, 4, ... of the 2 * LANES floats a then b.
static inline vfloat v_even(vfloat a, vfloat b) {
    return _mm512_permutex2var_ps(a, _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), b);
}
/// Lanes 1, 3, 5, ... of the 2 * LANES floats a then b.
static inline vfloat v_odd(vfloat a, vfloat b) {
    return _mm512_permutex2var_ps(a, _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31), b);
}
/// a0 b0 a1 b1 ...: the first LANES floats of a and b interleaved.
static inline vfloat v_interleave_low(vfloat a, vfloat b) {
    return _mm512_permutex2var_ps(a, _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23), b);
}
/// The second LANES floats of a and b interleaved.
static inline vfloat v_interleave_high(vfloat a, vfloat b) {
    return _mm512_permutex2var_ps(a, _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31), b);
}

/// Lanes 1 ... LANES - 1 of v, then lane 0 of next (v shifted down one lane, next's first lane shifted in).
static inline vfloat v_shift_in(vfloat v, vfloat next) {
    return _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(next), _mm512_castps_si512(v), 1));
}

/// Lane i holds i * stride (the gather offsets of a column of a row-major matrix).
static inline vint v_lane_offsets(int stride) {
    return _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                              _mm512_set1_epi32(stride));
}
/// base[offsets[i]] in the lanes of `mask`, zeros elsewhere.
static inline vfloat v_gather_masked(vmask mask, const float *base, vint offsets) {
    return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), mask, offsets, base, 4);
}

/// x rounded to the nearest integer (ties to even).
static inline vfloat v_round(vfloat x) {
    return _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
/// p * 2^n for integral n in [-150, 128] (VSCALEFPS: one rounding, +inf on
/// overflow, 0 or a subnormal on underflow, NaN stays NaN).
static inline vfloat v_scale_by_power_of_two(vfloat p, vfloat n) { return _mm512_scalef_ps(p, n); }

#pragma clang attribute pop

#endif
