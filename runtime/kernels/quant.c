/*===- quant.c - weight-only quantized linears and embedding rows ----------===*
 *
 * Part of the Microscale project.
 *
 * The kernels of kernels.def for `#llm.quant` weights: the entry points
 * generated code calls, which split output channels over the thread pool as
 * ms_linear_f32 does, the portable kernel for every width and group, and
 * the dequantized embedding row. The vector kernels of an ISA
 * (ms_kernel_isa.linear_quant) take over the widths they have when the
 * groups fit their blocks. Every output channel is computed by the same
 * sequential code whatever the thread count, so results do not depend on
 * it. Freestanding, like the rest of kernels/.
 *
 *===----------------------------------------------------------------------===*/

#include "kernels/kernels.h"

#include "kernels/parallel.h"
#include "microscale/runtime.h"

/* A field as the code it stands for: signed when symmetric. */
static int32_t code_value(uint32_t field, int bits, int symmetric) {
  if (!symmetric)
    return (int32_t)field;
  uint32_t sign = 1u << (bits - 1);
  return (int32_t)(field ^ sign) - (int32_t)sign;
}

/* One output of one token: per group, the sum of code * x in float, then
 * times the group's scale. */
static float quant_dot(const float *x, const ms_quant_matrix *m, int64_t o) {
  const uint8_t *row = m->w + o * m->row_bytes;
  const int symmetric = m->zero_points == 0;
  float sum = 0.0f;
  for (int64_t g = 0; g < m->groups; ++g) {
    int64_t begin = g * m->group;
    int64_t end = begin + m->group < m->in ? begin + m->group : m->in;
    int32_t zero_point = symmetric ? 0 : ms_quant_zero_point(m, o, g);
    float group_sum = 0.0f;
    for (int64_t i = begin; i < end; ++i) {
      int32_t code =
          code_value(ms_load_field(row, m->bits, i), m->bits, symmetric);
      group_sum += (float)(code - zero_point) * x[i];
    }
    sum += ms_quant_scale(m, o, g) * group_sum;
  }
  return sum;
}

void ms_linear_quant_portable(const float *x, int64_t rows,
                              const ms_quant_matrix *m, int64_t begin,
                              int64_t end, const float *bias, float *y,
                              int64_t y_stride) {
  for (int64_t o = begin; o < end; ++o)
    for (int64_t r = 0; r < rows; ++r)
      y[r * y_stride + o] =
          quant_dot(x + r * m->in, m, o) + (bias ? bias[o] : 0.0f);
}

typedef struct {
  const float *x, *bias;
  float *y;
  int64_t rows, out;
  ms_quant_matrix matrix;
  /* Chosen by the calling thread, so workers never race on the choice. */
  ms_linear_quant_fn kernel;
} linear_quant_job;

static void linear_quant_range(void *context, int64_t begin, int64_t end) {
  const linear_quant_job *job = context;
  job->kernel(job->x, job->rows, &job->matrix, begin, end, job->bias, job->y,
              job->out);
}

/* The vector kernel of the current ISA for this matrix, or the portable
 * one when the ISA has none for its width or its groups do not start on
 * the ISA's blocks. */
static ms_linear_quant_fn choose_kernel(const ms_quant_matrix *m) {
  const ms_kernel_isa *isa = ms_kernels_current_isa();
  ms_linear_quant_fn kernel = isa->linear_quant[m->bits];
  if (kernel && (m->groups == 1 || m->group % isa->quant_block == 0))
    return kernel;
  return ms_linear_quant_portable;
}

static void linear_quant(const float *x, int64_t rows, int64_t in,
                         const uint8_t *w, const uint8_t *scales,
                         float scale_max, const uint8_t *zero_points,
                         int64_t bits, int64_t group, int64_t out,
                         const float *bias, float *y) {
  if (bits < 2 || bits > 8 || rows <= 0 || out <= 0)
    return;
  linear_quant_job job = {
      .x = x, .bias = bias, .y = y, .rows = rows, .out = out};
  job.matrix =
      ms_quant_matrix_of(w, scales, scale_max, zero_points, bits, group, in);
  job.kernel = choose_kernel(&job.matrix);
  /* Small products are not worth waking the pool. */
  if (rows * in * out < 32 * 1024) {
    linear_quant_range(&job, 0, out);
    return;
  }
  ms_parallel_for(out, linear_quant_range, &job);
}

void ms_linear_q8_f32(const float *x, int64_t rows, int64_t in,
                      const uint8_t *w, const uint8_t *scales, float scale_max,
                      const uint8_t *zero_points, int64_t group, int64_t out,
                      const float *bias, float *y) {
  linear_quant(x, rows, in, w, scales, scale_max, zero_points, 8, group, out,
               bias, y);
}

void ms_linear_q4_f32(const float *x, int64_t rows, int64_t in,
                      const uint8_t *w, const uint8_t *scales, float scale_max,
                      const uint8_t *zero_points, int64_t group, int64_t out,
                      const float *bias, float *y) {
  linear_quant(x, rows, in, w, scales, scale_max, zero_points, 4, group, out,
               bias, y);
}

void ms_linear_q_f32(const float *x, int64_t rows, int64_t in, const uint8_t *w,
                     const uint8_t *scales, float scale_max,
                     const uint8_t *zero_points, int64_t bits, int64_t group,
                     int64_t out, const float *bias, float *y) {
  linear_quant(x, rows, in, w, scales, scale_max, zero_points, bits, group, out,
               bias, y);
}

void ms_dequantize_row_f32(const uint8_t *w, const uint8_t *scales,
                           float scale_max, const uint8_t *zero_points,
                           int64_t bits, int64_t group, int64_t in, int64_t row,
                           float *y) {
  if (bits < 2 || bits > 8)
    return;
  ms_quant_matrix m =
      ms_quant_matrix_of(w, scales, scale_max, zero_points, bits, group, in);
  const uint8_t *packed = w + row * m.row_bytes;
  for (int64_t g = 0; g < m.groups; ++g) {
    float scale = ms_quant_scale(&m, row, g);
    int32_t zero_point = zero_points ? ms_quant_zero_point(&m, row, g) : 0;
    int64_t end = (g + 1) * m.group < in ? (g + 1) * m.group : in;
    /* scale * (code - zero point), as lib/Quant's dequantizeValue. */
    for (int64_t i = g * m.group; i < end; ++i)
      y[i] = scale * (float)(code_value(ms_load_field(packed, m.bits, i),
                                        m.bits, zero_points == 0) -
                             zero_point);
  }
}
