//===- ClipSearch.cpp - per-group clipping by output error ---------------===//
//
// Part of the Microscale project.
//
// Round-to-nearest spends its codes on each group's full [min, max]; one
// outlier weight stretches the step for all the others. Shrinking the range
// (clipping) trades a large error on a few weights for a smaller one on
// many. Which trade wins depends on the inputs those weights meet, so the
// search scores each candidate by the linear's output error under H, as
// the clip search of AWQ (Lin et al. 2023) and OmniQuant's learnable
// clipping do, rather than by weight MSE.
//
//===----------------------------------------------------------------------===//

#include "microscale/Quant/Calibrated.h"

#include "DotProduct.h"

#include <algorithm>
#include <cassert>
#include <tuple>

using namespace mlir::microscale::quant;

QuantizedMatrix mlir::microscale::quant::quantizeWithGroupParams(
    llvm::ArrayRef<float> weights, int64_t rows, int64_t cols,
    const Format &unresolved, llvm::ArrayRef<GroupParams> params) {
  const Format format = resolveScaleRange(unresolved, weights, rows, cols);
  const int64_t groups = format.numGroups(cols);
  const int64_t size = format.groupSize(cols);
  assert(static_cast<int64_t>(weights.size()) == rows * cols);
  assert(static_cast<int64_t>(params.size()) == rows * groups);
  QuantizedMatrix result;
  result.format = format;
  result.rows = rows;
  result.cols = cols;
  const int64_t rowBytes = format.rowBytes(cols);
  result.packed.assign(rows * rowBytes, 0);
  result.scales.assign(rows * groups, 0.0f);
  if (!format.symmetric)
    result.zeroPoints.assign(rows * groups, 0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t g = 0; g < groups; ++g) {
      GroupParams p = params[r * groups + g];
      result.scales[r * groups + g] = p.scale;
      if (!format.symmetric)
        result.zeroPoints[r * groups + g] = static_cast<uint8_t>(p.zeroPoint);
      for (int64_t c = g * size, e = std::min(cols, c + size); c < e; ++c)
        storeCode(result.packed.data() + r * rowBytes, format.bits, c,
                  quantizeValue(weights[r * cols + c], p, format));
    }
  return result;
}

std::vector<GroupParams>
mlir::microscale::quant::allGroupParams(const QuantizedMatrix &matrix) {
  const int64_t groups = matrix.format.numGroups(matrix.cols);
  std::vector<GroupParams> params(matrix.rows * groups);
  for (int64_t r = 0; r < matrix.rows; ++r)
    for (int64_t g = 0; g < groups; ++g)
      params[r * groups + g] = groupParams(matrix, r, g);
  return params;
}

namespace {

/// The search state of one row: its current rounding error d = w - q and,
/// with the full Hessian, H d, so that the error change of re-rounding one
/// group costs O(groupSize^2) instead of O(cols^2).
class RowClipSearch {
public:
  RowClipSearch(const float *row, const Format &format,
                const InputStatistics &stats, const ClipSearchOptions &options)
      : row(row), format(format), stats(stats), options(options),
        cols(stats.cols), d(cols), hd(options.fullHessian ? cols : 0) {
    int steps = std::max(1, options.steps);
    for (int k = 0; k <= steps; ++k)
      grid.push_back(1.0f - (1.0f - options.minRatio) * k / steps);
  }

  /// Starts from `params` (one per group) and improves them in place;
  /// `ratios` receives each group's shared ratio.
  void run(GroupParams *params, float *ratios);

private:
  /// Grid indices of a group's ratios: the shared one, and those of the
  /// minimum and the maximum (equal to it unless the ends were searched).
  struct Ratios {
    int shared = 0, low = 0, high = 0;
  };
  struct Candidate {
    double change = 0.0;
    GroupParams params;
    Ratios ratios;
    std::vector<double> error; // The group's new d.
  };
  /// Tries grid indices [first, last] with `make` (index -> ratios).
  template <typename Make>
  void scan(int64_t begin, int64_t end, int first, int last, Make make,
            Candidate &best, Candidate &scratch);
  void searchGroup(int64_t begin, int64_t end, int window, Candidate &best,
                   Candidate &scratch);

  void roundGroup(int64_t begin, int64_t end, GroupParams p, double *out) const;
  /// Error change if group [begin, end) had rounding error `next`.
  double errorChange(int64_t begin, int64_t end, const double *next);
  void consider(int64_t begin, int64_t end, Ratios ratios, Candidate &best,
                Candidate &scratch);
  void commit(int64_t begin, int64_t end, const std::vector<double> &next);

  const float *row;
  const Format &format;
  const InputStatistics &stats;
  const ClipSearchOptions &options;
  const int64_t cols;
  std::vector<double> d, hd, delta;
  std::vector<float> grid;
};

} // namespace

void RowClipSearch::roundGroup(int64_t begin, int64_t end, GroupParams p,
                               double *out) const {
  for (int64_t c = begin; c < end; ++c)
    out[c - begin] = static_cast<double>(row[c]) -
                     static_cast<double>(
                         dequantizeValue(quantizeValue(row[c], p, format), p));
}

double RowClipSearch::errorChange(int64_t begin, int64_t end,
                                  const double *next) {
  const int64_t n = end - begin;
  if (!options.fullHessian) {
    double change = 0.0;
    for (int64_t i = 0; i < n; ++i)
      change += stats.at(begin + i, begin + i) *
                (next[i] * next[i] - d[begin + i] * d[begin + i]);
    return change;
  }
  // With delta = next - d on the group: 2 delta.(H d) + delta^T H delta.
  delta.resize(n);
  for (int64_t i = 0; i < n; ++i)
    delta[i] = next[i] - d[begin + i];
  double linear = detail::dotProduct(delta.data(), hd.data() + begin, n);
  double quadratic = 0.0;
  for (int64_t i = 0; i < n; ++i)
    if (delta[i] != 0.0)
      quadratic += delta[i] * detail::dotProduct(stats.hessian.data() +
                                                     (begin + i) * cols + begin,
                                                 delta.data(), n);
  return 2.0 * linear + quadratic;
}

void RowClipSearch::consider(int64_t begin, int64_t end, Ratios ratios,
                             Candidate &best, Candidate &scratch) {
  auto [lo, hi] = std::minmax_element(row + begin, row + end);
  scratch.params = computeGroupParams(*lo * grid[ratios.low],
                                      *hi * grid[ratios.high], format);
  scratch.ratios = ratios;
  roundGroup(begin, end, scratch.params, scratch.error.data());
  scratch.change = errorChange(begin, end, scratch.error.data());
  if (scratch.change < best.change)
    std::swap(best, scratch);
}

template <typename Make>
void RowClipSearch::scan(int64_t begin, int64_t end, int first, int last,
                         Make make, Candidate &best, Candidate &scratch) {
  // Every ratio in the range: with outlier weights the error is not
  // unimodal in the ratio (clipping an outlier first costs, then pays), so
  // stopping at the first rise loses much of the gain.
  last = std::min<int>(last, static_cast<int>(grid.size()) - 1);
  for (int k = std::max(0, first); k <= last; ++k)
    consider(begin, end, make(k), best, scratch);
}

/// One group's best ratios given the rest of the row; `window` > 0 limits
/// the grid to that many steps either side of the current ratios.
void RowClipSearch::searchGroup(int64_t begin, int64_t end, int window,
                                Candidate &best, Candidate &scratch) {
  const int last = static_cast<int>(grid.size()) - 1;
  auto range = [&](int center) {
    return window > 0 ? std::make_pair(center - window, center + window)
                      : std::make_pair(0, last);
  };
  Ratios current = best.ratios;
  auto [first, stop] = range(current.shared);
  scan(
      begin, end, first, stop, [](int k) { return Ratios{k, k, k}; }, best,
      scratch);
  if (format.symmetric || !options.separateEnds)
    return;
  // Coordinate search from the best so far: first the maximum's ratio,
  // then the minimum's, near the shared ratio (the ends rarely want to be
  // far apart, and the whole grid for both would triple the search).
  auto near = [&](int center) {
    int reach = window > 0 ? window : std::max(1, options.endsWindow);
    return std::make_pair(center - reach, center + reach);
  };
  Ratios from = best.ratios;
  std::tie(first, stop) = near(from.high);
  scan(
      begin, end, first, stop,
      [&](int k) { return Ratios{from.shared, from.low, k}; }, best, scratch);
  from = best.ratios;
  std::tie(first, stop) = near(from.low);
  scan(
      begin, end, first, stop,
      [&](int k) { return Ratios{from.shared, k, from.high}; }, best, scratch);
}

void RowClipSearch::commit(int64_t begin, int64_t end,
                           const std::vector<double> &next) {
  for (int64_t i = begin; i < end; ++i) {
    double delta = next[i - begin] - d[i];
    if (delta == 0.0)
      continue;
    d[i] = next[i - begin];
    if (options.fullHessian) {
      const double *h = stats.hessian.data() + i * cols; // Column i of H.
      for (int64_t j = 0; j < cols; ++j)
        hd[j] += h[j] * delta;
    }
  }
}

void RowClipSearch::run(GroupParams *params, float *ratios) {
  const int64_t size = format.groupSize(cols);
  const int64_t groups = format.numGroups(cols);
  for (int64_t g = 0; g < groups; ++g)
    roundGroup(g * size, std::min(cols, (g + 1) * size), params[g],
               d.data() + g * size);
  if (options.fullHessian)
    for (int64_t i = 0; i < cols; ++i) {
      const double *h = stats.hessian.data() + i * cols;
      hd[i] = detail::dotProduct(h, d.data(), cols);
    }
  // Each group's current ratios (index 0, ratio 1, is round-to-nearest).
  std::vector<Ratios> current(groups);
  Candidate best, scratch;
  best.error.resize(size);
  scratch.error.resize(size);
  // A single group has nothing to interact with: one sweep is exact.
  int sweeps = groups == 1 ? 1 : std::max(1, options.sweeps);
  for (int sweep = 0; sweep < sweeps; ++sweep) {
    bool changed = false;
    for (int64_t g = 0; g < groups; ++g) {
      int64_t begin = g * size, end = std::min(cols, begin + size);
      // Only a strict improvement over the current rounding is taken. After
      // the first sweep the other groups have moved a little, so a group's
      // best ratio moves a little too: a window around it is searched.
      best.change = 0.0;
      best.ratios = current[g];
      searchGroup(begin, end, sweep == 0 ? 0 : options.refineWindow, best,
                  scratch);
      if (best.change < 0.0) {
        commit(begin, end, best.error);
        params[g] = best.params;
        ratios[g] = grid[best.ratios.shared];
        current[g] = best.ratios;
        changed = true;
      }
    }
    if (!changed)
      break;
  }
}

ClipSearchResult mlir::microscale::quant::searchClipping(
    llvm::ArrayRef<float> weights, int64_t rows, int64_t cols,
    const Format &unresolved, const InputStatistics &stats,
    const ClipSearchOptions &options) {
  const Format format = resolveScaleRange(unresolved, weights, rows, cols);
  assert(stats.cols == cols &&
         static_cast<int64_t>(weights.size()) == rows * cols);
  const int64_t groups = format.numGroups(cols);
  const int64_t size = format.groupSize(cols);
  ClipSearchResult result;
  result.clipRatios.assign(rows * groups, 1.0f);
  result.params.resize(rows * groups);
  for (int64_t r = 0; r < rows; ++r) {
    const float *row = weights.data() + r * cols;
    for (int64_t g = 0; g < groups; ++g) {
      auto [lo, hi] = std::minmax_element(row + g * size,
                                          row + std::min(cols, (g + 1) * size));
      result.params[r * groups + g] = computeGroupParams(*lo, *hi, format);
    }
    RowClipSearch search(row, format, stats, options);
    search.run(result.params.data() + r * groups,
               result.clipRatios.data() + r * groups);
  }
  return result;
}
