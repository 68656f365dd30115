// The AVX2 + FMA unit: kernel_bodies.h compiled with isa_avx2.h.
#if defined(__x86_64__)
#include "isa_avx2.h"
#include "kernel_bodies.h"
#endif
