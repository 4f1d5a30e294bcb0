//===- Prune.h - structured pruning math ------------------------*- C++ -*-===//
//
// Part of the Microscale project.
//
// Removing an attention head or an MLP channel removes columns of the
// projection that reads them (the attention output projection, the MLP down
// projection). What that costs, and how much of it the remaining columns can
// win back, depends only on the projection's input statistics
// H = X^T X on calibration text:
//
//   error(W') = ||X W^T - X_S W'^T||^2 summed over tokens
//             = tr(W H W^T) - 2 tr(W H[:,S] W'^T) + tr(W' H[S,S] W'^T)
//
// for a matrix W' on the kept columns S. Its minimizer is the least-squares
// refit W' = W H[:,S] H[S,S]^-1 (ridge-regularized here), so a pruned block
// needs no training to match the unpruned one as closely as a linear map
// can. This file also chooses which query heads a grouped-query attention
// keeps, since its kv groups must stay equally sized.
//
// No MLIR: matrices are row-major `[rows (out), cols (in)]` floats, H is
// `[cols, cols]` row-major doubles.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_PRUNE_PRUNE_H
#define MICROSCALE_PRUNE_PRUNE_H

#include "llvm/ADT/ArrayRef.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace mlir::microscale::prune {

//===----------------------------------------------------------------------===//
// Slicing
//===----------------------------------------------------------------------===//

/// Columns `kept` (in that order) of the `[rows, cols]` matrix `w`.
std::vector<float> selectColumns(llvm::ArrayRef<float> w, int64_t rows,
                                 int64_t cols, llvm::ArrayRef<int64_t> kept);
/// Rows `kept` (in that order) of a matrix with `cols` columns; a vector is
/// a matrix with one column.
std::vector<float> selectRows(llvm::ArrayRef<float> w, int64_t cols,
                              llvm::ArrayRef<int64_t> kept);
/// The indices `group * groupSize + i` of the `groups` (each `groupSize`
/// wide), in order: the columns of heads, the rows of channels.
std::vector<int64_t> expandGroups(llvm::ArrayRef<int64_t> groups,
                                  int64_t groupSize);

//===----------------------------------------------------------------------===//
// Repair
//===----------------------------------------------------------------------===//

/// The output error of `pruned` (`[rows, kept.size()]`, reading columns
/// `kept`) standing in for `w` (`[rows, cols]`), under H.
double columnPruningError(llvm::ArrayRef<float> w, int64_t rows, int64_t cols,
                          llvm::ArrayRef<double> hessian,
                          llvm::ArrayRef<int64_t> kept,
                          llvm::ArrayRef<float> pruned);

/// The ridge refit W H[:,S] (H[S,S] + lambda I)^-1 on the columns S =
/// `kept`, or std::nullopt when H[S,S] + lambda I is not positive definite
/// (lambda <= 0 on degenerate statistics).
std::optional<std::vector<float>> refitColumns(llvm::ArrayRef<float> w,
                                               int64_t rows, int64_t cols,
                                               llvm::ArrayRef<double> hessian,
                                               llvm::ArrayRef<int64_t> kept,
                                               double lambda);

/// A matrix with columns removed, and what that cost.
struct ColumnRepair {
  /// `[rows, kept.size()]`.
  std::vector<float> weights;
  /// Output error of the kept columns as they were, and of `weights`.
  double unrefitError = 0.0;
  double error = 0.0;
  /// Whether `weights` is the refit (it lowered the error).
  bool refit = false;
};

/// Removes every column of `w` but `kept`. With `refit`, the remaining
/// columns are refit by ridge least squares, lambda = `dampening` times the
/// mean of H[S,S]'s diagonal; the refit is kept only when it lowers the
/// output error, so the repair never makes the matrix worse.
ColumnRepair pruneColumns(llvm::ArrayRef<float> w, int64_t rows, int64_t cols,
                          llvm::ArrayRef<double> hessian,
                          llvm::ArrayRef<int64_t> kept, bool refit,
                          double dampening);

/// The repair toward a target the pruned model no longer sees exactly: the
/// projection `w` (`[rows, n]`) read X (`[tokens, n]`, Gram `targetGram`),
/// the pruned model feeds it Z (`[tokens, k]`, Gram `gram`) instead, and
/// `cross` = X^T Z (`[n, k]`). Z's column j stands for X's column
/// `kept[j]`. The refit W' = W X^T Z (Z^T Z + lambda I)^-1 minimizes
/// ||X W^T - Z W'^T||^2 (ridge as in pruneColumns), so a layer also
/// repairs what the pruning of earlier layers changed in its input; it is
/// kept only when its error is below that of W's columns `kept` applied to
/// Z. pruneColumns is the case Z = X[:, kept].
ColumnRepair pruneColumnsTowardTarget(llvm::ArrayRef<float> w, int64_t rows,
                                      int64_t n,
                                      llvm::ArrayRef<double> targetGram,
                                      llvm::ArrayRef<double> cross,
                                      llvm::ArrayRef<double> gram,
                                      llvm::ArrayRef<int64_t> kept, bool refit,
                                      double dampening);

//===----------------------------------------------------------------------===//
// Importance
//===----------------------------------------------------------------------===//

/// The output error of removing each group of `groupSize` consecutive
/// columns alone (`cols / groupSize` groups): with `compensated`, the least
/// error once the other columns are refit, sum over rows of
/// W_R ([H^-1]_RR)^-1 W_R^T with H damped by `dampening` times its mean
/// diagonal (the optimal-brain-surgeon cost of the group); otherwise the
/// energy the group adds to the output, tr(W_R H[R,R] W_R^T).
std::vector<double> groupRemovalErrors(llvm::ArrayRef<float> w, int64_t rows,
                                       int64_t cols,
                                       llvm::ArrayRef<double> hessian,
                                       int64_t groupSize, bool compensated,
                                       double dampening);

/// Removes `count` single columns greedily: each step takes the column
/// whose removal, with the others refit, costs the least output error, and
/// updates the refit and H^-1 before the next step (optimal brain surgeon,
/// H damped as above). Returns the removed columns in removal order.
std::vector<int64_t> greedyColumnRemoval(llvm::ArrayRef<float> w, int64_t rows,
                                         int64_t cols,
                                         llvm::ArrayRef<double> hessian,
                                         int64_t count, double dampening);

//===----------------------------------------------------------------------===//
// Heads of grouped-query attention
//===----------------------------------------------------------------------===//

/// One layer's query heads: `kvHeads` groups of `queriesPerKvHead`
/// consecutive query heads, and what removing each query head costs
/// (higher: more important).
struct LayerHeads {
  int64_t kvHeads = 1;
  int64_t queriesPerKvHead = 1;
  std::vector<double> costs;
};

/// The query heads a layer keeps (ascending). Query head h reads kv group
/// h / queriesPerKvHead, and the pruned layer must still give every kept
/// group the same number of query heads: a layer keeps g groups of m heads
/// (g <= kvHeads, m <= queriesPerKvHead, g * m >= 1). A group whose query
/// heads all go takes its keys and values with it.
using HeadSelection = std::vector<std::vector<int64_t>>;

/// For each number r of query heads removed (0 .. heads - 1), the heads the
/// cheapest shape that removes r keeps, the costs taken as additive; empty
/// where no shape removes exactly r.
std::vector<std::vector<int64_t>> cheapestKeptHeads(const LayerHeads &layer);

/// How many units each layer loses so that `count` go in all with the least
/// total cost, where `costs[l][r]` is what layer l losing r units costs
/// (infinity where it cannot; `costs[l][0]` is 0). Exactly `count` when
/// reachable, else the fewest above it, else the most below it. Dynamic
/// programming over the layers: exact for costs that add up over layers.
std::vector<int64_t> allocateRemovals(llvm::ArrayRef<std::vector<double>> costs,
                                      int64_t count);

/// Removes `count` query heads over all layers with the least total cost
/// (the costs taken as additive), exactly when the group shapes allow that
/// many, else the fewest above it (or, when none is, the most that can go).
HeadSelection selectHeadsGlobally(llvm::ArrayRef<LayerHeads> layers,
                                  int64_t count);

/// Removes `countPerLayer[l]` query heads of each layer (or the nearest
/// count its group shapes allow, preferring more), the cheapest way.
HeadSelection selectHeadsPerLayer(llvm::ArrayRef<LayerHeads> layers,
                                  llvm::ArrayRef<int64_t> countPerLayer);

} // namespace mlir::microscale::prune

#endif // MICROSCALE_PRUNE_PRUNE_H
