//===- ScaleRefit.cpp - least-squares group scales for fixed codes -------===//
//
// Part of the Microscale project.
//
// Round-to-nearest, the clip search and GPTQ all choose a group's scale
// before its codes; once the codes are fixed, the scale that minimizes the
// output error can be solved for exactly. Row r's quantized weights are
// q_j = s_g(j) (c_j - z_g(j)), linear in the group scales s, so
//
//   (w - C s)^T H (w - C s)  is least at  (C^T H C) s = C^T H w,
//
// a groups x groups system per row: the weighted least-squares scale fit of
// llama.cpp's k-quants, with the full H in place of per-weight importances.
//
//===----------------------------------------------------------------------===//

#include "microscale/Quant/Calibrated.h"

#include "DotProduct.h"

#include <algorithm>
#include <cassert>
#include <cmath>

using namespace mlir::microscale::quant;

/// Solves the symmetric positive definite `a` x = `b` in place (x in `b`)
/// by Cholesky; false when `a` is not numerically positive definite.
static bool solvePositiveDefinite(std::vector<double> &a,
                                  std::vector<double> &b) {
  const int64_t n = static_cast<int64_t>(b.size());
  for (int64_t j = 0; j < n; ++j) {
    double diagonal = a[j * n + j];
    for (int64_t k = 0; k < j; ++k)
      diagonal -= a[j * n + k] * a[j * n + k];
    if (!(diagonal > 0.0) || !std::isfinite(diagonal))
      return false;
    a[j * n + j] = std::sqrt(diagonal);
    for (int64_t i = j + 1; i < n; ++i) {
      double sum = a[i * n + j];
      for (int64_t k = 0; k < j; ++k)
        sum -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = sum / a[j * n + j];
    }
  }
  for (int64_t i = 0; i < n; ++i) { // L y = b.
    for (int64_t k = 0; k < i; ++k)
      b[i] -= a[i * n + k] * b[k];
    b[i] /= a[i * n + i];
  }
  for (int64_t i = n - 1; i >= 0; --i) { // L^T x = y.
    for (int64_t k = i + 1; k < n; ++k)
      b[i] -= a[k * n + i] * b[k];
    b[i] /= a[i * n + i];
  }
  return true;
}

/// The least-squares scales of row `r` (one per group; groups whose codes
/// are all at the zero point keep their scale). False when the system is
/// singular or a scale comes out non-positive.
static bool fitRowScales(const QuantizedMatrix &q, int64_t r, const float *w,
                         const InputStatistics &stats,
                         std::vector<float> &scales) {
  const int64_t cols = q.cols, groups = q.format.numGroups(cols);
  const int64_t size = q.format.groupSize(cols);
  // The columns of C: column g holds (c_j - z_g) on group g's columns.
  std::vector<double> codes(cols), hw(cols), w64(w, w + cols);
  std::vector<int64_t> live;
  for (int64_t g = 0; g < groups; ++g) {
    int32_t zero = groupParams(q, r, g).zeroPoint;
    bool any = false;
    for (int64_t c = g * size; c < std::min(cols, (g + 1) * size); ++c) {
      codes[c] = q.code(r, c) - zero;
      any |= codes[c] != 0.0;
    }
    if (any)
      live.push_back(g);
  }
  if (live.empty())
    return false;
  for (int64_t i = 0; i < cols; ++i)
    hw[i] =
        detail::dotProduct(stats.hessian.data() + i * cols, w64.data(), cols);
  // H C, one column per live group: H restricted to the group's columns
  // times its codes.
  const int64_t n = static_cast<int64_t>(live.size());
  std::vector<double> hc(n * cols, 0.0);
  for (int64_t k = 0; k < n; ++k) {
    int64_t begin = live[k] * size, end = std::min(cols, begin + size);
    for (int64_t i = 0; i < cols; ++i)
      hc[k * cols + i] =
          detail::dotProduct(stats.hessian.data() + i * cols + begin,
                             codes.data() + begin, end - begin);
  }
  std::vector<double> a(n * n), b(n);
  for (int64_t k = 0; k < n; ++k) {
    int64_t begin = live[k] * size, end = std::min(cols, begin + size);
    b[k] = detail::dotProduct(codes.data() + begin, hw.data() + begin,
                              end - begin);
    for (int64_t l = 0; l < n; ++l)
      a[k * n + l] = detail::dotProduct(
          codes.data() + begin, hc.data() + l * cols + begin, end - begin);
  }
  if (!solvePositiveDefinite(a, b))
    return false;
  for (int64_t k = 0; k < n; ++k) {
    float scale = roundScale(static_cast<float>(b[k]), q.format.scale);
    if (!(scale > 0.0f) || !std::isfinite(scale))
      return false;
    scales[live[k]] = scale;
  }
  return true;
}

double mlir::microscale::quant::refitScales(llvm::ArrayRef<float> weights,
                                            QuantizedMatrix &quantized,
                                            const InputStatistics &stats) {
  const int64_t cols = quantized.cols;
  const int64_t groups = quantized.format.numGroups(cols);
  assert(stats.cols == cols &&
         static_cast<int64_t>(weights.size()) == quantized.rows * cols);
  double removed = 0.0;
  std::vector<float> row(cols);
  std::vector<double> d(cols);
  auto rowError = [&](int64_t r) {
    dequantizeRow(quantized, r, row.data());
    for (int64_t c = 0; c < cols; ++c)
      d[c] = static_cast<double>(weights[r * cols + c]) - row[c];
    return rowOutputError(stats, d.data());
  };
  for (int64_t r = 0; r < quantized.rows; ++r) {
    float *stored = quantized.scales.data() + r * groups;
    std::vector<float> before(stored, stored + groups), fitted = before;
    if (!fitRowScales(quantized, r, weights.data() + r * cols, stats, fitted))
      continue;
    double old = rowError(r);
    std::copy(fitted.begin(), fitted.end(), stored);
    double now = rowError(r);
    if (now < old)
      removed += old - now;
    else
      std::copy(before.begin(), before.end(), stored);
  }
  return removed;
}
