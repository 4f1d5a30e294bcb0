/*===- QuantVector16.c - 16-lane quantized kernels on AVX2 -----------------===*
 *
 * Part of the Microscale project.
 *
 * runtime/kernels/quant_vector.inc instantiated with the 16 lanes of its
 * AVX-512F build, but compiled for AVX2: the compiler splits each vector in
 * two, so a CPU without AVX-512 still runs, and QuantKernelsTest checks,
 * every block and tail of the 16-lane code. Its prefill tiles take two
 * channels, which no shipped ISA does yet, so that path is checked too.
 *
 *===----------------------------------------------------------------------===*/

#include "kernels/kernels.h"

#define MS_QUANT_LANES 16
#define MS_QUANT_TARGET __attribute__((target("avx2,fma,f16c")))
#define MS_QUANT_NAME(width) ms_test_linear_quant_##width##_lanes16
#define MS_QUANT_PREFILL_CHANNELS 2
/* The 16-lane helpers are always inlined, so passing their vectors in
 * AVX2 registers is no ABI question. */
#pragma clang diagnostic ignored "-Wpsabi"
#include "kernels/quant_vector.inc"
