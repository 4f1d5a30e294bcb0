/*===- quant_avx2_fma.c - quantized linear kernels for AVX2 + FMA ----------===*
 *
 * Part of the Microscale project.
 *
 * quant_vector.inc with 8 lanes. F16C converts the half-float scales; every
 * AVX2 CPU has it, and ms_x86_64_has_avx2_fma checks it too.
 *
 *===----------------------------------------------------------------------===*/

#include "kernels/kernels.h"

#define MS_QUANT_LANES 8
#define MS_QUANT_TARGET __attribute__((target("avx2,fma,f16c")))
#define MS_QUANT_NAME(width) ms_linear_quant_##width##_avx2_fma
/* 16 registers: the group accumulators of eight tokens for one channel
 * (their row sums wait in memory between groups). */
#define MS_QUANT_PREFILL_CHANNELS 1
#include "kernels/quant_vector.inc"
