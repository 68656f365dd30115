// A GRU step's gates with a vector e^x.
// AVX-512F only: see vector_kernels.h for the contracts.
#if defined(__x86_64__)
#include "avx512_common.h"

#pragma clang attribute push(CRNN_AVX512_TARGET, apply_to = function)

// MARK: - GRU gates

/// e^x for 16 floats (Cephes' expf: n = round(x log2 e), a degree-6
/// polynomial of the remainder, times 2^n by VSCALEFPS), within a few ulp;
/// +inf above 88.7, 0 far below, NaN stays NaN.
static inline __m512 exp_ps(__m512 x) {
    // Clamped first (MINPS/MAXPS return their second operand, x, when x is NaN).
    x = _mm512_min_ps(_mm512_set1_ps(89.0f), _mm512_max_ps(_mm512_set1_ps(-104.0f), x));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_scalef_ps(p, n);
}

void crnn_gru_gates_avx512(int hidden, const float *input_gates, const float *hidden_gates, float *state,
                           float *output, int accumulate) {
    const __m512 one = _mm512_set1_ps(1.0f), two = _mm512_set1_ps(2.0f);
    for (int j = 0; j < hidden; j += 16) {
        __mmask16 mask = first_lanes(hidden - j);
        #define LOAD(base, offset) _mm512_maskz_loadu_ps(mask, (base) + (offset) + j)
        // r = sigmoid(x_r + h_r), z = sigmoid(x_z + h_z): 1 / (1 + e^-x).
        __m512 r = _mm512_div_ps(one, _mm512_add_ps(one, exp_ps(_mm512_sub_ps(_mm512_setzero_ps(),
            _mm512_add_ps(LOAD(input_gates, 0), LOAD(hidden_gates, 0))))));
        __m512 z = _mm512_div_ps(one, _mm512_add_ps(one, exp_ps(_mm512_sub_ps(_mm512_setzero_ps(),
            _mm512_add_ps(LOAD(input_gates, hidden), LOAD(hidden_gates, hidden))))));
        // n = tanh(x_n + r h_n) = 1 - 2 / (e^2x + 1).
        __m512 a = _mm512_add_ps(LOAD(input_gates, 2 * hidden), _mm512_mul_ps(r, LOAD(hidden_gates, 2 * hidden)));
        __m512 n = _mm512_sub_ps(one, _mm512_div_ps(two, _mm512_add_ps(exp_ps(_mm512_mul_ps(two, a)), one)));
        // h = n + z (h - n), as PyTorch computes (1 - z) n + z h.
        __m512 h = _mm512_fmadd_ps(z, _mm512_sub_ps(LOAD(state, 0), n), n);
        #undef LOAD
        _mm512_mask_storeu_ps(state + j, mask, h);
        if (accumulate) h = _mm512_add_ps(h, _mm512_maskz_loadu_ps(mask, output + j));
        _mm512_mask_storeu_ps(output + j, mask, h);
    }
}

#pragma clang attribute pop

#endif
