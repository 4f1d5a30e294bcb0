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

typedef struct {
  const float *x, *w, *bias;
  float *y;
  int64_t rows, in, out;
} linear_job;

static void linear_range(void *context, int64_t begin, int64_t end) {
  const linear_job *job = context;
  /* Output channel outer, token inner: a weight row is read from memory
   * once per call and reused by every token of a prefill. */
  for (int64_t o = begin; o < end; ++o) {
    const float *w = job->w + o * job->in;
    float b = job->bias ? job->bias[o] : 0.0f;
    for (int64_t r = 0; r < job->rows; ++r)
      job->y[r * job->out + o] = dot(job->x + r * job->in, w, job->in) + b;
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
        scores[p] = dot(query, job->k + p * kv_features + kv_offset,
                        job->head_dim) *
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
                      int64_t num_heads, int64_t num_kv_heads,
                      int64_t head_dim, float scale, float *out,
                      float *scratch) {
  attention_job job = {q,     k_cache, v_cache,      out,      scratch,
                       n,     pos,     num_heads,    num_kv_heads,
                       head_dim, scale};
  if (n * (pos + n) * num_heads * head_dim < 16 * 1024) {
    attention_range(&job, 0, num_heads);
    return;
  }
  ms_parallel_for(num_heads, attention_range, &job);
}
