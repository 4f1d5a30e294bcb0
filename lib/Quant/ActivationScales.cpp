//===- ActivationScales.cpp - activation-aware per-channel scales --------===//
//
// Part of the Microscale project.
//
// AWQ (Lin et al. 2023): a few input channels carry most of the activation
// magnitude, and the weights meeting them matter most. Scaling those weight
// columns up by s (and the input down by 1/s, folded into the op before)
// leaves the float product unchanged but gives the important weights a
// finer relative step. The scales follow s = meanAbs^alpha; alpha is
// chosen on a grid by the output error the rounding leaves, which H gives
// exactly: with d' = W diag(s) - Q', the output error is
// d' diag(1/s) H diag(1/s) d'^T = (d' / s) H (d' / s)^T.
//
//===----------------------------------------------------------------------===//

#include "microscale/Quant/Calibrated.h"

#include "llvm/ADT/STLExtras.h"

#include <algorithm>
#include <cassert>
#include <cmath>

using namespace mlir::microscale::quant;

std::vector<float> mlir::microscale::quant::scaleWeights(
    llvm::ArrayRef<float> weights, int64_t rows, llvm::ArrayRef<float> scales) {
  const int64_t cols = static_cast<int64_t>(scales.size());
  assert(static_cast<int64_t>(weights.size()) == rows * cols);
  std::vector<float> scaled(weights.begin(), weights.end());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      scaled[r * cols + c] *= scales[c];
  return scaled;
}

InputStatistics
mlir::microscale::quant::scaleStatistics(const InputStatistics &stats,
                                         llvm::ArrayRef<float> scales) {
  const int64_t cols = stats.cols;
  assert(static_cast<int64_t>(scales.size()) == cols);
  InputStatistics scaled = stats;
  for (int64_t i = 0; i < cols; ++i) {
    double si = scales[i];
    scaled.meanAbs[i] /= si;
    for (int64_t j = 0; j < cols; ++j)
      scaled.hessian[i * cols + j] /= si * static_cast<double>(scales[j]);
  }
  return scaled;
}

/// s = meanAbs^alpha normalized to a geometric mean of 1, so that the
/// weights keep their overall magnitude (and f16 scales their range).
/// Channels calibration never saw keep s = 1; the others are floored at
/// 1e-5 of the largest mean so that s stays finite.
static std::vector<float> scalesForExponent(llvm::ArrayRef<double> meanAbs,
                                            double alpha) {
  const int64_t cols = static_cast<int64_t>(meanAbs.size());
  double largest = *std::max_element(meanAbs.begin(), meanAbs.end());
  std::vector<double> logs(cols, 0.0);
  double logSum = 0.0;
  int64_t live = 0;
  for (int64_t c = 0; c < cols; ++c) {
    if (!(meanAbs[c] > 0.0))
      continue;
    logs[c] = alpha * std::log(std::max(meanAbs[c], 1e-5 * largest));
    logSum += logs[c];
    ++live;
  }
  std::vector<float> scales(cols, 1.0f);
  for (int64_t c = 0; c < cols; ++c)
    if (meanAbs[c] > 0.0)
      scales[c] = static_cast<float>(std::exp(logs[c] - logSum / live));
  return scales;
}

/// Summed output error of round-to-nearest of every linear scaled by `s`.
static double scaledRoundingError(llvm::ArrayRef<SharedInputLinear> linears,
                                  const InputStatistics &stats,
                                  llvm::ArrayRef<float> scales) {
  const int64_t cols = stats.cols;
  double total = 0.0;
  std::vector<double> d(cols);
  std::vector<float> row(cols);
  for (const SharedInputLinear &linear : linears) {
    std::vector<float> scaled =
        scaleWeights(linear.weights, linear.rows, scales);
    QuantizedMatrix q =
        quantizeRoundToNearest(scaled, linear.rows, cols, linear.format);
    for (int64_t r = 0; r < linear.rows; ++r) {
      dequantizeRow(q, r, row.data());
      for (int64_t c = 0; c < cols; ++c)
        d[c] = (static_cast<double>(scaled[r * cols + c]) - row[c]) /
               static_cast<double>(scales[c]);
      total += rowOutputError(stats, d.data());
    }
  }
  return total;
}

std::vector<float> mlir::microscale::quant::searchActivationScales(
    llvm::ArrayRef<SharedInputLinear> linears, const InputStatistics &stats,
    const ActivationScaleOptions &options) {
  const int64_t cols = stats.cols;
  std::vector<float> best(cols, 1.0f);
  if (cols == 0 || linears.empty() ||
      *std::max_element(stats.meanAbs.begin(), stats.meanAbs.end()) <= 0.0)
    return best;
  assert(llvm::all_of(linears, [&](const SharedInputLinear &linear) {
    return static_cast<int64_t>(linear.weights.size()) == linear.rows * cols;
  }));
  // The rows scored: all, or an even spread of `maxScoredRows`.
  std::vector<std::vector<float>> sampled;
  sampled.reserve(linears.size());
  std::vector<SharedInputLinear> scored(linears.begin(), linears.end());
  for (SharedInputLinear &linear : scored) {
    int64_t keep = options.maxScoredRows;
    if (keep <= 0 || linear.rows <= keep)
      continue;
    std::vector<float> &rows = sampled.emplace_back(keep * cols);
    for (int64_t k = 0; k < keep; ++k) {
      int64_t r = k * linear.rows / keep;
      std::copy_n(linear.weights.begin() + r * cols, cols,
                  rows.begin() + k * cols);
    }
    linear.weights = rows;
    linear.rows = keep;
  }
  // alpha = 0 is plain round-to-nearest: the baseline any scale must beat.
  double bestError = scaledRoundingError(scored, stats, best);
  int steps = std::max(1, options.steps);
  for (int k = 1; k <= steps; ++k) {
    std::vector<float> scales =
        scalesForExponent(stats.meanAbs, static_cast<double>(k) / steps);
    double error = scaledRoundingError(scored, stats, scales);
    // A scale that overflows the format's scales shows up as a non-finite
    // error and is never chosen.
    if (std::isfinite(error) && error < bestError) {
      bestError = error;
      best = std::move(scales);
    }
  }
  return best;
}
