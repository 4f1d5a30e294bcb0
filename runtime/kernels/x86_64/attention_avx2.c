/*===- attention_avx2.c - causal attention for AVX2 + FMA ------------------===*
 *
 * Part of the Microscale project.
 *
 * ms_attention_f32's heads with 8-lane vectors, for decode as much as for
 * prefill: a decode step of a small model spends a fifth or more of its
 * time here once the matrices are quantized. Three passes per query:
 *
 *  - scores of four keys at a time, each an 8-lane fused multiply-add
 *    chain over the head (the last chunk masked) reduced by one fixed
 *    tree, so a score is the same bits whichever three keys share its
 *    pass; a pass short of keys repeats the last one;
 *  - exponentials of (score - max) eight at a time with a polynomial
 *    (Cephes' expf, within 2 ulp), summed lane-wise;
 *  - the weighted sum of values with up to eight vectors of the head
 *    held in registers across positions.
 *
 * Every output is computed by the same operations whatever the thread
 * count or the number of queries per call.
 *
 *===----------------------------------------------------------------------===*/

#include "core/builtins.h"
#include "kernels/kernels.h"

#include <immintrin.h>

#define TARGET __attribute__((target("avx2,fma")))
#define INLINE TARGET static inline __attribute__((always_inline))

enum {
  LANES = 8,
  /* Keys per scoring pass; vectors of the head per weighted-sum pass. */
  KEYS = 4,
  HEAD_VECTORS = 8,
};

/* Lanes [0, n) set. */
INLINE __m256i lanes_below(int64_t n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* The query times four keys: lane i of the result is query . key[i]. */
INLINE __m128 dot_four(const float *query, const float *const key[KEYS],
                       int64_t full, __m256i tail, int has_tail) {
  __m256 acc[KEYS];
  for (int i = 0; i < KEYS; ++i)
    acc[i] = _mm256_setzero_ps();
  for (int64_t d = 0; d < full; d += LANES) {
    __m256 q = _mm256_loadu_ps(query + d);
    for (int i = 0; i < KEYS; ++i)
      acc[i] = _mm256_fmadd_ps(q, _mm256_loadu_ps(key[i] + d), acc[i]);
  }
  if (has_tail) {
    __m256 q = _mm256_maskload_ps(query + full, tail);
    for (int i = 0; i < KEYS; ++i)
      acc[i] =
          _mm256_fmadd_ps(q, _mm256_maskload_ps(key[i] + full, tail), acc[i]);
  }
  /* Lane i: ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7)) of acc[i]. */
  __m256 pairs = _mm256_hadd_ps(_mm256_hadd_ps(acc[0], acc[1]),
                                _mm256_hadd_ps(acc[2], acc[3]));
  return _mm_add_ps(_mm256_castps256_ps128(pairs),
                    _mm256_extractf128_ps(pairs, 1));
}

/* e^x lane by lane (Cephes' expf): x = n ln 2 + r with |r| <= ln 2 / 2,
 * a degree-7 polynomial for e^r, times 2^n. Below -88.38 the result is 0;
 * NaNs stay NaNs. */
INLINE __m256 exp8(__m256 x) {
  x = _mm256_min_ps(_mm256_set1_ps(88.3762626647949f), x);
  x = _mm256_max_ps(_mm256_set1_ps(-88.3762626647949f), x);
  __m256 n = _mm256_floor_ps(_mm256_fmadd_ps(
      x, _mm256_set1_ps(1.44269504088896341f), _mm256_set1_ps(0.5f)));
  x = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  x = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), x);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(x, x),
                      _mm256_add_ps(x, _mm256_set1_ps(1.0f)));
  __m256i exponent = _mm256_slli_epi32(
      _mm256_add_epi32(_mm256_cvttps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(exponent));
}

/* scores[p] = scale * (query . key p) for p < visible; returns their
 * maximum. */
INLINE float score_keys(const ms_attention_job *job, const float *query,
                        const float *keys, int64_t visible, float *scores) {
  int64_t kv_features = job->kv_heads * job->head_dim;
  int64_t full = job->head_dim / LANES * LANES;
  __m256i tail = lanes_below(job->head_dim - full);
  int has_tail = full < job->head_dim;
  __m128 scale = _mm_set1_ps(job->scale);
  __m128 max = _mm_set1_ps(-MS_INFINITY);
  for (int64_t p = 0; p < visible; p += KEYS) {
    const float *key[KEYS];
    for (int i = 0; i < KEYS; ++i)
      key[i] = keys + (p + i < visible ? p + i : visible - 1) * kv_features;
    __m128 four = _mm_mul_ps(dot_four(query, key, full, tail, has_tail), scale);
    /* Repeated keys repeat a score: harmless to the maximum. */
    max = _mm_max_ps(four, max);
    if (p + KEYS <= visible) {
      _mm_storeu_ps(scores + p, four);
    } else {
      float spill[KEYS];
      _mm_storeu_ps(spill, four);
      for (int64_t i = 0; p + i < visible; ++i)
        scores[p + i] = spill[i];
    }
  }
  max = _mm_max_ps(max, _mm_movehl_ps(max, max));
  return _mm_cvtss_f32(_mm_max_ss(max, _mm_movehdup_ps(max)));
}

/* scores[p] = e^(scores[p] - max) for p < visible; returns their sum. */
INLINE float exponentiate(float *scores, int64_t visible, float max) {
  __m256 shift = _mm256_set1_ps(max), total = _mm256_setzero_ps();
  for (int64_t p = 0; p < visible; p += LANES) {
    __m256i live = lanes_below(visible - p);
    __m256 e = exp8(_mm256_sub_ps(_mm256_maskload_ps(scores + p, live), shift));
    e = _mm256_and_ps(e, _mm256_castsi256_ps(live));
    _mm256_maskstore_ps(scores + p, live, e);
    total = _mm256_add_ps(total, e);
  }
  __m128 four = _mm_add_ps(_mm256_castps256_ps128(total),
                           _mm256_extractf128_ps(total, 1));
  four = _mm_add_ps(four, _mm_movehl_ps(four, four));
  return _mm_cvtss_f32(_mm_add_ss(four, _mm_movehdup_ps(four)));
}

/* dst[0 .. 8 * VECTORS) (the last vector masked by `last`) = the sum over
 * p < visible of weight p times values[p]; a constant VECTORS keeps the
 * accumulators in registers. */
INLINE void weigh_values(const ms_attention_job *job, const float *values,
                         const float *scores, int64_t visible, float inv_total,
                         const int VECTORS, __m256i last, float *dst) {
  int64_t kv_features = job->kv_heads * job->head_dim;
  __m256 acc[HEAD_VECTORS];
  for (int j = 0; j < VECTORS; ++j)
    acc[j] = _mm256_setzero_ps();
  for (int64_t p = 0; p < visible; ++p) {
    const float *value = values + p * kv_features;
    __m256 weight = _mm256_set1_ps(scores[p] * inv_total);
    for (int j = 0; j + 1 < VECTORS; ++j)
      acc[j] =
          _mm256_fmadd_ps(weight, _mm256_loadu_ps(value + LANES * j), acc[j]);
    acc[VECTORS - 1] = _mm256_fmadd_ps(
        weight, _mm256_maskload_ps(value + LANES * (VECTORS - 1), last),
        acc[VECTORS - 1]);
  }
  for (int j = 0; j + 1 < VECTORS; ++j)
    _mm256_storeu_ps(dst + LANES * j, acc[j]);
  _mm256_maskstore_ps(dst + LANES * (VECTORS - 1), last, acc[VECTORS - 1]);
}

/* The weighted sum over the whole head, in passes of up to HEAD_VECTORS
 * vectors. */
INLINE void weighted_sum(const ms_attention_job *job, const float *values,
                         const float *scores, int64_t visible, float inv_total,
                         float *dst) {
  for (int64_t d = 0; d < job->head_dim; d += HEAD_VECTORS * LANES) {
    int64_t left = job->head_dim - d;
    int64_t vectors = (left + LANES - 1) / LANES;
    if (vectors > HEAD_VECTORS)
      vectors = HEAD_VECTORS;
    __m256i last = lanes_below(left - LANES * (vectors - 1));
    const float *v = values + d;
    switch (vectors) {
#define CASE(n)                                                                \
  case n:                                                                      \
    weigh_values(job, v, scores, visible, inv_total, n, last, dst + d);        \
    break;
      CASE(1) CASE(2) CASE(3) CASE(4) CASE(5) CASE(6) CASE(7) CASE(8)
#undef CASE
    }
  }
}

TARGET void ms_attention_heads_avx2_fma(void *context, int64_t begin,
                                        int64_t end) {
  const ms_attention_job *job = context;
  int64_t features = job->heads * job->head_dim;
  int64_t group = job->heads / job->kv_heads;
  int64_t positions = job->pos + job->n;
  for (int64_t h = begin; h < end; ++h) {
    float *scores = job->scratch + h * positions;
    int64_t kv_offset = (h / group) * job->head_dim;
    for (int64_t r = 0; r < job->n; ++r) {
      const float *query = job->q + r * features + h * job->head_dim;
      int64_t visible = job->pos + r + 1; /* causal */
      float max = score_keys(job, query, job->k + kv_offset, visible, scores);
      float total = exponentiate(scores, visible, max);
      weighted_sum(job, job->v + kv_offset, scores, visible, 1.0f / total,
                   job->out + r * features + h * job->head_dim);
    }
  }
}
