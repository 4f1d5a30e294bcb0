//===- Sparsity.h - unstructured and N:M weight sparsity --------*- C++ -*-===//
//
// Part of the Microscale project.
//
// Zeroing single weights of a matrix, either anywhere (unstructured, a
// share of each row or of the whole matrix) or in an N:M pattern (in every
// group of M consecutive inputs of a row at most N weights stay, the
// pattern sparse tensor cores and sparse kernels use). Three ways to choose
// the zeros, all measured by the output error on calibration inputs X,
//
//   ||X W^T - X W'^T||^2 = tr(dW H dW^T),  H = X^T X:
//
// - magnitude: the smallest |W_ij| go (needs no calibration);
// - Wanda (Sun et al. 2023): the smallest |W_ij| * ||X_j||, with
//   ||X_j|| = sqrt(H_jj) the norm of input j over the calibration tokens;
// - SparseGPT (Frantar and Alistarh 2023): the columns are visited in
//   order and the weights pruned in a column leave an error the columns
//   not yet visited compensate through H^-1 (the optimal brain surgeon
//   update GPTQ uses for rounding, with the same inverse-Hessian Cholesky
//   factor). The mask is chosen adaptively a block of columns at a time,
//   from the weights as the earlier blocks' updates left them, by the
//   OBS cost w^2 / [H^-1]_jj.
//
// No MLIR: matrices are row-major `[rows (out), cols (in)]` floats.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_PRUNE_SPARSITY_H
#define MICROSCALE_PRUNE_SPARSITY_H

#include "microscale/Quant/Calibrated.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace mlir::microscale::prune {

enum class SparsityMethod { Magnitude, Wanda, SparseGPT };

/// Where an unstructured share is counted: in every output row (Wanda's
/// comparison group; each row keeps the same number of weights) or over
/// the whole matrix.
enum class SparsityScope { Row, Matrix };

/// N:M: in every group of `m` consecutive inputs of a row at most `n`
/// weights are nonzero. A row whose length is not a multiple of `m` ends in
/// a shorter group of r < m inputs that keeps min(n, r) of them, so the row
/// padded with zeros to a multiple of `m` follows the pattern.
struct NMPattern {
  int64_t n = 0, m = 0;

  bool isSet() const { return m > 0; }
  /// The share of weights pruned on rows that are a multiple of `m` long.
  double sparsity() const { return isSet() ? 1.0 - double(n) / m : 0.0; }
};

/// The largest group an N:M pattern may have.
constexpr int64_t kMaxPatternGroup = 64;

/// Parses `N:M` with 1 <= N < M <= kMaxPatternGroup; the error says what
/// is wrong.
llvm::Expected<NMPattern> parseNMPattern(llvm::StringRef text);

/// `magnitude`, `wanda` or `sparsegpt`.
std::optional<SparsityMethod> parseSparsityMethod(llvm::StringRef text);

struct SparsityOptions {
  SparsityMethod method = SparsityMethod::SparseGPT;
  /// Share of weights to prune, in [0, 1) (unstructured; unused with a
  /// pattern).
  double fraction = 0.0;
  /// When set, the pattern decides what is pruned instead of `fraction`.
  NMPattern pattern;
  SparsityScope scope = SparsityScope::Row;
  /// SparseGPT: added to H's diagonal, as a fraction of its mean.
  double dampening = 0.01;
  /// SparseGPT: columns whose mask is chosen together and whose updates
  /// go to the later columns at once (a multiple of the pattern's group).
  int64_t blockSize = 128;
};

/// How many of `total` weights an unstructured `fraction` prunes:
/// round(fraction * total).
int64_t prunedCount(double fraction, int64_t total);

/// What keeping each weight is worth to magnitude (|W_ij|) or Wanda
/// (|W_ij| * sqrt(H_jj); `stats` required), `[rows, cols]`.
std::vector<double> weightImportance(llvm::ArrayRef<float> weights,
                                     int64_t rows, int64_t cols,
                                     SparsityMethod method,
                                     const quant::InputStatistics *stats);

/// The weights to prune (1) given their `scores` (`[rows, cols]`, lower
/// goes first, ties to the lower index): the pattern's in every group, or
/// prunedCount(fraction, cols) of each row (scope Row), or
/// prunedCount(fraction, rows * cols) of the matrix (scope Matrix).
std::vector<uint8_t> selectPruned(llvm::ArrayRef<double> scores, int64_t rows,
                                  int64_t cols, const SparsityOptions &options);

/// A matrix with weights pruned, and which.
struct SparseMatrix {
  /// `[rows, cols]`, zero where `pruned`; SparseGPT also changes the kept
  /// weights.
  std::vector<float> weights;
  /// `[rows, cols]`, 1 where a weight was pruned.
  std::vector<uint8_t> pruned;
};

/// Prunes `weights` as `options` say. Wanda and SparseGPT need `stats`
/// (the statistics of the matrix's input, `stats->cols == cols`, checked by
/// quant::verifyStatistics); magnitude ignores them. The number pruned is
/// exactly that of selectPruned, for every method.
SparseMatrix sparsify(llvm::ArrayRef<float> weights, int64_t rows, int64_t cols,
                      const SparsityOptions &options,
                      const quant::InputStatistics *stats);

/// Whether every row of `weights` follows `pattern` (tail groups as
/// NMPattern says).
bool followsPattern(llvm::ArrayRef<float> weights, int64_t rows, int64_t cols,
                    NMPattern pattern);

} // namespace mlir::microscale::prune

#endif // MICROSCALE_PRUNE_SPARSITY_H
