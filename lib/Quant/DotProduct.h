//===- DotProduct.h - the inner loop of the calibrated methods --*- C++ -*-===//
//
// Part of the Microscale project.
//
// Quadratic forms in H dominate the cost of the clip and scale searches.
// Without fast-math the compiler may not reorder a floating-point sum, so a
// single accumulator waits on every addition; four independent ones keep
// the adder busy (and the result is still the same on every run).
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_LIB_QUANT_DOTPRODUCT_H
#define MICROSCALE_LIB_QUANT_DOTPRODUCT_H

#include <cstdint>

namespace mlir::microscale::quant::detail {

inline double dotProduct(const double *a, const double *b, int64_t n) {
  double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < n; ++i)
    s0 += a[i] * b[i];
  return (s0 + s1) + (s2 + s3);
}

} // namespace mlir::microscale::quant::detail

#endif // MICROSCALE_LIB_QUANT_DOTPRODUCT_H
