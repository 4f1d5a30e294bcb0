/*===- sparse_avx2.c - sparse linears for AVX2 + FMA -----------------------===*
 *
 * Part of the Microscale project.
 *
 * ms_linear_sparse_*'s kernels (kernels.def) for AVX2: each block of eight
 * inputs expands its kept values into eight lanes with one lookup keyed by
 * its mask byte (a lane permutation for floats, a byte shuffle for codes;
 * lanes whose input was pruned become zero), then multiplies them with the
 * eight inputs by a fused multiply-add. Work is per block, not per kept
 * value: branch-free, and what the measured crossover in the README is
 * about.
 *
 * The computation, per output y[r, o]: block b goes to accumulator b % 4
 * (four chains hide the FMA latency), the accumulators are added as (0 +
 * 1) + (2 + 3) and the lanes in a fixed tree, so every output is computed
 * the same way whatever the number of tokens (tiles only interleave rows)
 * and the thread count. Values are loaded eight at a time from the row's
 * next kept value on; a load that would pass the end of the whole matrix's
 * values reads a zero-padded copy, as does the last, short block of x.
 *
 *===----------------------------------------------------------------------===*/

#include "kernels/kernels.h"

#include <immintrin.h>

#define TARGET __attribute__((target("avx2,fma,f16c,popcnt")))
#define INLINE TARGET static inline __attribute__((always_inline))
/* Tokens sharing each expanded block in prefill. */
#define ROWS_TILE 2

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

/* Eight values from `v` on, or fewer (zero-padded) where `end` comes
 * first; T is float or int8_t. */
#define LOAD_PADDED(T, v, end, buffer)                                         \
  ((end) - (v) >= 8 ? (v)                                                      \
                    : (__builtin_memcpy(buffer, v, ((end) - (v)) * sizeof(T)), \
                       (const T *)(buffer)))

/* Block b's kept floats (from `v`) in the lanes of their inputs. */
INLINE __m256 expand_f32(const float *v, const float *end, unsigned mask) {
  float padded[8] = {0};
  const float *from = LOAD_PADDED(float, v, end, padded);
  __m256i lanes = _mm256_load_si256((const __m256i *)lane_of[mask]);
  __m256 w = _mm256_permutevar8x32_ps(_mm256_loadu_ps(from), lanes);
  return _mm256_blendv_ps(w, _mm256_setzero_ps(), _mm256_castsi256_ps(lanes));
}

/* Block b's kept codes (from `v`) as floats in the lanes of their inputs. */
INLINE __m256 expand_q8(const int8_t *v, const int8_t *end, unsigned mask) {
  int8_t padded[8] = {0};
  const int8_t *from = LOAD_PADDED(int8_t, v, end, padded);
  __m128i codes = _mm_loadl_epi64((const __m128i *)from);
  __m128i bytes =
      _mm_shuffle_epi8(codes, _mm_loadl_epi64((const __m128i *)byte_of[mask]));
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(bytes));
}

INLINE float horizontal_sum(__m256 a[4]) {
  __m256 s =
      _mm256_add_ps(_mm256_add_ps(a[0], a[1]), _mm256_add_ps(a[2], a[3]));
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  h = _mm_add_ss(h, _mm_movehdup_ps(h));
  return _mm_cvtss_f32(h);
}

/* x's eight inputs of block b of a row of `in`, zero-padded past `in`. */
INLINE __m256 load_x(const float *x, int64_t b, int64_t in) {
  if (b * 8 + 8 <= in)
    return _mm256_loadu_ps(x + b * 8);
  float padded[8] = {0};
  __builtin_memcpy(padded, x + b * 8, (in - b * 8) * sizeof(float));
  return _mm256_loadu_ps(padded);
}

/* Sums of output o for rows [0, count) of x (count <= ROWS_TILE), values
 * of type T expanded by EXPAND. */
#define SPARSE_TILE(T, EXPAND)                                                 \
  INLINE void tile_##T(const float *x, int64_t count,                          \
                       const ms_sparse_matrix *m, int64_t o, float *sums) {    \
    const uint8_t *masks = m->masks + o * m->mask_row_bytes;                   \
    const T *values = (const T *)m->values;                                    \
    const T *v = values + m->offsets[o], *end = values + m->offsets[m->out];   \
    __m256 acc[ROWS_TILE][4];                                                  \
    for (int64_t r = 0; r < count; ++r)                                        \
      for (int k = 0; k < 4; ++k)                                              \
        acc[r][k] = _mm256_setzero_ps();                                       \
    for (int64_t b = 0; b < m->mask_row_bytes; ++b) {                          \
      unsigned mask = masks[b];                                                \
      __m256 w = EXPAND(v, end, mask);                                         \
      v += __builtin_popcount(mask);                                           \
      for (int64_t r = 0; r < count; ++r)                                      \
        acc[r][b & 3] = _mm256_fmadd_ps(w, load_x(x + r * m->in, b, m->in),    \
                                        acc[r][b & 3]);                        \
    }                                                                          \
    for (int64_t r = 0; r < count; ++r)                                        \
      sums[r] = horizontal_sum(acc[r]);                                        \
  }
SPARSE_TILE(float, expand_f32)
SPARSE_TILE(int8_t, expand_q8)
#undef SPARSE_TILE

TARGET void ms_linear_sparse_f32_avx2(const float *x, int64_t rows,
                                      const ms_sparse_matrix *m, int64_t begin,
                                      int64_t end, const float *bias, float *y,
                                      int64_t y_stride) {
  float sums[ROWS_TILE];
  for (int64_t o = begin; o < end; ++o)
    for (int64_t r = 0; r < rows; r += ROWS_TILE) {
      int64_t count = rows - r < ROWS_TILE ? rows - r : ROWS_TILE;
      tile_float(x + r * m->in, count, m, o, sums);
      for (int64_t t = 0; t < count; ++t)
        y[(r + t) * y_stride + o] = sums[t] + (bias ? bias[o] : 0.0f);
    }
}

TARGET void ms_linear_sparse_q8_avx2(const float *x, int64_t rows,
                                     const ms_sparse_matrix *m, int64_t begin,
                                     int64_t end, const float *bias, float *y,
                                     int64_t y_stride) {
  float sums[ROWS_TILE];
  for (int64_t o = begin; o < end; ++o) {
    uint16_t half;
    __builtin_memcpy(&half, m->scales + 2 * o, sizeof half);
    float scale = _cvtsh_ss(half);
    for (int64_t r = 0; r < rows; r += ROWS_TILE) {
      int64_t count = rows - r < ROWS_TILE ? rows - r : ROWS_TILE;
      tile_int8_t(x + r * m->in, count, m, o, sums);
      for (int64_t t = 0; t < count; ++t)
        y[(r + t) * y_stride + o] = scale * sums[t] + (bias ? bias[o] : 0.0f);
    }
  }
}
