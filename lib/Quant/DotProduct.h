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
#if defined(__clang__)
  // Lets the loop vectorize; the order is fixed by the code, not by data,
  // so every run still gives the same sum.
#pragma clang fp reassociate(on)
#endif
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i)
    sum += a[i] * b[i];
  return sum;
}

} // namespace mlir::microscale::quant::detail

#endif // MICROSCALE_LIB_QUANT_DOTPRODUCT_H
