// The x86 vector features this CPU has and the operating system saves
// (CPUID and XGETBV), for Kernels/CPUFeatures.swift. Elsewhere: none.
#include "vector_kernels.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <stdint.h>

unsigned crnn_cpu_features(void) {
    unsigned eax, ebx, ecx, edx, features = 0;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    // The registers' upper halves are usable only if the OS saves them (XCR0):
    // bits 1-2 for AVX's ymm, 5-7 for AVX-512's opmasks and zmm.
    uint64_t xcr0 = 0;
    if (ecx & (1u << 27)) {  // OSXSAVE
        unsigned low, high;
        __asm__ volatile("xgetbv" : "=a"(low), "=d"(high) : "c"(0));
        xcr0 = ((uint64_t)high << 32) | low;
    }
    int ymm = (xcr0 & 0x6) == 0x6, zmm = ymm && (xcr0 & 0xE0) == 0xE0;
    if (ymm && (ecx & (1u << 28))) features |= CRNN_CPU_AVX;
    if (ymm && (ecx & (1u << 12))) features |= CRNN_CPU_FMA;
    if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) {
        if (ymm && (ebx & (1u << 5))) features |= CRNN_CPU_AVX2;
        if (zmm && (ebx & (1u << 16))) features |= CRNN_CPU_AVX512F;
        if (zmm && (ebx & (1u << 17))) features |= CRNN_CPU_AVX512DQ;
        if (zmm && (ebx & (1u << 28))) features |= CRNN_CPU_AVX512CD;
        if (zmm && (ebx & (1u << 30))) features |= CRNN_CPU_AVX512BW;
        if (zmm && (ebx & (1u << 31))) features |= CRNN_CPU_AVX512VL;
    }
    return features;
}
#else
unsigned crnn_cpu_features(void) { return 0; }
#endif
