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
// Asymmetric formats also get a joint fit of scale and offset per group,
// whose offset, rounded to a zero-point code, gives a second candidate.
// Each row keeps the best of its current, refitted and re-zeroed
// parameters, so the refit never raises an error.
//
//===----------------------------------------------------------------------===//

#include "microscale/Quant/Calibrated.h"

#include "DotProduct.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <optional>

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

namespace {

/// A column of the design matrix D: nonzero only on one group's columns.
struct DesignColumn {
  int64_t begin = 0;
  std::vector<double> values;
};

/// The normal equations of min (w - D x)^T H (w - D x): A = D^T H D and
/// b = D^T H w, with `hw` = H w.
struct NormalEquations {
  int64_t n = 0;
  std::vector<double> a, b;

  NormalEquations(const InputStatistics &stats, llvm::ArrayRef<double> hw,
                  llvm::ArrayRef<DesignColumn> design)
      : n(static_cast<int64_t>(design.size())), a(n * n), b(n) {
    const int64_t cols = stats.cols;
    std::vector<double> hd(n * cols);
    for (int64_t k = 0; k < n; ++k) {
      const DesignColumn &d = design[k];
      int64_t length = static_cast<int64_t>(d.values.size());
      for (int64_t i = 0; i < cols; ++i)
        hd[k * cols + i] = detail::dotProduct(
            stats.hessian.data() + i * cols + d.begin, d.values.data(), length);
    }
    for (int64_t k = 0; k < n; ++k) {
      const DesignColumn &d = design[k];
      int64_t length = static_cast<int64_t>(d.values.size());
      b[k] = detail::dotProduct(d.values.data(), hw.data() + d.begin, length);
      for (int64_t l = 0; l < n; ++l)
        a[k * n + l] = detail::dotProduct(
            d.values.data(), hd.data() + l * cols + d.begin, length);
    }
  }

  /// The row's output error at x, less the constant w^T H w.
  double error(llvm::ArrayRef<double> x) const {
    double sum = 0.0;
    for (int64_t k = 0; k < n; ++k)
      sum += x[k] * (detail::dotProduct(&a[k * n], x.data(), n) - 2.0 * b[k]);
    return sum;
  }

  /// The minimizer, or nothing when A is singular.
  std::optional<std::vector<double>> solve() const {
    std::vector<double> system = a, solution = b;
    if (!solvePositiveDefinite(system, solution))
      return std::nullopt;
    return solution;
  }
};

/// One row's groups with codes off their zero point (the others stand for
/// zeros whatever their parameters) and its H w.
struct RowProblem {
  const QuantizedMatrix &q;
  int64_t row;
  std::vector<int64_t> live;
  std::vector<double> hw;

  RowProblem(const QuantizedMatrix &q, int64_t row, const float *w,
             const InputStatistics &stats)
      : q(q), row(row), hw(q.cols) {
    const int64_t cols = q.cols, size = q.format.groupSize(cols);
    for (int64_t g = 0; g < q.format.numGroups(cols); ++g) {
      int32_t zero = groupParams(q, row, g).zeroPoint;
      for (int64_t c = g * size; c < std::min(cols, (g + 1) * size); ++c)
        if (q.code(row, c) != zero) {
          live.push_back(g);
          break;
        }
    }
    std::vector<double> w64(w, w + cols);
    for (int64_t i = 0; i < cols; ++i)
      hw[i] =
          detail::dotProduct(stats.hessian.data() + i * cols, w64.data(), cols);
  }

  /// Design columns for the live groups' scales given zero points
  /// `zeros` (one per live group): group g's codes minus its zero point.
  /// With `offsets`, one more column of ones per group for a free offset.
  std::vector<DesignColumn> design(llvm::ArrayRef<int32_t> zeros,
                                   bool offsets) const {
    const int64_t size = q.format.groupSize(q.cols);
    std::vector<DesignColumn> columns;
    for (size_t k = 0; k < live.size(); ++k) {
      int64_t begin = live[k] * size, end = std::min(q.cols, begin + size);
      DesignColumn codes{begin, std::vector<double>(end - begin)};
      for (int64_t c = begin; c < end; ++c)
        codes.values[c - begin] = q.code(row, c) - zeros[k];
      columns.push_back(std::move(codes));
      if (offsets)
        columns.push_back({begin, std::vector<double>(end - begin, 1.0)});
    }
    return columns;
  }
};

/// A row's group parameters: scales and zero points of its live groups.
struct RowFit {
  std::vector<double> scales;
  std::vector<int32_t> zeros;
  double error = 0.0; // Less w^T H w.
};

} // namespace

/// The least-squares scales for zero points `zeros`, rounded to the stored
/// type, and their error; nothing when singular or a scale is not positive.
static std::optional<RowFit> fitScales(const RowProblem &problem,
                                       const NormalEquations &equations,
                                       std::vector<int32_t> zeros) {
  std::optional<std::vector<double>> solution = equations.solve();
  if (!solution)
    return std::nullopt;
  RowFit fit{std::move(*solution), std::move(zeros)};
  for (double &scale : fit.scales) {
    scale = problem.q.format.roundScale(static_cast<float>(scale));
    if (!(scale > 0.0) || !std::isfinite(scale))
      return std::nullopt;
  }
  fit.error = equations.error(fit.scales);
  return fit;
}

/// Asymmetric formats: zero points from a joint fit of a scale and a free
/// offset m per group (q = s c + m, so z = -m / s), rounded to codes.
static std::optional<std::vector<int32_t>>
fitZeroPoints(const RowProblem &problem, const InputStatistics &stats,
              llvm::ArrayRef<int32_t> current) {
  std::vector<int32_t> none(problem.live.size(), 0);
  NormalEquations equations(stats, problem.hw,
                            problem.design(none, /*offsets=*/true));
  std::optional<std::vector<double>> solution = equations.solve();
  if (!solution)
    return std::nullopt;
  std::vector<int32_t> zeros(current.begin(), current.end());
  for (size_t k = 0; k < zeros.size(); ++k) {
    double scale = (*solution)[2 * k], offset = (*solution)[2 * k + 1];
    if (scale > 0.0 && std::isfinite(offset / scale))
      zeros[k] = static_cast<int32_t>(
          std::clamp(std::nearbyint(-offset / scale), 0.0,
                     static_cast<double>(problem.q.format.maxCode())));
  }
  return zeros;
}

/// The best of the row's current parameters, refitted scales and (for
/// asymmetric formats) refitted zero points with their scales; writes the
/// winner into `q` and returns the error it removed.
static double refitRow(QuantizedMatrix &q, int64_t r, const float *w,
                       const InputStatistics &stats) {
  RowProblem problem(q, r, w, stats);
  if (problem.live.empty())
    return 0.0;
  const int64_t groups = q.format.numGroups(q.cols);
  RowFit current;
  for (int64_t g : problem.live) {
    GroupParams p = groupParams(q, r, g);
    current.scales.push_back(p.scale);
    current.zeros.push_back(p.zeroPoint);
  }
  // The current zero points' equations serve both the current error and
  // the refitted scales.
  NormalEquations equations(stats, problem.hw,
                            problem.design(current.zeros, /*offsets=*/false));
  current.error = equations.error(current.scales);
  RowFit best = current;
  auto consider = [&](std::optional<RowFit> fit) {
    if (fit && fit->error < best.error)
      best = std::move(*fit);
  };
  consider(fitScales(problem, equations, current.zeros));
  if (!q.format.symmetric) {
    std::optional<std::vector<int32_t>> zeros =
        fitZeroPoints(problem, stats, current.zeros);
    if (zeros && *zeros != current.zeros) {
      NormalEquations moved(stats, problem.hw,
                            problem.design(*zeros, /*offsets=*/false));
      consider(fitScales(problem, moved, std::move(*zeros)));
    }
  }
  for (size_t k = 0; k < problem.live.size(); ++k) {
    int64_t index = r * groups + problem.live[k];
    q.scales[index] = static_cast<float>(best.scales[k]);
    if (!q.format.symmetric)
      q.zeroPoints[index] = static_cast<uint8_t>(best.zeros[k]);
  }
  return current.error - best.error;
}

double mlir::microscale::quant::refitScales(llvm::ArrayRef<float> weights,
                                            QuantizedMatrix &quantized,
                                            const InputStatistics &stats) {
  const int64_t cols = quantized.cols;
  assert(stats.cols == cols &&
         static_cast<int64_t>(weights.size()) == quantized.rows * cols);
  double removed = 0.0;
  for (int64_t r = 0; r < quantized.rows; ++r)
    removed += refitRow(quantized, r, weights.data() + r * cols, stats);
  return removed;
}
