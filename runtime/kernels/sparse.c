/*===- sparse.c - linears of pruned weights stored without zeros -----------===*
 *
 * Part of the Microscale project.
 *
 * The kernels of kernels.def for `#llm.sparse<..., format = bitmask>`
 * weights: the entry points generated code calls, which split output
 * channels over the thread pool as ms_linear_f32 does, and the portable
 * kernels. An ISA's vector kernels (ms_kernel_isa.linear_sparse) take over
 * where it has them. Each output channel is computed by the same
 * sequential code whatever the thread count and whatever the number of
 * tokens in the call. Freestanding, like the rest of kernels/.
 *
 *===----------------------------------------------------------------------===*/

#include "kernels/kernels.h"

#include "kernels/parallel.h"
#include "microscale/runtime.h"

/* The sum of row o's kept values times x, walking its mask bits in input
 * order; T is float or int8_t (codes, summed unscaled). */
#define SPARSE_DOT(T)                                                          \
  static float sparse_dot_##T(const float *x, const ms_sparse_matrix *m,       \
                              int64_t o) {                                     \
    const uint8_t *masks = m->masks + o * m->mask_row_bytes;                   \
    const T *v = (const T *)m->values + m->offsets[o];                         \
    float sum = 0.0f;                                                          \
    for (int64_t b = 0; b < m->mask_row_bytes; ++b)                            \
      for (unsigned mask = masks[b]; mask; mask &= mask - 1)                   \
        sum += (float)*v++ * x[b * 8 + __builtin_ctz(mask)];                   \
    return sum;                                                                \
  }
SPARSE_DOT(float)
SPARSE_DOT(int8_t)
#undef SPARSE_DOT

/* Row o's scale (8-bit codes only). */
static float sparse_scale(const ms_sparse_matrix *m, int64_t o) {
  uint16_t half;
  __builtin_memcpy(&half, m->scales + 2 * o, sizeof half);
  return ms_half_to_float(half);
}

void ms_linear_sparse_f32_portable(const float *x, int64_t rows,
                                   const ms_sparse_matrix *m, int64_t begin,
                                   int64_t end, const float *bias, float *y,
                                   int64_t y_stride) {
  for (int64_t o = begin; o < end; ++o)
    for (int64_t r = 0; r < rows; ++r)
      y[r * y_stride + o] =
          sparse_dot_float(x + r * m->in, m, o) + (bias ? bias[o] : 0.0f);
}

void ms_linear_sparse_q8_portable(const float *x, int64_t rows,
                                  const ms_sparse_matrix *m, int64_t begin,
                                  int64_t end, const float *bias, float *y,
                                  int64_t y_stride) {
  for (int64_t o = begin; o < end; ++o) {
    float scale = sparse_scale(m, o);
    for (int64_t r = 0; r < rows; ++r)
      y[r * y_stride + o] = scale * sparse_dot_int8_t(x + r * m->in, m, o) +
                            (bias ? bias[o] : 0.0f);
  }
}

typedef struct {
  const float *x, *bias;
  float *y;
  int64_t rows;
  ms_sparse_matrix matrix;
  /* Chosen by the calling thread, so workers never race on the choice. */
  ms_linear_sparse_fn kernel;
} linear_sparse_job;

static void linear_sparse_range(void *context, int64_t begin, int64_t end) {
  const linear_sparse_job *job = context;
  job->kernel(job->x, job->rows, &job->matrix, begin, end, job->bias, job->y,
              job->matrix.out);
}

static void linear_sparse(const float *x, int64_t rows, int64_t in,
                          const void *values, const uint8_t *masks,
                          const int32_t *offsets, const uint8_t *scales,
                          int64_t out, const float *bias, float *y) {
  if (rows <= 0 || out <= 0)
    return;
  linear_sparse_job job = {.x = x, .bias = bias, .y = y, .rows = rows};
  job.matrix =
      (ms_sparse_matrix){values, masks, offsets, scales, in, out, (in + 7) / 8};
  int codes = scales != 0;
  job.kernel = ms_kernels_current_isa()->linear_sparse[codes];
  if (!job.kernel)
    job.kernel =
        codes ? ms_linear_sparse_q8_portable : ms_linear_sparse_f32_portable;
  /* Small products are not worth waking the pool. */
  if (rows * in * out < 32 * 1024) {
    linear_sparse_range(&job, 0, out);
    return;
  }
  ms_parallel_for(out, linear_sparse_range, &job);
}

void ms_linear_sparse_f32(const float *x, int64_t rows, int64_t in,
                          const float *w, const uint8_t *indices,
                          const int32_t *offsets, int64_t out,
                          const float *bias, float *y) {
  linear_sparse(x, rows, in, w, indices, offsets, 0, out, bias, y);
}

void ms_linear_sparse_q8_f32(const float *x, int64_t rows, int64_t in,
                             const int8_t *w, const uint8_t *indices,
                             const int32_t *offsets, const uint8_t *scales,
                             int64_t out, const float *bias, float *y) {
  if (!scales)
    return;
  linear_sparse(x, rows, in, w, indices, offsets, scales, out, bias, y);
}
