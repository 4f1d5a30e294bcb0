/*===- quant_avx512f.c - quantized linear kernels for AVX-512F -------------===*
 *
 * Part of the Microscale project.
 *
 * quant_vector.inc with 16 lanes (AVX-512F converts half floats itself).
 *
 *===----------------------------------------------------------------------===*/

#include "kernels/kernels.h"

#define MS_QUANT_LANES 16
#define MS_QUANT_TARGET __attribute__((target("avx512f")))
#define MS_QUANT_NAME(width) ms_linear_quant_##width##_avx512f
/* One channel per prefill tile, as AVX2: two would share each load of x
 * but add 20 KB of code to every program. */
#define MS_QUANT_PREFILL_CHANNELS 1
#include "kernels/quant_vector.inc"
