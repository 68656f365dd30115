// The AVX-512F unit: kernel_bodies.h compiled with isa_avx512.h.
#if defined(__x86_64__)
#include "isa_avx512.h"
#include "kernel_bodies.h"
#endif
