//===- GPTQ.cpp - error-compensating rounding ----------------------------===//
//
// Part of the Microscale project.
//
// GPTQ (Frantar et al. 2022), itself Optimal Brain Quantization applied a
// column at a time: rounding column i of W leaves an error e_i that the
// columns not yet rounded can cancel, because their inputs correlate with
// input i. With H^-1 restricted to the remaining columns written as U^T U
// (U upper triangular), the best correction after rounding column i is
//
//   W[:, j] -= (W[:, i] - Q[:, i]) / U_ii * U_ij   for j > i,
//
// and U is the same for every row, so it is computed once per matrix. The
// columns are visited in activation order (largest H_ii first) when asked;
// the stored format keeps groups contiguous in the original column order,
// so in that case each group's scale and zero point are fixed before any
// column is rounded ("static groups").
//
//===----------------------------------------------------------------------===//

#include "microscale/Quant/Calibrated.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <numeric>

using namespace mlir::microscale::quant;

namespace {

/// A square row-major matrix of doubles.
struct Square {
  int64_t n = 0;
  std::vector<double> data;
  explicit Square(int64_t n) : n(n), data(n * n, 0.0) {}
  double &operator()(int64_t i, int64_t j) { return data[i * n + j]; }
  double operator()(int64_t i, int64_t j) const { return data[i * n + j]; }
};

} // namespace

/// In-place lower Cholesky factor of a symmetric `a` (upper triangle left
/// as zeros). False when `a` is not numerically positive definite.
static bool choleskyLower(Square &a) {
  const int64_t n = a.n;
  for (int64_t j = 0; j < n; ++j) {
    double diagonal = a(j, j);
    for (int64_t k = 0; k < j; ++k)
      diagonal -= a(j, k) * a(j, k);
    if (!(diagonal > 0.0) || !std::isfinite(diagonal))
      return false;
    double root = std::sqrt(diagonal);
    a(j, j) = root;
    for (int64_t i = j + 1; i < n; ++i) {
      double sum = a(i, j);
      const double *ri = &a.data[i * n], *rj = &a.data[j * n];
      for (int64_t k = 0; k < j; ++k)
        sum -= ri[k] * rj[k];
      a(i, j) = sum / root;
    }
    for (int64_t k = j + 1; k < n; ++k)
      a(j, k) = 0.0;
  }
  return true;
}

/// The inverse of a lower-triangular `l` (forward substitution per column).
static Square invertLower(const Square &l) {
  const int64_t n = l.n;
  Square inverse(n);
  for (int64_t j = 0; j < n; ++j) {
    inverse(j, j) = 1.0 / l(j, j);
    for (int64_t i = j + 1; i < n; ++i) {
      double sum = 0.0;
      for (int64_t k = j; k < i; ++k)
        sum += l(i, k) * inverse(k, j);
      inverse(i, j) = -sum / l(i, i);
    }
  }
  return inverse;
}

/// U upper triangular with U^T U = h^-1, h symmetric positive definite:
/// h = L L^T, h^-1 = L^-T L^-1, then the lower factor M of h^-1 gives
/// U = M^T. False when a factorization fails.
static bool inverseUpperFactor(const Square &h, Square &u) {
  const int64_t n = h.n;
  Square l = h;
  if (!choleskyLower(l))
    return false;
  Square lInverse = invertLower(l);
  Square inverse(n);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j <= i; ++j) {
      // (L^-T L^-1)_ij = sum_k Linv_ki Linv_kj over k >= max(i, j) = i.
      double sum = 0.0;
      for (int64_t k = i; k < n; ++k)
        sum += lInverse(k, i) * lInverse(k, j);
      inverse(i, j) = inverse(j, i) = sum;
    }
  if (!choleskyLower(inverse))
    return false;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j)
      u(i, j) = j >= i ? inverse(j, i) : 0.0;
  return true;
}

/// Columns no calibration token reached (H_ii = 0) get H_ii = 1: their
/// rounding error cannot change the output, and with no correlations it
/// spreads nowhere. Dampening adds a fraction of the mean diagonal so that
/// H is safely invertible; should the factorization still fail, the
/// dampening grows tenfold a few times and at last H is reduced to its
/// diagonal, which makes GPTQ round to nearest.
std::vector<float>
mlir::microscale::quant::inverseHessianFactor(const InputStatistics &stats,
                                              llvm::ArrayRef<int64_t> order,
                                              double dampening) {
  const int64_t n = stats.cols;
  Square h(n);
  double meanDiagonal = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < n; ++j)
      h(i, j) = stats.at(order[i], order[j]);
    if (h(i, i) <= 0.0)
      h(i, i) = 1.0;
    meanDiagonal += h(i, i) / static_cast<double>(n);
  }
  Square u(n);
  bool factored = false;
  for (int attempt = 0; attempt < 4 && !factored; ++attempt) {
    Square damped = h;
    double lambda = dampening * std::pow(10.0, attempt) * meanDiagonal;
    for (int64_t i = 0; i < n; ++i)
      damped(i, i) += lambda;
    factored = inverseUpperFactor(damped, u);
  }
  if (!factored) {
    u = Square(n);
    for (int64_t i = 0; i < n; ++i)
      u(i, i) = 1.0 / std::sqrt(h(i, i));
  }
  return std::vector<float>(u.data.begin(), u.data.end());
}

/// GPTQ's view of a group's rounding error: each column's squared error
/// weighted by 1 / U_ii^2, the inverse-Hessian diagonal of the columns left
/// when it is rounded. Picks the clip ratio of [1, 0.5] that minimizes it.
static GroupParams searchGroupClip(const float *w, const float *uDiagonal,
                                   int64_t n, const Format &format) {
  auto [lo, hi] = std::minmax_element(w, w + n);
  GroupParams best = computeGroupParams(*lo, *hi, format);
  double bestError = INFINITY;
  for (int k = 0; k <= 20; ++k) {
    float ratio = 1.0f - 0.025f * k;
    GroupParams p = computeGroupParams(*lo * ratio, *hi * ratio, format);
    double error = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      double e = (w[i] - dequantizeValue(quantizeValue(w[i], p, format), p)) /
                 uDiagonal[i];
      error += e * e;
    }
    if (error < bestError) {
      bestError = error;
      best = p;
    }
  }
  return best;
}

namespace {

/// Rounds the rows of one matrix, a tile of rows at a time, once the
/// column order and U are known.
class GPTQRounder {
public:
  GPTQRounder(llvm::ArrayRef<float> weights, const Format &format,
              llvm::ArrayRef<int64_t> order, llvm::ArrayRef<float> u,
              bool dynamicGroups, llvm::ArrayRef<float> clipRatios,
              bool searchClip, int64_t blockSize, QuantizedMatrix &result,
              std::vector<GroupParams> &params)
      : weights(weights), format(format), order(order), u(u),
        dynamicGroups(dynamicGroups), clipRatios(clipRatios),
        searchClip(searchClip), result(result), params(params), n(result.cols),
        groups(format.numGroups(n)), size(format.groupSize(n)),
        block(blockSize) {
    // A group's parameters are computed from its error-updated weights, so
    // all of a group must have received the updates of earlier columns by
    // the time its first column comes up: blocks hold whole groups.
    if (dynamicGroups)
      block = size * std::max<int64_t>(1, block / size);
    block = std::clamp<int64_t>(block, 1, std::max<int64_t>(1, n));
    uDiagonal.resize(n);
    for (int64_t i = 0; i < n; ++i)
      uDiagonal[i] = u[i * n + i];
  }

  void roundRows(int64_t begin, int64_t end);

private:
  GroupParams groupStart(int64_t row, const float *w, int64_t i);

  llvm::ArrayRef<float> weights;
  const Format &format;
  llvm::ArrayRef<int64_t> order;
  llvm::ArrayRef<float> u;
  bool dynamicGroups;
  llvm::ArrayRef<float> clipRatios;
  bool searchClip;
  QuantizedMatrix &result;
  std::vector<GroupParams> &params;
  const int64_t n, groups, size;
  int64_t block;
  std::vector<float> uDiagonal;
  std::vector<float> tile, errors;
};

} // namespace

/// Parameters of the group starting at (permuted = original) column `i`
/// from the current, error-updated weights `w` of the row.
GroupParams GPTQRounder::groupStart(int64_t row, const float *w, int64_t i) {
  int64_t end = std::min(n, i + size), g = i / size;
  if (clipRatios.empty() && searchClip)
    return searchGroupClip(w + i, uDiagonal.data() + i, end - i, format);
  auto [lo, hi] = std::minmax_element(w + i, w + end);
  float ratio = clipRatios.empty() ? 1.0f : clipRatios[row * groups + g];
  return computeGroupParams(*lo * ratio, *hi * ratio, format);
}

void GPTQRounder::roundRows(int64_t begin, int64_t end) {
  const int64_t count = end - begin, rowBytes = format.rowBytes(n);
  tile.resize(count * n);
  errors.resize(count * block);
  for (int64_t r = 0; r < count; ++r)
    for (int64_t i = 0; i < n; ++i)
      tile[r * n + i] = weights[(begin + r) * n + order[i]];
  for (int64_t blockBegin = 0; blockBegin < n; blockBegin += block) {
    int64_t blockEnd = std::min(n, blockBegin + block);
    // Inside the block every rounding updates the block's later columns at
    // once; the columns after the block wait for the block's errors.
    for (int64_t i = blockBegin; i < blockEnd; ++i) {
      int64_t col = order[i], g = col / size;
      const float *ui = u.data() + i * n;
      for (int64_t r = 0; r < count; ++r) {
        float *w = tile.data() + r * n;
        GroupParams &p = params[(begin + r) * groups + g];
        if (dynamicGroups && i % size == 0)
          p = groupStart(begin + r, w, i);
        int32_t code = quantizeValue(w[i], p, format);
        storeCode(result.packed.data() + (begin + r) * rowBytes, format.bits,
                  col, code);
        float error = (w[i] - dequantizeValue(code, p)) / ui[i];
        errors[r * block + (i - blockBegin)] = error;
        for (int64_t j = i + 1; j < blockEnd; ++j)
          w[j] -= error * ui[j];
      }
    }
    // The deferred update: the rows' tails minus errors times U's block
    // rows, one U row at a time so it stays in cache across the tile.
    for (int64_t k = blockBegin; k < blockEnd; ++k) {
      const float *uk = u.data() + k * n;
      for (int64_t r = 0; r < count; ++r) {
        float error = errors[r * block + (k - blockBegin)];
        if (error == 0.0f)
          continue;
        float *w = tile.data() + r * n;
        for (int64_t j = blockEnd; j < n; ++j)
          w[j] -= error * uk[j];
      }
    }
  }
}

QuantizedMatrix mlir::microscale::quant::quantizeGPTQ(
    llvm::ArrayRef<float> weights, int64_t rows, int64_t cols,
    const Format &unresolved, const InputStatistics &stats,
    const GPTQOptions &options) {
  const Format format = resolveScaleRange(unresolved, weights, rows, cols);
  assert(stats.cols == cols &&
         static_cast<int64_t>(weights.size()) == rows * cols);
  const int64_t groups = format.numGroups(cols);
  const int64_t size = format.groupSize(cols);
  assert(options.groupParams.empty() ||
         static_cast<int64_t>(options.groupParams.size()) == rows * groups);
  assert(options.clipRatios.empty() ||
         static_cast<int64_t>(options.clipRatios.size()) == rows * groups);

  // Activation order: columns with the most input energy first, ties (and
  // dead columns, last) in their original order so results are stable.
  std::vector<int64_t> order(cols);
  std::iota(order.begin(), order.end(), 0);
  if (options.actOrder)
    std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
      double ha = stats.at(a, a), hb = stats.at(b, b);
      return ha != hb ? ha > hb : a < b;
    });
  std::vector<float> u = inverseHessianFactor(stats, order, options.dampening);

  // Static groups: given, or round-to-nearest of the original weights.
  bool dynamicGroups = options.groupParams.empty() && !options.actOrder;
  std::vector<GroupParams> params(rows * groups);
  if (!options.groupParams.empty()) {
    params.assign(options.groupParams.begin(), options.groupParams.end());
  } else if (!dynamicGroups) {
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t g = 0; g < groups; ++g) {
        const float *w = weights.data() + r * cols;
        auto [lo, hi] = std::minmax_element(w + g * size,
                                            w + std::min(cols, (g + 1) * size));
        float ratio = options.clipRatios.empty()
                          ? 1.0f
                          : options.clipRatios[r * groups + g];
        params[r * groups + g] =
            computeGroupParams(*lo * ratio, *hi * ratio, format);
      }
  }

  QuantizedMatrix result;
  result.format = format;
  result.rows = rows;
  result.cols = cols;
  result.packed.assign(rows * format.rowBytes(cols), 0);
  GPTQRounder rounder(weights, format, order, u, dynamicGroups,
                      options.clipRatios, options.searchGroupClip,
                      options.blockSize, result, params);
  // A tile of rows shares each row of U while it is in cache.
  const int64_t tileRows = 16;
  for (int64_t begin = 0; begin < rows; begin += tileRows)
    rounder.roundRows(begin, std::min(rows, begin + tileRows));

  result.scales.resize(rows * groups);
  if (!format.symmetric)
    result.zeroPoints.resize(rows * groups);
  for (int64_t i = 0; i < rows * groups; ++i) {
    result.scales[i] = params[i].scale;
    if (!format.symmetric)
      result.zeroPoints[i] = static_cast<uint8_t>(params[i].zeroPoint);
  }
  return result;
}
