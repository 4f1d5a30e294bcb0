/*===- kernels.c - matrix and attention microkernels -----------------------===*
 *
 * Part of the Microscale project.
 *
 * The two hot loops generated code calls (see runtime.h). Both split their
 * work over output channels or heads, never over a reduction, so every
 * output is computed by the same sequence of operations whatever the
 * thread count: results are bit-identical for any --threads.
 *
 *===----------------------------------------------------------------------===*/

#include "microscale/runtime.h"
#include "threads.h"

#include <math.h>

/* Dot product with eight fixed partial sums: vectorizable without
 * reassociating, and the same order on every call. */
static inline float dot(const float *a, const float *b, int64_t n) {
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

#if defined(__x86_64__)
#include <immintrin.h>

/* AVX2 + FMA and AVX-512, chosen at run time. Every row is reduced in the
 * same order
 * (two 8-lane accumulators, then a fixed horizontal sum), whether it is
 * computed alone or with three others, so prefill chunking does not change
 * results. */
#define MS_AVX2 __attribute__((target("avx2,fma")))

MS_AVX2 static inline float horizontal_sum(__m256 a, __m256 b) {
  __m256 s = _mm256_add_ps(a, b);
  __m128 q = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
  q = _mm_add_ps(q, _mm_movehl_ps(q, q));
  q = _mm_add_ss(q, _mm_movehdup_ps(q));
  return _mm_cvtss_f32(q);
}

MS_AVX2 static float dot_avx2(const float *a, const float *b, int64_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8),
                         s1);
  }
  float tail = 0.0f;
  for (; i < n; ++i)
    tail += a[i] * b[i];
  return horizontal_sum(s0, s1) + tail;
}

/* Four rows of x against one weight row: the weight is loaded once. */
MS_AVX2 static void dot4_avx2(const float *x, int64_t stride, const float *w,
                              int64_t n, float *out) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0,
         d0 = a0, d1 = a0;
  const float *x0 = x, *x1 = x + stride, *x2 = x + 2 * stride,
              *x3 = x + 3 * stride;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256 w0 = _mm256_loadu_ps(w + i), w1 = _mm256_loadu_ps(w + i + 8);
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x0 + i), w0, a0);
    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(x0 + i + 8), w1, a1);
    b0 = _mm256_fmadd_ps(_mm256_loadu_ps(x1 + i), w0, b0);
    b1 = _mm256_fmadd_ps(_mm256_loadu_ps(x1 + i + 8), w1, b1);
    c0 = _mm256_fmadd_ps(_mm256_loadu_ps(x2 + i), w0, c0);
    c1 = _mm256_fmadd_ps(_mm256_loadu_ps(x2 + i + 8), w1, c1);
    d0 = _mm256_fmadd_ps(_mm256_loadu_ps(x3 + i), w0, d0);
    d1 = _mm256_fmadd_ps(_mm256_loadu_ps(x3 + i + 8), w1, d1);
  }
  float t[4] = {0, 0, 0, 0};
  for (; i < n; ++i) {
    t[0] += x0[i] * w[i];
    t[1] += x1[i] * w[i];
    t[2] += x2[i] * w[i];
    t[3] += x3[i] * w[i];
  }
  out[0] = horizontal_sum(a0, a1) + t[0];
  out[1] = horizontal_sum(b0, b1) + t[1];
  out[2] = horizontal_sum(c0, c1) + t[2];
  out[3] = horizontal_sum(d0, d1) + t[3];
}

/* AVX-512F: the same two-accumulator order, 16 lanes. */
#define MS_AVX512 __attribute__((target("avx512f")))

MS_AVX512 static float dot_avx512(const float *a, const float *b, int64_t n) {
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16),
                         _mm512_loadu_ps(b + i + 16), s1);
  }
  float tail = 0.0f;
  for (; i < n; ++i)
    tail += a[i] * b[i];
  return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1)) + tail;
}

MS_AVX512 static void dot4_avx512(const float *x, int64_t stride,
                                  const float *w, int64_t n, float *out) {
  __m512 acc[8];
  for (int k = 0; k < 8; ++k)
    acc[k] = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m512 w0 = _mm512_loadu_ps(w + i), w1 = _mm512_loadu_ps(w + i + 16);
    for (int r = 0; r < 4; ++r) {
      const float *xr = x + r * stride + i;
      acc[2 * r] = _mm512_fmadd_ps(_mm512_loadu_ps(xr), w0, acc[2 * r]);
      acc[2 * r + 1] =
          _mm512_fmadd_ps(_mm512_loadu_ps(xr + 16), w1, acc[2 * r + 1]);
    }
  }
  for (int r = 0; r < 4; ++r) {
    const float *xr = x + r * stride;
    float tail = 0.0f;
    for (int64_t j = i; j < n; ++j)
      tail += xr[j] * w[j];
    out[r] =
        _mm512_reduce_add_ps(_mm512_add_ps(acc[2 * r], acc[2 * r + 1])) + tail;
  }
}

enum { CPU_BASELINE, CPU_AVX2, CPU_AVX512 };

/* The widest vector kernels this CPU and OS support, asked once. */
static int cpu_level(void) {
  static int cached = -1;
  if (cached < 0) {
    unsigned a, b, c, d;
    __asm__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
    int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1;
    cached = CPU_BASELINE;
    if (osxsave) {
      unsigned lo, hi;
      __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
      int ymm = (lo & 6) == 6;       /* the OS saves XMM and YMM state */
      int zmm = (lo & 0xE6) == 0xE6; /* ... and opmask and ZMM state */
      __asm__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(7), "c"(0));
      int avx2 = (b >> 5) & 1, avx512f = (b >> 16) & 1;
      if (fma && avx2 && ymm)
        cached = CPU_AVX2;
      if (cached == CPU_AVX2 && avx512f && zmm)
        cached = CPU_AVX512;
    }
  }
  return cached;
}
#endif

typedef struct {
  const float *x, *w, *bias;
  float *y;
  int64_t rows, in, out;
} linear_job;

static void linear_range(void *context, int64_t begin, int64_t end) {
  const linear_job *job = context;
  int64_t in = job->in, out = job->out;
  /* Output channel outer, token inner: a weight row is read from memory
   * once per call and reused by every token of a prefill. */
  for (int64_t o = begin; o < end; ++o) {
    const float *w = job->w + o * in;
    float b = job->bias ? job->bias[o] : 0.0f;
    int64_t r = 0;
#if defined(__x86_64__)
    int level = cpu_level();
    if (level != CPU_BASELINE) {
      float four[4];
      for (; r + 4 <= job->rows; r += 4) {
        if (level == CPU_AVX512)
          dot4_avx512(job->x + r * in, in, w, in, four);
        else
          dot4_avx2(job->x + r * in, in, w, in, four);
        for (int k = 0; k < 4; ++k)
          job->y[(r + k) * out + o] = four[k] + b;
      }
      for (; r < job->rows; ++r)
        job->y[r * out + o] =
            (level == CPU_AVX512 ? dot_avx512(job->x + r * in, w, in)
                                 : dot_avx2(job->x + r * in, w, in)) +
            b;
      continue;
    }
#endif
    for (; r < job->rows; ++r)
      job->y[r * out + o] = dot(job->x + r * in, w, in) + b;
  }
}

void ms_linear_f32(const float *x, int64_t rows, int64_t in, const float *w,
                   int64_t out, const float *bias, float *y) {
  linear_job job = {x, w, bias, y, rows, in, out};
  /* Small products are not worth waking the pool. */
  if (rows * in * out < 32 * 1024) {
    linear_range(&job, 0, out);
    return;
  }
  ms_parallel_for(out, linear_range, &job);
}

typedef struct {
  const float *q, *k, *v;
  float *out, *scratch;
  int64_t n, pos, heads, kv_heads, head_dim;
  float scale;
} attention_job;

static void attention_range(void *context, int64_t begin, int64_t end) {
  const attention_job *job = context;
  int64_t features = job->heads * job->head_dim;
  int64_t kv_features = job->kv_heads * job->head_dim;
  int64_t group = job->heads / job->kv_heads;
  int64_t positions = job->pos + job->n;
  for (int64_t h = begin; h < end; ++h) {
    float *scores = job->scratch + h * positions;
    int64_t kv_offset = (h / group) * job->head_dim;
    for (int64_t r = 0; r < job->n; ++r) {
      const float *query = job->q + r * features + h * job->head_dim;
      int64_t visible = job->pos + r + 1; /* causal */
      float max_score = -INFINITY;
      for (int64_t p = 0; p < visible; ++p) {
        scores[p] =
            dot(query, job->k + p * kv_features + kv_offset, job->head_dim) *
            job->scale;
        if (scores[p] > max_score)
          max_score = scores[p];
      }
      float total = 0.0f;
      for (int64_t p = 0; p < visible; ++p) {
        scores[p] = expf(scores[p] - max_score);
        total += scores[p];
      }
      float inv_total = 1.0f / total;
      float *dst = job->out + r * features + h * job->head_dim;
      for (int64_t d = 0; d < job->head_dim; ++d)
        dst[d] = 0.0f;
      for (int64_t p = 0; p < visible; ++p) {
        const float *value = job->v + p * kv_features + kv_offset;
        float weight = scores[p] * inv_total;
        for (int64_t d = 0; d < job->head_dim; ++d)
          dst[d] += weight * value[d];
      }
    }
  }
}

void ms_attention_f32(const float *q, const float *k_cache,
                      const float *v_cache, int64_t n, int64_t pos,
                      int64_t num_heads, int64_t num_kv_heads, int64_t head_dim,
                      float scale, float *out, float *scratch) {
  attention_job job = {q,   k_cache,   v_cache,      out,      scratch, n,
                       pos, num_heads, num_kv_heads, head_dim, scale};
  if (n * (pos + n) * num_heads * head_dim < 16 * 1024) {
    attention_range(&job, 0, num_heads);
    return;
  }
  ms_parallel_for(num_heads, attention_range, &job);
}
