/*===- kernels.h - the per-ISA microkernels behind runtime.h ---------------===*
 *
 * Part of the Microscale project.
 *
 * ms_linear_f32 (kernels.c) splits its output channels over the threads
 * and hands each channel to the linear kernel of one instruction set: a
 * portable C one, always built, and vector ones for the ISAs of the target
 * (x86_64/ today; NEON and Cortex-M files go beside them). Each vector
 * kernel is unit-tested against the portable one.
 *
 * A kernel must compute every output with the same sequence of operations
 * whatever `rows` is, so a token's result does not depend on how many
 * tokens share a call (prefill chunks give decode's logits) nor on the
 * thread count.
 *
 *===----------------------------------------------------------------------===*/

#ifndef MICROSCALE_RUNTIME_KERNELS_KERNELS_H
#define MICROSCALE_RUNTIME_KERNELS_KERNELS_H

#include <stdint.h>

#include "microscale/quant_scale.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One output channel of a linear layer for `rows` tokens:
 * y[r * y_stride] = dot(x[r * in .. r * in + in), w[0 .. in)) + bias. */
typedef void (*ms_linear_channel_fn)(const float *x, int64_t rows, int64_t in,
                                     const float *w, float bias, float *y,
                                     int64_t y_stride);

/* A weight-only quantized [out, in] matrix in the storage of kernels.def
 * (`#llm.quant`): bit-stream rows of `row_bytes` bytes, scales per [row,
 * group] (half floats, or logarithmic codes when `scale_max` > 0) and
 * optional zero points, each row's packed like its codes in
 * `zero_point_row_bytes` bytes. `group` is at most `in`. */
typedef struct ms_quant_matrix {
  const uint8_t *w;
  const uint8_t *scales;
  float scale_max;
  const uint8_t *zero_points; /* NULL: symmetric, signed codes */
  int64_t in, group, groups, row_bytes, zero_point_row_bytes;
  int bits;
} ms_quant_matrix;

/* The matrix of a kernel's arguments. `group` is `in` for one group per
 * row; 0 or more than `in` means the same. */
static inline ms_quant_matrix
ms_quant_matrix_of(const uint8_t *w, const uint8_t *scales, float scale_max,
                   const uint8_t *zero_points, int64_t bits, int64_t group,
                   int64_t in) {
  if (group <= 0 || group > in)
    group = in;
  int64_t groups = group > 0 ? (in + group - 1) / group : 0;
  ms_quant_matrix m = {w,
                       scales,
                       scale_max,
                       zero_points,
                       in,
                       group,
                       groups,
                       (in * bits + 7) / 8,
                       (groups * bits + 7) / 8,
                       (int)bits};
  return m;
}

/* The unsigned `bits`-wide field `index` of a packed row, least
 * significant bits first, as lib/Quant's loadCode reads it. */
static inline uint32_t ms_load_field(const uint8_t *row, int bits,
                                     int64_t index) {
  if (bits == 8)
    return row[index];
  if (bits == 4)
    return (row[index >> 1] >> ((index & 1) * 4)) & 0xfu;
  int64_t bit = index * bits;
  const uint8_t *p = row + (bit >> 3);
  /* A field of at most 8 bits spans at most two bytes; read the second
   * only when it does, so the last field of a row reads no further. */
  uint32_t field = p[0];
  int shift = (int)(bit & 7);
  if (shift + bits > 8)
    field |= (uint32_t)p[1] << 8;
  return (field >> shift) & ((1u << bits) - 1);
}

/* The zero point of group `g` of output channel `o` (asymmetric only). */
static inline int32_t ms_quant_zero_point(const ms_quant_matrix *m, int64_t o,
                                          int64_t g) {
  return (int32_t)ms_load_field(m->zero_points + o * m->zero_point_row_bytes,
                                m->bits, g);
}

/* Output channels [begin, end) of a quantized linear layer for `rows`
 * tokens: y[r * y_stride + o] = sum_i x[r * in + i] * dequant(w)[o, i]
 * (+ bias[o] when bias is not NULL). */
typedef void (*ms_linear_quant_fn)(const float *x, int64_t rows,
                                   const ms_quant_matrix *m, int64_t begin,
                                   int64_t end, const float *bias, float *y,
                                   int64_t y_stride);

/* Rows of activations quantized in blocks of MS_ACT_BLOCK features
 * (microscale/quant_activations.h), as the `_a8` kernels read them: for
 * row r and block b, the block's scale d at scales[r * blocks + b], the sum
 * of its codes at sums[r * blocks + b], and its codes at codes[(r * blocks
 * + b) * MS_ACT_BLOCK ..], the last block padded with zero codes, so that a
 * whole block can always be loaded. Codes are in feature order, or in
 * nibble order when `nibble_order` is set: each block's even features,
 * then its odd ones, the order of 4-bit weight codes split into their low
 * and high nibbles. */
typedef struct ms_quant_activations {
  float *scales;
  int32_t *sums;
  int8_t *codes;
  int64_t blocks;
} ms_quant_activations;

/* Quantizes `rows` rows of `in` features of x into `a`, whose pointers
 * and `blocks` the caller has set, codes in nibble order when asked. Every
 * implementation gives ms_quantize_activation_block's codes and scales,
 * bit for bit. */
typedef void (*ms_quantize_activations_fn)(const float *x, int64_t rows,
                                           int64_t in, int nibble_order,
                                           const ms_quant_activations *a);

/* Output channels [begin, end) of a quantized linear layer with 8-bit
 * activations (kernels.def's ms_linear_q*_a8_f32) for `rows` rows of `a`,
 * stored as ms_linear_quant_fn stores them. */
typedef void (*ms_linear_quant_a8_fn)(const ms_quant_activations *a,
                                      int64_t rows, const ms_quant_matrix *m,
                                      int64_t begin, int64_t end,
                                      const float *bias, float *y,
                                      int64_t y_stride);

/* An `_a8` kernel and the order of activation codes it reads. */
typedef struct ms_linear_quant_a8_kernel {
  ms_linear_quant_a8_fn run;
  int nibble_order;
} ms_linear_quant_a8_kernel;

/* A pruned [out, in] matrix in the bitmask storage of kernels.def
 * (ms_linear_sparse_*): `values` are floats, or 8-bit codes when `scales`
 * (half floats, one per row) is not NULL. */
typedef struct ms_sparse_matrix {
  const void *values;
  const uint8_t *masks;
  const int32_t *offsets;
  const uint8_t *scales;
  int64_t in, out, mask_row_bytes;
} ms_sparse_matrix;

/* Output channels [begin, end) of a sparse linear layer for `rows` tokens,
 * stored as ms_linear_quant_fn stores them. */
typedef void (*ms_linear_sparse_fn)(const float *x, int64_t rows,
                                    const ms_sparse_matrix *m, int64_t begin,
                                    int64_t end, const float *bias, float *y,
                                    int64_t y_stride);

/* The portable sparse linears, float values and 8-bit codes. */
void ms_linear_sparse_f32_portable(const float *x, int64_t rows,
                                   const ms_sparse_matrix *m, int64_t begin,
                                   int64_t end, const float *bias, float *y,
                                   int64_t y_stride);
void ms_linear_sparse_q8_portable(const float *x, int64_t rows,
                                  const ms_sparse_matrix *m, int64_t begin,
                                  int64_t end, const float *bias, float *y,
                                  int64_t y_stride);

typedef struct ms_kernel_isa {
  const char *name;
  /* Whether this CPU (and its OS) can run the kernels; NULL: always. */
  int (*available)(void);
  ms_linear_channel_fn linear_channel;
  /* Quantized linears by code width (index: bits, 2..8); NULL where the
   * ISA has none, and then the portable kernel runs. They need groups
   * that start on a `quant_block` boundary: group % quant_block == 0, or a
   * single group per row. */
  ms_linear_quant_fn linear_quant[9];
  int64_t quant_block;
  /* The same with 8-bit activations; `run` NULL where the ISA has none.
   * They need groups that start on activation blocks (group %
   * MS_ACT_BLOCK == 0, or a single group per row). */
  ms_linear_quant_a8_kernel linear_quant_a8[9];
  /* The ISA's activation quantizer; NULL: the portable one. */
  ms_quantize_activations_fn quantize_activations;
  /* ms_attention_f32's heads (an ms_attention_job); NULL: the portable
   * ones. */
  void (*attention)(void *job, int64_t begin, int64_t end);
  /* The sparse linears: [0] float values, [1] 8-bit codes; NULL: the
   * portable ones. */
  ms_linear_sparse_fn linear_sparse[2];
} ms_kernel_isa;

/* The arguments of ms_attention_f32, as its per-ISA loops take them. */
typedef struct ms_attention_job {
  const float *q, *k, *v;
  float *out, *scratch;
  int64_t n, pos, heads, kv_heads, head_dim;
  float scale;
} ms_attention_job;

void ms_attention_heads_portable(void *job, int64_t begin, int64_t end);

/* The ISAs built into this runtime, widest first; the portable one last. */
extern const ms_kernel_isa ms_kernel_isas[];
extern const int ms_kernel_isa_count;

/* The ISA ms_linear_f32 uses: the widest available unless a test chose
 * another with ms_kernels_use_isa. */
const ms_kernel_isa *ms_kernels_current_isa(void);

/* Makes ms_linear_f32 use `isa` (NULL: back to the widest available), so
 * tests can run every ISA the machine has. Not thread-safe; call it
 * between forward passes. */
void ms_kernels_use_isa(const ms_kernel_isa *isa);

/* The portable dot product, which the portable attention uses: eight
 * fixed partial sums, vectorizable without reassociating, and the same
 * order on every call. Inline so attention's loops keep it inlined. */
static inline float ms_dot_portable(const float *a, const float *b, int64_t n) {
  float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k)
      s[k] += a[i + k] * b[i + k];
  float tail = 0.0f;
  for (; i < n; ++i)
    tail += a[i] * b[i];
  return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7])) +
         tail;
}

void ms_linear_channel_portable(const float *x, int64_t rows, int64_t in,
                                const float *w, float bias, float *y,
                                int64_t y_stride);

/* The portable quantized linear, any width in [2, 8] and any group: the
 * kernel of targets without a vector one, and the fallback of the others. */
void ms_linear_quant_portable(const float *x, int64_t rows,
                              const ms_quant_matrix *m, int64_t begin,
                              int64_t end, const float *bias, float *y,
                              int64_t y_stride);

/* The portable `_a8` linear: any width, any group (a group that does not
 * start on an activation block splits the block's integer sum), codes in
 * feature order. */
void ms_linear_quant_a8_portable(const ms_quant_activations *a, int64_t rows,
                                 const ms_quant_matrix *m, int64_t begin,
                                 int64_t end, const float *bias, float *y,
                                 int64_t y_stride);

/* The portable activation quantizer: ms_quantize_activation_block per
 * block. */
void ms_quantize_activations_portable(const float *x, int64_t rows, int64_t in,
                                      int nibble_order,
                                      const ms_quant_activations *a);

/* IEEE half float to float, exactly (subnormals, infinities and NaNs
 * included), without a hardware instruction. */
static inline float ms_half_to_float(uint16_t half) {
  uint32_t sign = (uint32_t)(half & 0x8000) << 16;
  uint32_t exponent = (half >> 10) & 0x1f, mantissa = half & 0x3ff;
  uint32_t bits;
  if (exponent == 0) {
    /* Zero or subnormal: mantissa * 2^-24, exact in float. */
    float magnitude = (float)mantissa * (1.0f / 16777216.0f);
    return sign ? -magnitude : magnitude;
  }
  if (exponent == 31)
    bits = sign | 0x7f800000u | (mantissa << 13);
  else
    bits = sign | ((exponent - 15 + 127) << 23) | (mantissa << 13);
  float value;
  __builtin_memcpy(&value, &bits, sizeof value);
  return value;
}

/* The scale of group `g` of output channel `o`. */
static inline float ms_quant_scale(const ms_quant_matrix *m, int64_t o,
                                   int64_t g) {
  int64_t index = o * m->groups + g;
  if (m->scale_max > 0.0f)
    return ms_log8_scale(m->scale_max, m->scales[index]);
  uint16_t half;
  __builtin_memcpy(&half, m->scales + 2 * index, sizeof half);
  return ms_half_to_float(half);
}

#if defined(__x86_64__)
int ms_x86_64_has_avx2_fma(void);
int ms_x86_64_has_avx512f(void);
void ms_linear_channel_avx2_fma(const float *x, int64_t rows, int64_t in,
                                const float *w, float bias, float *y,
                                int64_t y_stride);
void ms_attention_heads_avx2_fma(void *job, int64_t begin, int64_t end);
void ms_linear_channel_avx512f(const float *x, int64_t rows, int64_t in,
                               const float *w, float bias, float *y,
                               int64_t y_stride);
void ms_linear_quant_q_avx2_fma(const float *x, int64_t rows,
                                const ms_quant_matrix *m, int64_t begin,
                                int64_t end, const float *bias, float *y,
                                int64_t y_stride);
void ms_linear_quant_q8_avx2_fma(const float *x, int64_t rows,
                                 const ms_quant_matrix *m, int64_t begin,
                                 int64_t end, const float *bias, float *y,
                                 int64_t y_stride);
void ms_linear_quant_q4_avx2_fma(const float *x, int64_t rows,
                                 const ms_quant_matrix *m, int64_t begin,
                                 int64_t end, const float *bias, float *y,
                                 int64_t y_stride);
void ms_linear_quant_a8_q8_avx2(const ms_quant_activations *a, int64_t rows,
                                const ms_quant_matrix *m, int64_t begin,
                                int64_t end, const float *bias, float *y,
                                int64_t y_stride);
void ms_linear_quant_a8_q_avx2(const ms_quant_activations *a, int64_t rows,
                               const ms_quant_matrix *m, int64_t begin,
                               int64_t end, const float *bias, float *y,
                               int64_t y_stride);
void ms_linear_quant_a8_q4_avx2(const ms_quant_activations *a, int64_t rows,
                                const ms_quant_matrix *m, int64_t begin,
                                int64_t end, const float *bias, float *y,
                                int64_t y_stride);
void ms_linear_sparse_f32_avx2(const float *x, int64_t rows,
                               const ms_sparse_matrix *m, int64_t begin,
                               int64_t end, const float *bias, float *y,
                               int64_t y_stride);
void ms_linear_sparse_q8_avx2(const float *x, int64_t rows,
                              const ms_sparse_matrix *m, int64_t begin,
                              int64_t end, const float *bias, float *y,
                              int64_t y_stride);
void ms_quantize_activations_avx2(const float *x, int64_t rows, int64_t in,
                                  int nibble_order,
                                  const ms_quant_activations *a);
void ms_linear_quant_q_avx512f(const float *x, int64_t rows,
                               const ms_quant_matrix *m, int64_t begin,
                               int64_t end, const float *bias, float *y,
                               int64_t y_stride);
void ms_linear_quant_q8_avx512f(const float *x, int64_t rows,
                                const ms_quant_matrix *m, int64_t begin,
                                int64_t end, const float *bias, float *y,
                                int64_t y_stride);
void ms_linear_quant_q4_avx512f(const float *x, int64_t rows,
                                const ms_quant_matrix *m, int64_t begin,
                                int64_t end, const float *bias, float *y,
                                int64_t y_stride);
#endif

#ifdef __cplusplus
}
#endif

#endif /* MICROSCALE_RUNTIME_KERNELS_KERNELS_H */
