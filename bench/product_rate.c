// The packed product's rate on each vector unit, for the matrix shapes of
// the reference CRNN's layers, as a share of the unit's peak (a
// register-only FMA loop), both timed in thread CPU time on one thread (so
// other load on the machine matters less; the shares are what to read).
// Not part of the package; build and run from the repository root:
//
//   K=Sources/Kernels/CVectorKernels
//   clang -O3 -I$K/include -I$K bench/product_rate.c $K/kernels_avx2.c $K/kernels_avx512.c $K/packing.c \
//       -o /tmp/product_rate && /tmp/product_rate
//
// On a CPU without AVX-512F, leave out the AVX-512 columns (they would fault).
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <immintrin.h>
#include "vector_kernels.h"

static double now(void) { struct timespec t; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

/// GFLOP/s of 12 independent FMA chains in registers (no memory), VECTOR
/// floats of LANES lanes: the unit's peak as this core runs it now.
#define PEAK(NAME, TARGET, VECTOR, LANES, SET1, FMA)                                                           \
    __attribute__((target(TARGET))) static double NAME(long iters) {                                           \
        VECTOR a[12], m = SET1(0.999f), c = SET1(1e-3f);                                                       \
        for (int i = 0; i < 12; i++) a[i] = SET1((float)i);                                                    \
        double t = now();                                                                                      \
        for (long n = 0; n < iters; n++) {                                                                     \
            _Pragma("clang loop unroll(full)") for (int i = 0; i < 12; i++) a[i] = FMA(a[i], m, c);            \
            /* Keeps the chains in registers and alive. */                                                     \
            __asm__ volatile("" : "+v"(a[0]), "+v"(a[1]), "+v"(a[2]), "+v"(a[3]), "+v"(a[4]), "+v"(a[5]),      \
                             "+v"(a[6]), "+v"(a[7]), "+v"(a[8]), "+v"(a[9]), "+v"(a[10]), "+v"(a[11]));        \
        }                                                                                                      \
        return iters * 12.0 * 2 * LANES / (now() - t) / 1e9;                                                   \
    }

PEAK(peak_avx2, "avx2,fma", __m256, 8, _mm256_set1_ps, _mm256_fmadd_ps)
PEAK(peak_avx512, "avx512f", __m512, 16, _mm512_set1_ps, _mm512_fmadd_ps)

int main(int argc, char **argv) {
    int shapes[][3] = {{64, 96, 64}, {128, 52, 128}, {256, 14, 256}, {64, 256, 147}, {128, 175, 576}, {256, 52, 1152}, {768, 13, 256}};
    const char *names[] = {"wino layer1 (block 96)", "wino layer2", "wino layer3", "stem im2col block", "layer2.0.conv1 im2col", "layer3.0.conv1 im2col", "gru input"};
    for (int rep = 0; rep < 1; rep++) {
    double p2 = peak_avx2(100000000), p5 = peak_avx512(50000000);
    printf("peak AVX2 %.1f GFLOP/s, AVX-512 %.1f GFLOP/s (one thread, CPU time)\n", p2, p5);
    for (int s = 0; s < 7; s++) {
        int m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
        float *a = malloc(sizeof(float) * m * k), *b = malloc(sizeof(float) * k * n), *c = malloc(sizeof(float) * m * n);
        float *packed = malloc(sizeof(float) * crnn_packed_count(m, k));
        for (int i = 0; i < m * k; i++) a[i] = (i % 7) * 0.01f;
        for (int i = 0; i < k * n; i++) b[i] = (i % 5) * 0.01f;
        crnn_pack_rows(a, k, m, k, packed);
        const crnn_vector_kernels *units[2] = {crnn_vector_kernels_avx2(), crnn_vector_kernels_avx512()};
        double rate[2];
        for (int u = 0; u < 2; u++) {
            double flops = 2.0 * m * n * k, best = 1e9;
            int reps = (int)(2e8 / flops) + 1;
            for (int r = 0; r < 15; r++) {
                double t = now();
                for (int i = 0; i < reps; i++) units[u]->packed_product(m, n, k, packed, b, n, c, n);
                t = (now() - t) / reps;
                if (t < best) best = t;
            }
            rate[u] = flops / best / 1e9;
        }
        printf("%-24s M=%4d N=%4d K=%4d  avx2 %6.1f GFLOP/s (%3.0f%% of AVX2 peak)  avx512 %6.1f (%3.0f%% of AVX-512 peak)\n",
               names[s], m, n, k, rate[0], 100 * rate[0] / p2, rate[1], 100 * rate[1] / p5);
        free(a); free(b); free(c); free(packed);
    }
    }
    return 0;
}
