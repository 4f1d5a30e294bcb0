/*===- kernels.c - the matrix and attention kernels of runtime.h -----------===*
 *
 * Part of the Microscale project.
 *
 * The two hot loops generated code calls. Both split their work over
 * output channels or heads, never over a reduction, so every output is
 * computed by the same sequence of operations whatever the thread count:
 * results are bit-identical for any --threads. The linear layer's inner
 * loop comes from the widest ISA kernel the CPU runs (kernels.h).
 * Freestanding: threads come from ms_parallel_for (parallel.h), which the
 * hosted runtime implements with a thread pool and firmware inline.
 *
 *===----------------------------------------------------------------------===*/

#include "kernels/kernels.h"

#include "core/builtins.h"
#include "kernels/parallel.h"
#include "microscale/runtime.h"

const ms_kernel_isa ms_kernel_isas[] = {
#if defined(__x86_64__)
    {"avx512f",
     ms_x86_64_has_avx512f,
     ms_linear_channel_avx512f,
     {[2] = ms_linear_quant_q_avx512f,
      [3] = ms_linear_quant_q_avx512f,
      [4] = ms_linear_quant_q4_avx512f,
      [5] = ms_linear_quant_q_avx512f,
      [6] = ms_linear_quant_q_avx512f,
      [7] = ms_linear_quant_q_avx512f,
      [8] = ms_linear_quant_q8_avx512f},
     16,
     /* The AVX2 kernels: 512-bit byte products need AVX-512BW. */
     {[2] = {ms_linear_quant_a8_q_avx2, 0},
      [3] = {ms_linear_quant_a8_q_avx2, 0},
      [4] = {ms_linear_quant_a8_q4_avx2, 1},
      [5] = {ms_linear_quant_a8_q_avx2, 0},
      [6] = {ms_linear_quant_a8_q_avx2, 0},
      [7] = {ms_linear_quant_a8_q_avx2, 0},
      [8] = {ms_linear_quant_a8_q8_avx2, 0}},
     ms_quantize_activations_avx2,
     ms_attention_heads_avx2_fma,
     {ms_linear_sparse_f32_avx2, ms_linear_sparse_q8_avx2}},
    {"avx2+fma",
     ms_x86_64_has_avx2_fma,
     ms_linear_channel_avx2_fma,
     {[2] = ms_linear_quant_q_avx2_fma,
      [3] = ms_linear_quant_q_avx2_fma,
      [4] = ms_linear_quant_q4_avx2_fma,
      [5] = ms_linear_quant_q_avx2_fma,
      [6] = ms_linear_quant_q_avx2_fma,
      [7] = ms_linear_quant_q_avx2_fma,
      [8] = ms_linear_quant_q8_avx2_fma},
     8,
     {[2] = {ms_linear_quant_a8_q_avx2, 0},
      [3] = {ms_linear_quant_a8_q_avx2, 0},
      [4] = {ms_linear_quant_a8_q4_avx2, 1},
      [5] = {ms_linear_quant_a8_q_avx2, 0},
      [6] = {ms_linear_quant_a8_q_avx2, 0},
      [7] = {ms_linear_quant_a8_q_avx2, 0},
      [8] = {ms_linear_quant_a8_q8_avx2, 0}},
     ms_quantize_activations_avx2,
     ms_attention_heads_avx2_fma,
     {ms_linear_sparse_f32_avx2, ms_linear_sparse_q8_avx2}},
#endif
    {"portable", 0, ms_linear_channel_portable, {0}, 1, {{0}}, 0, 0, {0}},
};
const int ms_kernel_isa_count =
    (int)(sizeof ms_kernel_isas / sizeof ms_kernel_isas[0]);

static const ms_kernel_isa *chosen_isa;

const ms_kernel_isa *ms_kernels_current_isa(void) {
  if (!chosen_isa) {
    int i = 0;
    while (ms_kernel_isas[i].available && !ms_kernel_isas[i].available())
      ++i;
    chosen_isa = &ms_kernel_isas[i];
  }
  return chosen_isa;
}

void ms_kernels_use_isa(const ms_kernel_isa *isa) { chosen_isa = isa; }

typedef struct {
  const float *x, *w, *bias;
  float *y;
  int64_t rows, in, out;
  /* Chosen by the calling thread, so workers never race on the choice. */
  ms_linear_channel_fn channel;
} linear_job;

static void linear_range(void *context, int64_t begin, int64_t end) {
  const linear_job *job = context;
  /* Output channel outer, token inner: a weight row is read from memory
   * once per call and reused by every token of a prefill. */
  for (int64_t o = begin; o < end; ++o)
    job->channel(job->x, job->rows, job->in, job->w + o * job->in,
                 job->bias ? job->bias[o] : 0.0f, job->y + o, job->out);
}

void ms_linear_f32(const float *x, int64_t rows, int64_t in, const float *w,
                   int64_t out, const float *bias, float *y) {
  linear_job job = {x,    w,  bias, y,
                    rows, in, out,  ms_kernels_current_isa()->linear_channel};
  /* Small products are not worth waking the pool. */
  if (rows * in * out < 32 * 1024) {
    linear_range(&job, 0, out);
    return;
  }
  ms_parallel_for(out, linear_range, &job);
}

/* The portable attention; an ISA with its own (ms_kernel_isa.attention)
 * compiles the same code for its instructions. */
#define MS_ATTENTION_TARGET
#define MS_ATTENTION_NAME ms_attention_heads_portable
#include "kernels/attention.inc"

void ms_attention_f32(const float *q, const float *k_cache,
                      const float *v_cache, int64_t n, int64_t pos,
                      int64_t num_heads, int64_t num_kv_heads, int64_t head_dim,
                      float scale, float *out, float *scratch) {
  ms_attention_job job = {q,   k_cache,   v_cache,      out,      scratch, n,
                          pos, num_heads, num_kv_heads, head_dim, scale};
  ms_range_fn heads = ms_kernels_current_isa()->attention;
  if (!heads)
    heads = ms_attention_heads_portable;
  if (n * (pos + n) * num_heads * head_dim < 16 * 1024) {
    heads(&job, 0, num_heads);
    return;
  }
  ms_parallel_for(num_heads, heads, &job);
}
