/*===- quant_activations.h - 8-bit activation blocks --------------*- C -*-===*
 *
 * Part of the Microscale project.
 *
 * `#llm.quant` weights with `activations = i8` (formats ending in `_a8`)
 * multiply activations quantized on the fly: each row of the input is cut
 * into blocks of MS_ACT_BLOCK features from its start (the last one
 * shorter), and each block gets one float scale d = amax / 127 (amax its
 * largest magnitude) and signed codes q = round(x * 127 / amax), ties to
 * even, so that x ~ d * q. A product with quantized weights is then, per
 * block, one exact integer dot product of codes times two scales:
 *
 *   y[o] = sum_g scale[o, g] * sum_(blocks b in g) d_b *
 *          sum_(i in b) (code[o, i] - zero_point[o, g]) * q_i
 *
 * which is what 8-bit dot-product instructions compute. Groups of weights
 * must therefore start on block boundaries (group % MS_ACT_BLOCK == 0, or
 * one group per row).
 *
 * The compiler's reference interpreter and the runtime kernels both
 * quantize blocks with `ms_quantize_activation_block`, so their codes
 * agree bit for bit; only the order of the float sums differs.
 *
 *===----------------------------------------------------------------------===*/

#ifndef MICROSCALE_RUNTIME_QUANT_ACTIVATIONS_H
#define MICROSCALE_RUNTIME_QUANT_ACTIVATIONS_H

#include <stdint.h>

/* Features per activation block. */
#define MS_ACT_BLOCK 32

/* Floats of scratch the `_a8` kernels of kernels.def need for `rows` rows
 * of `in` features: per block, its scale, the sum of its codes and its 32
 * codes (8 floats' worth of bytes). */
#define MS_ACT_SCRATCH_FLOATS(rows, in)                                        \
  ((rows) * 10 * (((in) + MS_ACT_BLOCK - 1) / MS_ACT_BLOCK))

/* Adding then subtracting 1.5 * 2^23 rounds a float of magnitude below 2^22
 * to an integer, ties to even (the default rounding mode), with no library
 * call: freestanding targets have no rintf. */
#define MS_ACT_ROUNDER 12582912.0f

/* Quantizes the n <= MS_ACT_BLOCK values at x into codes[0 .. n) and
 * returns the block's scale d (0 for a block of zeros, whose codes are 0).
 * Values that are not finite make the block's codes meaningless, as they
 * would make a float product's result. */
static inline float ms_quantize_activation_block(const float *x, int64_t n,
                                                 int8_t *codes) {
  float amax = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    float magnitude = x[i] < 0.0f ? -x[i] : x[i];
    if (magnitude > amax)
      amax = magnitude;
  }
  if (!(amax > 0.0f)) {
    for (int64_t i = 0; i < n; ++i)
      codes[i] = 0;
    return 0.0f;
  }
  float inverse = 127.0f / amax;
  for (int64_t i = 0; i < n; ++i) {
    /* |x * inverse| <= 127 up to one rounding, so the code fits. Separate
     * statements: a fused multiply-add would round differently from the
     * kernels that quantize with vector multiplies and adds. */
    float scaled = x[i] * inverse;
    float rounded = (scaled + MS_ACT_ROUNDER) - MS_ACT_ROUNDER;
    codes[i] = (int8_t)(int32_t)rounded;
  }
  return amax / 127.0f;
}

#endif /* MICROSCALE_RUNTIME_QUANT_ACTIVATIONS_H */
