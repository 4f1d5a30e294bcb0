/*===- quant_a8.c - quantized linears with 8-bit activations ---------------===*
 *
 * Part of the Microscale project.
 *
 * The `_a8` kernels of kernels.def: the calling thread quantizes each row
 * of x once into the caller's scratch (microscale/quant_activations.h),
 * then the output channels are split over the thread pool as quant.c
 * splits them, each running integer dot products of weight codes and
 * activation codes per block, times the block's and the group's scales.
 * The vector kernels of an ISA (ms_kernel_isa.linear_quant_a8) take over
 * the widths they have when the groups start on activation blocks; the
 * portable kernel here runs every width and group. Every output is
 * computed by the same sequential code whatever the thread count or the
 * number of rows, so results depend on neither. Freestanding, like the
 * rest of kernels/.
 *
 *===----------------------------------------------------------------------===*/

#include "kernels/kernels.h"

#include "kernels/parallel.h"
#include "microscale/quant_activations.h"
#include "microscale/runtime.h"

/* Where feature i of a block goes in nibble order: even features first. */
static int64_t nibble_position(int64_t i) { return (i & 1) * 16 + (i >> 1); }

void ms_quantize_activations_portable(const float *x, int64_t rows, int64_t in,
                                      int nibble_order,
                                      const ms_quant_activations *a) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t b = 0; b < a->blocks; ++b) {
      int64_t begin = b * MS_ACT_BLOCK;
      int64_t n = in - begin < MS_ACT_BLOCK ? in - begin : MS_ACT_BLOCK;
      int8_t codes[MS_ACT_BLOCK];
      for (int64_t i = n; i < MS_ACT_BLOCK; ++i)
        codes[i] = 0;
      int64_t index = r * a->blocks + b;
      a->scales[index] =
          ms_quantize_activation_block(x + r * in + begin, n, codes);
      int8_t *dst = a->codes + index * MS_ACT_BLOCK;
      int32_t sum = 0;
      for (int64_t i = 0; i < MS_ACT_BLOCK; ++i) {
        dst[nibble_order ? nibble_position(i) : i] = codes[i];
        sum += codes[i];
      }
      a->sums[index] = sum;
    }
}

/* A field as the code it stands for: signed when symmetric. */
static int32_t code_value(uint32_t field, int bits, int symmetric) {
  if (!symmetric)
    return (int32_t)field;
  uint32_t sign = 1u << (bits - 1);
  return (int32_t)(field ^ sign) - (int32_t)sign;
}

/* One output of row r: per group, per block (or the part of a block in the
 * group), the exact integer sum of (code - zero point) * activation code,
 * times the block's scale, added in float; then times the group's scale. */
static float quant_a8_dot(const ms_quant_activations *a, int64_t r,
                          const ms_quant_matrix *m, int64_t o) {
  const uint8_t *row = m->w + o * m->row_bytes;
  const float *block_scales = a->scales + r * a->blocks;
  const int8_t *q = a->codes + r * a->blocks * MS_ACT_BLOCK;
  const int symmetric = m->zero_points == 0;
  float sum = 0.0f;
  for (int64_t g = 0; g < m->groups; ++g) {
    int64_t begin = g * m->group;
    int64_t end = begin + m->group < m->in ? begin + m->group : m->in;
    int32_t zero_point = symmetric ? 0 : ms_quant_zero_point(m, o, g);
    float group_sum = 0.0f;
    for (int64_t i = begin; i < end;) {
      int64_t b = i / MS_ACT_BLOCK;
      int64_t block_end =
          (b + 1) * MS_ACT_BLOCK < end ? (b + 1) * MS_ACT_BLOCK : end;
      int32_t dot = 0;
      for (; i < block_end; ++i)
        dot += (code_value(ms_load_field(row, m->bits, i), m->bits, symmetric) -
                zero_point) *
               q[i];
      group_sum += block_scales[b] * (float)dot;
    }
    sum += ms_quant_scale(m, o, g) * group_sum;
  }
  return sum;
}

void ms_linear_quant_a8_portable(const ms_quant_activations *a, int64_t rows,
                                 const ms_quant_matrix *m, int64_t begin,
                                 int64_t end, const float *bias, float *y,
                                 int64_t y_stride) {
  for (int64_t o = begin; o < end; ++o)
    for (int64_t r = 0; r < rows; ++r)
      y[r * y_stride + o] = quant_a8_dot(a, r, m, o) + (bias ? bias[o] : 0.0f);
}

typedef struct {
  ms_quant_activations activations;
  const float *bias;
  float *y;
  int64_t rows, out;
  ms_quant_matrix matrix;
  /* Chosen by the calling thread, so workers never race on the choice. */
  ms_linear_quant_a8_fn kernel;
} linear_quant_a8_job;

static void linear_quant_a8_range(void *context, int64_t begin, int64_t end) {
  const linear_quant_a8_job *job = context;
  job->kernel(&job->activations, job->rows, &job->matrix, begin, end, job->bias,
              job->y, job->out);
}

/* The vector kernel of the current ISA for this matrix, or the portable
 * one when the ISA has none for its width or its groups do not start on
 * activation blocks (which the ABI rules out, but a wrong group must give
 * the right sums, not a wrong one). */
static ms_linear_quant_a8_kernel choose_kernel(const ms_kernel_isa *isa,
                                               const ms_quant_matrix *m) {
  ms_linear_quant_a8_kernel kernel = isa->linear_quant_a8[m->bits];
  if (kernel.run && (m->groups == 1 || m->group % MS_ACT_BLOCK == 0))
    return kernel;
  ms_linear_quant_a8_kernel portable = {ms_linear_quant_a8_portable, 0};
  return portable;
}

static void linear_quant_a8(const float *x, int64_t rows, int64_t in,
                            const uint8_t *w, const uint8_t *scales,
                            float scale_max, const uint8_t *zero_points,
                            int64_t bits, int64_t group, int64_t out,
                            const float *bias, float *y, float *scratch) {
  if (bits < 2 || bits > 8 || rows <= 0 || out <= 0)
    return;
  linear_quant_a8_job job = {.bias = bias, .y = y, .rows = rows, .out = out};
  job.matrix =
      ms_quant_matrix_of(w, scales, scale_max, zero_points, bits, group, in);
  const ms_kernel_isa *isa = ms_kernels_current_isa();
  ms_linear_quant_a8_kernel kernel = choose_kernel(isa, &job.matrix);
  job.kernel = kernel.run;
  /* Scratch: the rows' block scales, then their code sums, then their
   * codes (MS_ACT_SCRATCH_FLOATS: 1 + 1 + 8 floats per block). */
  int64_t blocks = (in + MS_ACT_BLOCK - 1) / MS_ACT_BLOCK;
  job.activations.blocks = blocks;
  job.activations.scales = scratch;
  job.activations.sums = (int32_t *)(scratch + rows * blocks);
  job.activations.codes = (int8_t *)(scratch + 2 * rows * blocks);
  ms_quantize_activations_fn quantize = isa->quantize_activations
                                            ? isa->quantize_activations
                                            : ms_quantize_activations_portable;
  quantize(x, rows, in, kernel.nibble_order, &job.activations);
  /* Small products are not worth waking the pool. */
  if (rows * in * out < 32 * 1024) {
    linear_quant_a8_range(&job, 0, out);
    return;
  }
  ms_parallel_for(out, linear_quant_a8_range, &job);
}

void ms_linear_q8_a8_f32(const float *x, int64_t rows, int64_t in,
                         const uint8_t *w, const uint8_t *scales,
                         float scale_max, const uint8_t *zero_points,
                         int64_t group, int64_t out, const float *bias,
                         float *y, float *scratch) {
  linear_quant_a8(x, rows, in, w, scales, scale_max, zero_points, 8, group, out,
                  bias, y, scratch);
}

void ms_linear_q4_a8_f32(const float *x, int64_t rows, int64_t in,
                         const uint8_t *w, const uint8_t *scales,
                         float scale_max, const uint8_t *zero_points,
                         int64_t group, int64_t out, const float *bias,
                         float *y, float *scratch) {
  linear_quant_a8(x, rows, in, w, scales, scale_max, zero_points, 4, group, out,
                  bias, y, scratch);
}

void ms_linear_q_a8_f32(const float *x, int64_t rows, int64_t in,
                        const uint8_t *w, const uint8_t *scales,
                        float scale_max, const uint8_t *zero_points,
                        int64_t bits, int64_t group, int64_t out,
                        const float *bias, float *y, float *scratch) {
  linear_quant_a8(x, rows, in, w, scales, scale_max, zero_points, bits, group,
                  out, bias, y, scratch);
}
