/*===- portable.c - linear kernel in portable C ----------------------------===*
 *
 * Part of the Microscale project.
 *
 * The reference every vector kernel is tested against, and the kernel of
 * targets without one. Freestanding.
 *
 *===----------------------------------------------------------------------===*/

#include "kernels/kernels.h"

void ms_linear_channel_portable(const float *x, int64_t rows, int64_t in,
                                const float *w, float bias, float *y,
                                int64_t y_stride) {
  for (int64_t r = 0; r < rows; ++r)
    y[r * y_stride] = ms_dot_portable(x + r * in, w, in) + bias;
}
