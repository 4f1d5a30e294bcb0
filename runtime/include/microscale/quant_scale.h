/*===- quant_scale.h - 8-bit logarithmic group scales -------------*- C -*-===*
 *
 * Part of the Microscale project.
 *
 * `#llm.quant` weights with `scale = i8` store each group's scale as one
 * byte: code c in [0, 255] stands for scale_max * 2^(-c / 32), scale_max
 * being the matrix's largest scale (a parameter of its encoding). Steps of
 * 2^(1/32) keep every scale within 1.1 % of the value it rounds, over a
 * range of 2^8, for a quarter of the bits of a half float.
 *
 * The compiler's quantization library and the runtime kernels both compute
 * scales with `ms_log8_scale`, so they agree bit for bit: the fraction
 * divided by a power of two is exact, and the one rounding is the final
 * multiply.
 *
 *===----------------------------------------------------------------------===*/

#ifndef MICROSCALE_QUANT_SCALE_H
#define MICROSCALE_QUANT_SCALE_H

#include <stdint.h>

/* Codes per binade, and the number of codes. */
#define MS_LOG8_STEPS 32
#define MS_LOG8_CODES 256

/* 2^(-k / 32) for k in [0, 32), rounded to float. */
static const float ms_log8_fraction[MS_LOG8_STEPS] = {
    0x1p+0f,        0x1.f50766p-1f, 0x1.ea4afap-1f, 0x1.dfc974p-1f,
    0x1.d5818ep-1f, 0x1.cb720ep-1f, 0x1.c199bep-1f, 0x1.b7f77p-1f,
    0x1.ae89fap-1f, 0x1.a5503cp-1f, 0x1.9c4918p-1f, 0x1.93737cp-1f,
    0x1.8ace54p-1f, 0x1.82589ap-1f, 0x1.7a1148p-1f, 0x1.71f75ep-1f,
    0x1.6a09e6p-1f, 0x1.6247ecp-1f, 0x1.5ab07ep-1f, 0x1.5342b6p-1f,
    0x1.4bfdaep-1f, 0x1.44e086p-1f, 0x1.3dea64p-1f, 0x1.371a74p-1f,
    0x1.306fep-1f,  0x1.29e9ep-1f,  0x1.2387a6p-1f, 0x1.1d4874p-1f,
    0x1.172b84p-1f, 0x1.11301ep-1f, 0x1.0b5586p-1f, 0x1.059b0ep-1f};

/* The scale code `code` stands for in a matrix whose largest scale is
 * `scale_max`. */
static inline float ms_log8_scale(float scale_max, uint8_t code) {
  float fraction = ms_log8_fraction[code % MS_LOG8_STEPS] /
                   (float)(1u << (code / MS_LOG8_STEPS));
  return scale_max * fraction;
}

#endif /* MICROSCALE_QUANT_SCALE_H */
