// A GRU step's gates with a vector e^x. Written in the operations of
// isa_avx512.h / isa_avx2.h; included by kernels_avx512.c and kernels_avx2.c
// (see vector_kernels.h for the contract).

// MARK: - GRU gates

/// e^x per lane (Cephes' expf: n = round(x log2 e), a degree-6 polynomial
/// of the remainder, times 2^n), within a few ulp; +inf above 88.7, 0 far
/// below, NaN stays NaN.
static inline vfloat exp_ps(vfloat x) {
    // Clamped first (MINPS/MAXPS return their second operand, x, when x is NaN).
    x = v_min(v_set1(89.0f), v_max(v_set1(-104.0f), x));
    vfloat n = v_round(v_mul(x, v_set1(1.44269504088896341f)));
    vfloat r = v_fnma(n, v_set1(0.693359375f), x);
    r = v_fnma(n, v_set1(-2.12194440e-4f), r);
    vfloat p = v_set1(1.9875691500e-4f);
    p = v_fma(p, r, v_set1(1.3981999507e-3f));
    p = v_fma(p, r, v_set1(8.3334519073e-3f));
    p = v_fma(p, r, v_set1(4.1665795894e-2f));
    p = v_fma(p, r, v_set1(1.6666665459e-1f));
    p = v_fma(p, r, v_set1(5.0000001201e-1f));
    p = v_fma(p, v_mul(r, r), v_add(r, v_set1(1.0f)));
    return v_scale_by_power_of_two(p, n);
}

static void crnn_gru_gates(int hidden, const float *input_gates, const float *hidden_gates, float *state,
                           float *output, int accumulate) {
    const vfloat one = v_set1(1.0f), two = v_set1(2.0f);
    for (int j = 0; j < hidden; j += LANES) {
        vmask mask = v_first(hidden - j);
        #define LOAD(base, offset) v_load_masked(mask, (base) + (offset) + j)
        // r = sigmoid(x_r + h_r), z = sigmoid(x_z + h_z): 1 / (1 + e^-x).
        vfloat r = v_div(one, v_add(one, exp_ps(v_sub(v_zero(), v_add(LOAD(input_gates, 0), LOAD(hidden_gates, 0))))));
        vfloat z = v_div(one, v_add(one, exp_ps(v_sub(v_zero(),
            v_add(LOAD(input_gates, hidden), LOAD(hidden_gates, hidden))))));
        // n = tanh(x_n + r h_n) = 1 - 2 / (e^2x + 1).
        vfloat a = v_add(LOAD(input_gates, 2 * hidden), v_mul(r, LOAD(hidden_gates, 2 * hidden)));
        vfloat n = v_sub(one, v_div(two, v_add(exp_ps(v_mul(two, a)), one)));
        // h = n + z (h - n), as PyTorch computes (1 - z) n + z h.
        vfloat h = v_fma(z, v_sub(LOAD(state, 0), n), n);
        #undef LOAD
        v_store_masked(state + j, mask, h);
        if (accumulate) h = v_add(h, v_load_masked(mask, output + j));
        v_store_masked(output + j, mask, h);
    }
}
