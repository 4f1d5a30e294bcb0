/*===- avx2_fma.c - linear kernel for AVX2 + FMA ---------------------------===*
 *
 * Part of the Microscale project.
 *
 * Every row is reduced in the same order (two 8-lane accumulators, then a
 * fixed horizontal sum, then the scalar tail), whether it is computed alone
 * or with three others, so prefill chunking does not change results. Built
 * with target attributes, so the rest of the runtime keeps the baseline
 * ISA and this code runs only where the CPU has it.
 *
 *===----------------------------------------------------------------------===*/

#include "kernels/kernels.h"

#include <immintrin.h>

#define MS_AVX2_FMA __attribute__((target("avx2,fma")))

MS_AVX2_FMA static inline float horizontal_sum(__m256 a, __m256 b) {
  __m256 s = _mm256_add_ps(a, b);
  __m128 q = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
  q = _mm_add_ps(q, _mm_movehl_ps(q, q));
  q = _mm_add_ss(q, _mm_movehdup_ps(q));
  return _mm_cvtss_f32(q);
}

MS_AVX2_FMA static float dot(const float *a, const float *b, int64_t n) {
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
MS_AVX2_FMA static void dot4(const float *x, int64_t stride, const float *w,
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

MS_AVX2_FMA void ms_linear_channel_avx2_fma(const float *x, int64_t rows,
                                            int64_t in, const float *w,
                                            float bias, float *y,
                                            int64_t y_stride) {
  int64_t r = 0;
  float four[4];
  for (; r + 4 <= rows; r += 4) {
    dot4(x + r * in, in, w, in, four);
    for (int k = 0; k < 4; ++k)
      y[(r + k) * y_stride] = four[k] + bias;
  }
  for (; r < rows; ++r)
    y[r * y_stride] = dot(x + r * in, w, in) + bias;
}
