/*===- sparse_avx2.c - sparse linears for AVX2 + FMA -----------------------===*
 *
 * Part of the Microscale project.
 *
 * ms_linear_sparse_*'s kernels (kernels.def) for AVX2. Each output row is
 * expanded back into a dense row in a stack buffer, a block of eight
 * inputs at a time: one lookup keyed by the block's mask byte moves its
 * kept values into the lanes of their inputs (a lane permutation for
 * floats, a byte shuffle for codes; pruned lanes become zero). The dense
 * row then goes through the ISA's dense kernel for every token of the
 * call: floats through ms_linear_channel_avx2_fma, codes (four rows at a
 * time, with their scales) through the dense int8 kernel. So a row is
 * expanded once per call however many tokens share it (prefill), and each
 * output is computed by the dense kernel's fixed sequence whatever the
 * token count or the thread count. The work is per block of eight inputs,
 * not per kept value: branch-free, and what the measured crossover in the
 * README is about.
 *
 * Values are loaded eight at a time from the next kept value on; a load
 * that would pass the end of the matrix's values reads a zero-padded copy.
 * Rows longer than the stack buffer take the portable kernel.
 *
 *===----------------------------------------------------------------------===*/

#include "kernels/kernels.h"

#include <immintrin.h>

#define TARGET __attribute__((target("avx2,fma,f16c,popcnt")))
#define INLINE TARGET static inline __attribute__((always_inline))
/* The longest row expanded on the stack (16 KB). */
#define ROW_MAX 4096

/* Lane j of mask m: the index among the block's kept values of input j,
 * or the sign bit alone when input j was pruned (the float kernel blends
 * such lanes to zero; the byte shuffle zeroes bytes with the top bit). */
#define RANK(m, j) __builtin_popcount((m) & ((1u << (j)) - 1))
#define LANE(m, j) (((m) >> (j) & 1) ? RANK(m, j) : -0x7fffffff - 1)
#define BYTE(m, j) (((m) >> (j) & 1) ? RANK(m, j) : 0x80)
#define ROW(F, m)                                                              \
  {F(m, 0), F(m, 1), F(m, 2), F(m, 3), F(m, 4), F(m, 5), F(m, 6), F(m, 7)}
#define ROWS4(F, m) ROW(F, m), ROW(F, m + 1), ROW(F, m + 2), ROW(F, m + 3)
#define ROWS16(F, m)                                                           \
  ROWS4(F, m), ROWS4(F, m + 4), ROWS4(F, m + 8), ROWS4(F, m + 12)
#define ROWS64(F, m)                                                           \
  ROWS16(F, m), ROWS16(F, m + 16), ROWS16(F, m + 32), ROWS16(F, m + 48)
#define ROWS256(F)                                                             \
  ROWS64(F, 0u), ROWS64(F, 64u), ROWS64(F, 128u), ROWS64(F, 192u)

static const int32_t lane_of[256][8]
    __attribute__((aligned(32))) = {ROWS256(LANE)};
static const uint8_t byte_of[256][8]
    __attribute__((aligned(8))) = {ROWS256(BYTE)};

/* Eight floats from `v` on when fewer than eight remain before `end`,
 * zero-padded; out of line, as it runs at most once per call. */
TARGET static __attribute__((noinline)) __m256
load_padded_f32(const float *v, const float *end) {
  float padded[8] = {0};
  for (int i = 0; v + i < end; ++i)
    padded[i] = v[i];
  return _mm256_loadu_ps(padded);
}

TARGET static __attribute__((noinline)) __m128i
load_padded_q8(const int8_t *v, const int8_t *end) {
  int8_t padded[16] = {0};
  for (int i = 0; v + i < end; ++i)
    padded[i] = v[i];
  return _mm_loadl_epi64((const __m128i *)padded);
}

/* A block's kept floats (from `v`) in the lanes of their inputs. */
INLINE __m256 expand_f32(const float *v, const float *end, unsigned mask) {
  __m256 w = __builtin_expect(end - v >= 8, 1) ? _mm256_loadu_ps(v)
                                               : load_padded_f32(v, end);
  __m256i lanes = _mm256_load_si256((const __m256i *)lane_of[mask]);
  w = _mm256_permutevar8x32_ps(w, lanes);
  return _mm256_blendv_ps(w, _mm256_setzero_ps(), _mm256_castsi256_ps(lanes));
}

/* A block's kept codes (from `v`) in the bytes of their inputs. */
INLINE __m128i expand_q8(const int8_t *v, const int8_t *end, unsigned mask) {
  __m128i codes = __builtin_expect(end - v >= 8, 1)
                      ? _mm_loadl_epi64((const __m128i *)v)
                      : load_padded_q8(v, end);
  return _mm_shuffle_epi8(codes,
                          _mm_loadl_epi64((const __m128i *)byte_of[mask]));
}

/* Row o of `m` as m->in dense values of type D (floats, or codes), kept
 * values of type T expanded by EXPAND and stored by STORE. Four blocks at a
 * time: their starts among the values come from one 32-bit word of masks at
 * once, so the loads do not wait on a chain of population counts. */
#define EXPAND_ROW(T, D, EXPAND, STORE)                                        \
  INLINE void expand_row_##T(const ms_sparse_matrix *m, int64_t o, D *dense) { \
    const uint8_t *masks = m->masks + o * m->mask_row_bytes;                   \
    const T *values = (const T *)m->values;                                    \
    const T *v = values + m->offsets[o], *end = values + m->offsets[m->out];   \
    const int64_t full = m->in / 8;                                            \
    int64_t b = 0;                                                             \
    for (; b + 4 <= full; b += 4) {                                            \
      uint32_t word;                                                           \
      __builtin_memcpy(&word, masks + b, sizeof word);                         \
      STORE(dense + 8 * b, EXPAND(v, end, word & 0xff));                       \
      STORE(dense + 8 * b + 8, EXPAND(v + __builtin_popcount(word & 0xff),     \
                                      end, (word >> 8) & 0xff));               \
      STORE(dense + 8 * b + 16, EXPAND(v + __builtin_popcount(word & 0xffff),  \
                                       end, (word >> 16) & 0xff));             \
      STORE(dense + 8 * b + 24,                                                \
            EXPAND(v + __builtin_popcount(word & 0xffffff), end, word >> 24)); \
      v += __builtin_popcount(word);                                           \
    }                                                                          \
    for (; b < full; ++b) {                                                    \
      STORE(dense + 8 * b, EXPAND(v, end, masks[b]));                          \
      v += __builtin_popcount(masks[b]);                                       \
    }                                                                          \
    if (m->in % 8) {                                                           \
      D tail[8];                                                               \
      STORE(tail, EXPAND(v, end, masks[full]));                                \
      for (int64_t i = 0; i < m->in % 8; ++i)                                  \
        dense[8 * full + i] = tail[i];                                         \
    }                                                                          \
  }
#define STORE_F32(to, lanes) _mm256_storeu_ps(to, lanes)
#define STORE_Q8(to, bytes) _mm_storel_epi64((__m128i *)(to), bytes)
EXPAND_ROW(float, float, expand_f32, STORE_F32)
EXPAND_ROW(int8_t, int8_t, expand_q8, STORE_Q8)
#undef STORE_F32
#undef STORE_Q8
#undef EXPAND_ROW

TARGET void ms_linear_sparse_f32_avx2(const float *x, int64_t rows,
                                      const ms_sparse_matrix *m, int64_t begin,
                                      int64_t end, const float *bias, float *y,
                                      int64_t y_stride) {
  if (m->in > ROW_MAX) {
    ms_linear_sparse_f32_portable(x, rows, m, begin, end, bias, y, y_stride);
    return;
  }
  float dense[ROW_MAX] __attribute__((aligned(32)));
  for (int64_t o = begin; o < end; ++o) {
    expand_row_float(m, o, dense);
    ms_linear_channel_avx2_fma(x, rows, m->in, dense, bias ? bias[o] : 0.0f,
                               y + o, y_stride);
  }
}

/* Output channels the int8 kernel expands and hands on at once: the dense
 * kernel's decode tile. */
#define Q8_CHANNELS 4

TARGET void ms_linear_sparse_q8_avx2(const float *x, int64_t rows,
                                     const ms_sparse_matrix *m, int64_t begin,
                                     int64_t end, const float *bias, float *y,
                                     int64_t y_stride) {
  const int64_t in = m->in;
  if (in > ROW_MAX) {
    ms_linear_sparse_q8_portable(x, rows, m, begin, end, bias, y, y_stride);
    return;
  }
  /* Up to Q8_CHANNELS rows of codes, handed to the dense int8 kernel with
   * their scales (contiguous, one half float per row, as a dense int8
   * matrix's with one group per row). That kernel computes each output the
   * same way whatever its tile, so results do not depend on how the
   * threads split the channels. */
  int8_t codes[Q8_CHANNELS * ROW_MAX] __attribute__((aligned(32)));
  for (int64_t o = begin; o < end; o += Q8_CHANNELS) {
    int64_t count = end - o < Q8_CHANNELS ? end - o : Q8_CHANNELS;
    for (int64_t c = 0; c < count; ++c)
      expand_row_int8_t(m, o + c, codes + c * in);
    ms_quant_matrix dense = ms_quant_matrix_of(
        (const uint8_t *)codes, m->scales + 2 * o, 0.0f, 0, 8, in, in);
    ms_linear_quant_q8_avx2_fma(x, rows, &dense, 0, count, bias ? bias + o : 0,
                                y + o, y_stride);
  }
}
