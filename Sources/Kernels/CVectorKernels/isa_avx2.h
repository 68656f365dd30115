// The vector operations the kernel bodies (*_body.h) are written in, for
// AVX2 with FMA: 8 float lanes, no mask registers (a mask is a vector of
// all-ones or zero lanes, for VMASKMOVPS). Included once, by
// kernels_avx2.c; isa_avx512.h defines the same names for AVX-512F.
// Internal to CVectorKernels (not in include/).
#ifndef CRNN_ISA_H
#define CRNN_ISA_H

#include <immintrin.h>

#include "kernel_common.h"

// Every function of the translation unit is compiled for AVX2 and FMA
// whatever the build's target CPU (kernels_avx2.c wraps the bodies in
// `#pragma clang attribute push(CRNN_TARGET, apply_to = function)`);
// callers check the CPU first (Kernels/VectorUnit.swift).
#define CRNN_TARGET __attribute__((target("avx2,fma")))

/// The table of kernels this unit exports (vector_kernels.h).
#define CRNN_KERNELS_GETTER crnn_vector_kernels_avx2

/// Whether the kernels should prefer plain loads where every lane is wanted
/// (VMASKMOVPS costs more than a plain load).
#define CRNN_MASKED_LOADS_COST 1

/// Float lanes per vector.
#define LANES 8

typedef __m256 vfloat;
typedef __m256i vmask;
typedef __m256i vint;

#pragma clang attribute push(CRNN_TARGET, apply_to = function)

/// A mask of the first `count` lanes (all when count >= LANES, none when <= 0).
static inline vmask v_first(int count) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
static inline vmask v_all(void) { return _mm256_set1_epi32(-1); }
static inline vmask v_none(void) { return _mm256_setzero_si256(); }
static inline vmask v_mask_and(vmask a, vmask b) { return _mm256_and_si256(a, b); }
/// The lanes of `a` that are not in `b`.
static inline vmask v_mask_andnot(vmask a, vmask b) { return _mm256_andnot_si256(b, a); }

static inline vfloat v_zero(void) { return _mm256_setzero_ps(); }
static inline vfloat v_set1(float value) { return _mm256_set1_ps(value); }
static inline vfloat v_load(const float *p) { return _mm256_loadu_ps(p); }
/// The lanes of `mask` from p, zeros elsewhere (VMASKMOVPS reads no lane
/// outside the mask, so those addresses may lie outside the buffer).
static inline vfloat v_load_masked(vmask mask, const float *p) { return _mm256_maskload_ps(p, mask); }
/// Stores the lanes of `mask` only.
static inline void v_store_masked(float *p, vmask mask, vfloat v) { _mm256_maskstore_ps(p, mask, v); }

/// Asks for the cache line at p (a hint: never faults, whatever the address).
static inline void v_prefetch(const float *p) { _mm_prefetch((const char *)p, _MM_HINT_T0); }

static inline vfloat v_add(vfloat a, vfloat b) { return _mm256_add_ps(a, b); }
static inline vfloat v_sub(vfloat a, vfloat b) { return _mm256_sub_ps(a, b); }
static inline vfloat v_mul(vfloat a, vfloat b) { return _mm256_mul_ps(a, b); }
static inline vfloat v_div(vfloat a, vfloat b) { return _mm256_div_ps(a, b); }
/// a * b + c, one rounding.
static inline vfloat v_fma(vfloat a, vfloat b, vfloat c) { return _mm256_fmadd_ps(a, b, c); }
/// c - a * b, one rounding.
static inline vfloat v_fnma(vfloat a, vfloat b, vfloat c) { return _mm256_fnmadd_ps(a, b, c); }
/// MAXPS / MINPS: the second operand when either is NaN.
static inline vfloat v_max(vfloat a, vfloat b) { return _mm256_max_ps(a, b); }
static inline vfloat v_min(vfloat a, vfloat b) { return _mm256_min_ps(a, b); }
static inline float v_reduce_add(vfloat v) {
    // Halves, then pairs, then the last two: the same tree as AVX-512's
    // reduction below its first step.
    __m128 sum = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    sum = _mm_add_ps(sum, _mm_movehl_ps(sum, sum));
    sum = _mm_add_ss(sum, _mm_movehdup_ps(sum));
    return _mm_cvtss_f32(sum);
}

/// The larger of a and b, NaN when either is NaN (PyTorch's max pooling).
static inline vfloat v_larger_or_nan(vfloat a, vfloat b) {
    // MAXPS gives its second operand when either is NaN: b's NaN comes
    // through, and a's is put back by the blend.
    return _mm256_blendv_ps(_mm256_max_ps(a, b), a, _mm256_cmp_ps(a, a, _CMP_UNORD_Q));
}

/// Lanes 0, 2, 4, ... of the 2 * LANES floats a then b.
static inline vfloat v_even(vfloat a, vfloat b) {
    // Per 128-bit half: a0 a2 b0 b2 | a4 a6 b4 b6; then the 64-bit pairs reordered.
    __m256 halves = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(halves), _MM_SHUFFLE(3, 1, 2, 0)));
}
/// Lanes 1, 3, 5, ... of the 2 * LANES floats a then b.
static inline vfloat v_odd(vfloat a, vfloat b) {
    __m256 halves = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(halves), _MM_SHUFFLE(3, 1, 2, 0)));
}
/// a0 b0 a1 b1 ...: the first LANES floats of a and b interleaved.
static inline vfloat v_interleave_low(vfloat a, vfloat b) {
    // unpacklo: a0 b0 a1 b1 | a4 b4 a5 b5; unpackhi: a2 b2 a3 b3 | a6 b6 a7 b7.
    return _mm256_permute2f128_ps(_mm256_unpacklo_ps(a, b), _mm256_unpackhi_ps(a, b), 0x20);
}
/// The second LANES floats of a and b interleaved.
static inline vfloat v_interleave_high(vfloat a, vfloat b) {
    return _mm256_permute2f128_ps(_mm256_unpacklo_ps(a, b), _mm256_unpackhi_ps(a, b), 0x31);
}

/// Lanes 1 ... LANES - 1 of v, then lane 0 of next (v shifted down one lane, next's first lane shifted in).
static inline vfloat v_shift_in(vfloat v, vfloat next) {
    const __m256 rotated = _mm256_permutevar8x32_ps(v, _mm256_setr_epi32(1, 2, 3, 4, 5, 6, 7, 0));
    return _mm256_blend_ps(rotated, _mm256_permutevar8x32_ps(next, _mm256_setzero_si256()), 0x80);
}

/// Lane i holds i * stride (the gather offsets of a column of a row-major matrix).
static inline vint v_lane_offsets(int stride) {
    return _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(stride));
}
/// base[offsets[i]] in the lanes of `mask`, zeros elsewhere.
static inline vfloat v_gather_masked(vmask mask, const float *base, vint offsets) {
    return _mm256_mask_i32gather_ps(_mm256_setzero_ps(), base, offsets, _mm256_castsi256_ps(mask), 4);
}

/// x rounded to the nearest integer (ties to even).
static inline vfloat v_round(vfloat x) { return _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
/// p * 2^n for integral n in [-150, 128], as VSCALEFPS gives it for p in
/// [0.5, 2] (the e^x polynomial's range): 2^n is built from the exponent
/// bits in two halves, 2^(n/2) and 2^(n - n/2), each a normal float, so the
/// first product is exact and the second rounds once (+inf on overflow, 0 or
/// a subnormal on underflow). A NaN n leaves p, which is then NaN too.
static inline vfloat v_scale_by_power_of_two(vfloat p, vfloat n) {
    __m256i whole = _mm256_cvtps_epi32(n);  // exact: n is integral (NaN gives INT_MIN; p is NaN then)
    __m256i half = _mm256_srai_epi32(whole, 1), rest = _mm256_sub_epi32(whole, half);
    const __m256i bias = _mm256_set1_epi32(127);
    __m256 first = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(half, bias), 23));
    __m256 second = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(rest, bias), 23));
    return _mm256_mul_ps(_mm256_mul_ps(p, first), second);
}

#pragma clang attribute pop

#endif
