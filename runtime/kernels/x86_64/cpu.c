/*===- cpu.c - which x86-64 vector extensions this CPU and OS support ------===*
 *
 * Part of the Microscale project.
 *
 *===----------------------------------------------------------------------===*/

#include "kernels/kernels.h"

enum { CPU_BASELINE, CPU_AVX2_FMA, CPU_AVX512F };

/* Asked once. An extension counts only when the OS saves its registers
 * (XGETBV), not merely when CPUID lists it. */
static int cpu_level(void) {
  static int cached = -1;
  if (cached >= 0)
    return cached;
  unsigned a, b, c, d;
  __asm__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
  int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, f16c = (c >> 29) & 1;
  int level = CPU_BASELINE;
  if (osxsave) {
    unsigned lo, hi;
    __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    int ymm = (lo & 6) == 6;       /* the OS saves XMM and YMM state */
    int zmm = (lo & 0xE6) == 0xE6; /* ... and opmask and ZMM state */
    __asm__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(7), "c"(0));
    int avx2 = (b >> 5) & 1, avx512f = (b >> 16) & 1;
    if (fma && f16c && avx2 && ymm)
      level = CPU_AVX2_FMA;
    if (level == CPU_AVX2_FMA && avx512f && zmm)
      level = CPU_AVX512F;
  }
  cached = level;
  return cached;
}

int ms_x86_64_has_avx2_fma(void) { return cpu_level() >= CPU_AVX2_FMA; }

int ms_x86_64_has_avx512f(void) { return cpu_level() >= CPU_AVX512F; }
