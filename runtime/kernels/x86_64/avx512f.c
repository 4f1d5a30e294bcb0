/*===- avx512f.c - linear kernel for AVX-512F ------------------------------===*
 *
 * Part of the Microscale project.
 *
 * The order of avx2_fma.c with 16 lanes: two accumulators, a fixed
 * reduction, the scalar tail; the same for a row alone or among four.
 *
 *===----------------------------------------------------------------------===*/

#include "kernels/kernels.h"

#include <immintrin.h>

#define MS_AVX512F __attribute__((target("avx512f")))

MS_AVX512F static float dot(const float *a, const float *b, int64_t n) {
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

/* Four rows of x against one weight row: the weight is loaded once. */
MS_AVX512F static void dot4(const float *x, int64_t stride, const float *w,
                            int64_t n, float *out) {
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

MS_AVX512F void ms_linear_channel_avx512f(const float *x, int64_t rows,
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
