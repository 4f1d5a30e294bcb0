//===- Sparsity.cpp - unstructured and N:M weight sparsity ----------------===//
//
// Part of the Microscale project.
//
// Magnitude and Wanda score each weight once and prune the lowest scores.
// SparseGPT runs GPTQ's column-by-column update with pruning in place of
// rounding, using the quantization library's inverse-Hessian factor.
//
//===----------------------------------------------------------------------===//

#include "microscale/Prune/Sparsity.h"

#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <numeric>

using namespace mlir::microscale;
using namespace mlir::microscale::prune;

llvm::Expected<NMPattern> prune::parseNMPattern(llvm::StringRef text) {
  auto [first, second] = text.split(':');
  NMPattern pattern;
  if (!text.contains(':') || first.trim().getAsInteger(10, pattern.n) ||
      second.trim().getAsInteger(10, pattern.m))
    return llvm::createStringError(
        "a pattern is N:M (keep N of every M consecutive weights), got '" +
        text + "'");
  if (pattern.n < 1 || pattern.n >= pattern.m || pattern.m > kMaxPatternGroup)
    return llvm::createStringError(
        llvm::formatv("pattern {0} must have 1 <= N < M <= {1}", text,
                      kMaxPatternGroup)
            .str());
  return pattern;
}

std::optional<SparsityMethod> prune::parseSparsityMethod(llvm::StringRef text) {
  if (text == "magnitude")
    return SparsityMethod::Magnitude;
  if (text == "wanda")
    return SparsityMethod::Wanda;
  if (text == "sparsegpt")
    return SparsityMethod::SparseGPT;
  return std::nullopt;
}

int64_t prune::prunedCount(double fraction, int64_t total) {
  return std::clamp<int64_t>(std::llround(fraction * double(total)), 0, total);
}

std::vector<double>
prune::weightImportance(llvm::ArrayRef<float> weights, int64_t rows,
                        int64_t cols, SparsityMethod method,
                        const quant::InputStatistics *stats) {
  assert(static_cast<int64_t>(weights.size()) == rows * cols);
  std::vector<double> inputNorms(cols, 1.0);
  if (method == SparsityMethod::Wanda) {
    assert(stats && stats->cols == cols);
    for (int64_t c = 0; c < cols; ++c)
      inputNorms[c] = std::sqrt(std::max(0.0, stats->at(c, c)));
  }
  std::vector<double> scores(rows * cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      scores[r * cols + c] = std::fabs(weights[r * cols + c]) * inputNorms[c];
  return scores;
}

namespace {

/// Marks the `count` entries of `candidates` (indices into `scores`) with
/// the lowest scores, ties to the lower index.
void markLowest(llvm::ArrayRef<double> scores, std::vector<int64_t> &candidates,
                int64_t count, std::vector<uint8_t> &pruned) {
  count = std::min<int64_t>(count, candidates.size());
  if (count <= 0)
    return;
  auto lower = [&](int64_t a, int64_t b) {
    return scores[a] != scores[b] ? scores[a] < scores[b] : a < b;
  };
  std::nth_element(candidates.begin(), candidates.begin() + (count - 1),
                   candidates.end(), lower);
  for (int64_t i = 0; i < count; ++i)
    pruned[candidates[i]] = 1;
}

/// The pattern's choice in row `row`'s group of columns [begin, end).
void markPatternGroup(llvm::ArrayRef<double> scores, int64_t cols, int64_t row,
                      int64_t begin, int64_t end, NMPattern pattern,
                      std::vector<uint8_t> &pruned) {
  std::vector<int64_t> candidates(end - begin);
  std::iota(candidates.begin(), candidates.end(), row * cols + begin);
  int64_t size = end - begin;
  markLowest(scores, candidates, size - std::min(pattern.n, size), pruned);
}

/// Columns [begin, end) of each row: how many a row (scope Row) or the
/// whole block (scope Matrix) prunes so that the blocks up to `end` have
/// pruned the share of the columns up to `end`, rounded; the counts add up
/// to those of selectPruned over the full matrix.
void markUnstructuredBlock(llvm::ArrayRef<double> scores, int64_t rows,
                           int64_t cols, int64_t begin, int64_t end,
                           const SparsityOptions &options,
                           std::vector<uint8_t> &pruned) {
  std::vector<int64_t> candidates;
  if (options.scope == SparsityScope::Row) {
    int64_t count = prunedCount(options.fraction, end) -
                    prunedCount(options.fraction, begin);
    for (int64_t r = 0; r < rows; ++r) {
      candidates.resize(end - begin);
      std::iota(candidates.begin(), candidates.end(), r * cols + begin);
      markLowest(scores, candidates, count, pruned);
    }
    return;
  }
  int64_t count = prunedCount(options.fraction, rows * end) -
                  prunedCount(options.fraction, rows * begin);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = begin; c < end; ++c)
      candidates.push_back(r * cols + c);
  markLowest(scores, candidates, count, pruned);
}

} // namespace

std::vector<uint8_t> prune::selectPruned(llvm::ArrayRef<double> scores,
                                         int64_t rows, int64_t cols,
                                         const SparsityOptions &options) {
  assert(static_cast<int64_t>(scores.size()) == rows * cols);
  std::vector<uint8_t> pruned(rows * cols, 0);
  if (options.pattern.isSet()) {
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t begin = 0; begin < cols; begin += options.pattern.m)
        markPatternGroup(scores, cols, r, begin,
                         std::min(cols, begin + options.pattern.m),
                         options.pattern, pruned);
    return pruned;
  }
  markUnstructuredBlock(scores, rows, cols, 0, cols, options, pruned);
  return pruned;
}

namespace {

/// SparseGPT on one matrix: `w` is updated in place, `pruned` filled.
class SparseGPTPruner {
public:
  SparseGPTPruner(std::vector<float> &w, std::vector<uint8_t> &pruned,
                  int64_t rows, int64_t cols, llvm::ArrayRef<float> u,
                  const SparsityOptions &options)
      : w(w), pruned(pruned), rows(rows), cols(cols), u(u), options(options) {
    block = std::max<int64_t>(1, options.blockSize);
    // A pattern group's mask is chosen from weights that have received all
    // earlier updates, so groups do not straddle blocks.
    if (options.pattern.isSet())
      block =
          options.pattern.m * std::max<int64_t>(1, block / options.pattern.m);
  }

  void run();

private:
  /// The OBS cost of pruning each weight of columns [begin, end) now,
  /// w^2 / U_jj^2 (U_jj^2 is [H^-1]_jj of the columns not yet visited).
  void scoreColumns(int64_t begin, int64_t end);
  void pruneBlock(int64_t begin, int64_t end);

  std::vector<float> &w;
  std::vector<uint8_t> &pruned;
  const int64_t rows, cols;
  llvm::ArrayRef<float> u;
  const SparsityOptions &options;
  int64_t block;
  std::vector<double> scores;
  std::vector<float> errors;
};

} // namespace

void SparseGPTPruner::scoreColumns(int64_t begin, int64_t end) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = begin; c < end; ++c) {
      double weight = w[r * cols + c], diagonal = u[c * cols + c];
      scores[r * cols + c] = weight * weight / (diagonal * diagonal);
    }
}

void SparseGPTPruner::pruneBlock(int64_t begin, int64_t end) {
  const int64_t width = end - begin;
  if (!options.pattern.isSet()) {
    scoreColumns(begin, end);
    markUnstructuredBlock(scores, rows, cols, begin, end, options, pruned);
  }
  errors.assign(rows * width, 0.0f);
  for (int64_t i = begin; i < end; ++i) {
    if (options.pattern.isSet() && (i - begin) % options.pattern.m == 0) {
      int64_t groupEnd = std::min(cols, i + options.pattern.m);
      scoreColumns(i, groupEnd);
      for (int64_t r = 0; r < rows; ++r)
        markPatternGroup(scores, cols, r, i, groupEnd, options.pattern, pruned);
    }
    const float *ui = u.data() + i * cols;
    for (int64_t r = 0; r < rows; ++r) {
      if (!pruned[r * cols + i])
        continue;
      float *row = w.data() + r * cols;
      // Pruning w_i leaves the error w_i, which the block's later columns
      // take up at once; the columns after the block wait for the rest.
      float error = row[i] / ui[i];
      row[i] = 0.0f;
      errors[r * width + (i - begin)] = error;
      for (int64_t j = i + 1; j < end; ++j)
        row[j] -= error * ui[j];
    }
  }
  for (int64_t k = begin; k < end; ++k) {
    const float *uk = u.data() + k * cols;
    for (int64_t r = 0; r < rows; ++r) {
      float error = errors[r * width + (k - begin)];
      if (error == 0.0f)
        continue;
      float *row = w.data() + r * cols;
      for (int64_t j = end; j < cols; ++j)
        row[j] -= error * uk[j];
    }
  }
}

void SparseGPTPruner::run() {
  scores.assign(rows * cols, 0.0);
  for (int64_t begin = 0; begin < cols; begin += block)
    pruneBlock(begin, std::min(cols, begin + block));
}

SparseMatrix prune::sparsify(llvm::ArrayRef<float> weights, int64_t rows,
                             int64_t cols, const SparsityOptions &options,
                             const quant::InputStatistics *stats) {
  assert(static_cast<int64_t>(weights.size()) == rows * cols);
  SparseMatrix result;
  result.weights.assign(weights.begin(), weights.end());
  if (options.method == SparsityMethod::SparseGPT) {
    assert(stats && stats->cols == cols);
    std::vector<int64_t> order(cols);
    std::iota(order.begin(), order.end(), 0);
    std::vector<float> u =
        quant::inverseHessianFactor(*stats, order, options.dampening);
    result.pruned.assign(rows * cols, 0);
    SparseGPTPruner(result.weights, result.pruned, rows, cols, u, options)
        .run();
    return result;
  }
  result.pruned =
      selectPruned(weightImportance(weights, rows, cols, options.method, stats),
                   rows, cols, options);
  for (int64_t i = 0; i < rows * cols; ++i)
    if (result.pruned[i])
      result.weights[i] = 0.0f;
  return result;
}

bool prune::followsPattern(llvm::ArrayRef<float> weights, int64_t rows,
                           int64_t cols, NMPattern pattern) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t begin = 0; begin < cols; begin += pattern.m) {
      int64_t end = std::min(cols, begin + pattern.m);
      int64_t nonzero = std::count_if(
          weights.begin() + r * cols + begin, weights.begin() + r * cols + end,
          [](float value) { return value != 0.0f; });
      if (nonzero > pattern.n)
        return false;
    }
  return true;
}
