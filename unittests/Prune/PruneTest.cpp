//===- PruneTest.cpp - structured pruning math ------------------*- C++ -*-===//
//
// Part of the Microscale project.
//
// The repair is judged on synthetic correlated activations against the
// output error measured on the activations themselves, the importance
// against brute force, and the head selection against the constraints of
// grouped-query attention and an exhaustive search.
//
//===----------------------------------------------------------------------===//

#include "microscale/Prune/Prune.h"

#include "../Runtime/RandomVector.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

using namespace mlir::microscale::prune;

namespace {

/// [tokens, cols] activations with correlated channels (a rank-6 part plus
/// noise), so that kept columns can stand in for removed ones.
std::vector<float> correlatedActivations(int64_t tokens, int64_t cols,
                                         unsigned seed) {
  const int64_t rank = 6;
  std::vector<float> latent = randomVector(tokens * rank, seed);
  std::vector<float> mixing = randomVector(rank * cols, seed + 1);
  std::vector<float> x = randomVector(tokens * cols, seed + 2);
  for (int64_t t = 0; t < tokens; ++t)
    for (int64_t c = 0; c < cols; ++c) {
      float sum = 0.0f;
      for (int64_t k = 0; k < rank; ++k)
        sum += latent[t * rank + k] * mixing[k * cols + c];
      x[t * cols + c] = 0.2f * x[t * cols + c] + sum;
    }
  return x;
}

std::vector<double> gram(const std::vector<float> &x, int64_t tokens,
                         int64_t cols) {
  std::vector<double> h(cols * cols, 0.0);
  for (int64_t t = 0; t < tokens; ++t)
    for (int64_t i = 0; i < cols; ++i)
      for (int64_t j = 0; j < cols; ++j)
        h[i * cols + j] += static_cast<double>(x[t * cols + i]) *
                           static_cast<double>(x[t * cols + j]);
  return h;
}

/// ||X W^T - X_S W'^T||^2 on the activations themselves.
double measuredError(const std::vector<float> &x, int64_t tokens,
                     const std::vector<float> &w, int64_t rows, int64_t cols,
                     const std::vector<int64_t> &kept,
                     const std::vector<float> &pruned) {
  double total = 0.0;
  const int64_t k = kept.size();
  for (int64_t t = 0; t < tokens; ++t)
    for (int64_t r = 0; r < rows; ++r) {
      double full = 0.0, cut = 0.0;
      for (int64_t c = 0; c < cols; ++c)
        full += static_cast<double>(w[r * cols + c]) * x[t * cols + c];
      for (int64_t j = 0; j < k; ++j)
        cut += static_cast<double>(pruned[r * k + j]) * x[t * cols + kept[j]];
      total += (full - cut) * (full - cut);
    }
  return total;
}

struct Problem {
  int64_t rows = 12, cols = 24, tokens = 400;
  std::vector<float> x, w;
  std::vector<double> h;
};

Problem makeProblem(unsigned seed = 3) {
  Problem p;
  p.x = correlatedActivations(p.tokens, p.cols, seed);
  p.w = randomVector(p.rows * p.cols, seed + 10);
  p.h = gram(p.x, p.tokens, p.cols);
  return p;
}

TEST(PruneTest, SlicesRowsAndColumns) {
  std::vector<float> w = {0, 1, 2, 3, 4, 5}; // [2, 3]
  EXPECT_EQ(selectColumns(w, 2, 3, {2, 0}), (std::vector<float>{2, 0, 5, 3}));
  EXPECT_EQ(selectRows(w, 3, {1}), (std::vector<float>{3, 4, 5}));
  EXPECT_EQ(expandGroups({0, 2}, 2), (std::vector<int64_t>{0, 1, 4, 5}));
}

TEST(PruneTest, ErrorMatchesActivations) {
  Problem p = makeProblem();
  std::vector<int64_t> kept = {0, 2, 3, 7, 11, 15, 16, 20, 23};
  std::vector<float> cut = selectColumns(p.w, p.rows, p.cols, kept);
  double fromStats = columnPruningError(p.w, p.rows, p.cols, p.h, kept, cut);
  double measured =
      measuredError(p.x, p.tokens, p.w, p.rows, p.cols, kept, cut);
  EXPECT_NEAR(fromStats, measured, 1e-6 * measured);
}

TEST(PruneTest, RefitLowersTheOutputError) {
  Problem p = makeProblem();
  std::vector<int64_t> kept;
  for (int64_t c = 0; c < p.cols; c += 2)
    kept.push_back(c);
  ColumnRepair repair = pruneColumns(p.w, p.rows, p.cols, p.h, kept,
                                     /*refit=*/true, /*dampening=*/1e-4);
  ASSERT_TRUE(repair.refit);
  EXPECT_EQ(repair.weights.size(), static_cast<size_t>(p.rows * kept.size()));
  // Correlated channels: half the columns recover most of the output.
  EXPECT_LT(repair.error, 0.1 * repair.unrefitError);
  EXPECT_NEAR(
      repair.error,
      measuredError(p.x, p.tokens, p.w, p.rows, p.cols, kept, repair.weights),
      1e-4 * repair.unrefitError);
  // Least squares: any perturbation of the refit is worse.
  std::vector<float> moved = repair.weights;
  moved[3] += 0.01f;
  EXPECT_GT(columnPruningError(p.w, p.rows, p.cols, p.h, kept, moved),
            repair.error);
}

TEST(PruneTest, RefitNeverMakesThingsWorse) {
  // A huge ridge shrinks the refit toward zero, worse than the plain cut:
  // the repair keeps the cut.
  Problem p = makeProblem();
  std::vector<int64_t> kept = {1, 4, 5, 9, 12, 13, 17, 22};
  ColumnRepair repair = pruneColumns(p.w, p.rows, p.cols, p.h, kept,
                                     /*refit=*/true, /*dampening=*/1e6);
  EXPECT_FALSE(repair.refit);
  EXPECT_EQ(repair.weights, selectColumns(p.w, p.rows, p.cols, kept));
  EXPECT_EQ(repair.error, repair.unrefitError);
}

TEST(PruneTest, TargetRefitRepairsAShiftedInput) {
  // The pruned model feeds the projection Z: the kept columns of X plus a
  // drift (what earlier pruning changed). Toward the target X W^T, the refit
  // beats both the plain cut and the refit that ignores the drift.
  Problem p = makeProblem(7);
  std::vector<int64_t> kept = {0, 3, 4, 8, 9, 13, 17, 18, 21};
  const int64_t k = kept.size();
  std::vector<float> drift = randomVector(p.tokens * k, 21);
  std::vector<float> z(p.tokens * k);
  for (int64_t t = 0; t < p.tokens; ++t)
    for (int64_t j = 0; j < k; ++j)
      z[t * k + j] = p.x[t * p.cols + kept[j]] + 0.3f * drift[t * k + j];
  std::vector<double> gram(k * k, 0.0), cross(p.cols * k, 0.0);
  for (int64_t t = 0; t < p.tokens; ++t) {
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < k; ++j)
        gram[i * k + j] += double(z[t * k + i]) * z[t * k + j];
    for (int64_t i = 0; i < p.cols; ++i)
      for (int64_t j = 0; j < k; ++j)
        cross[i * k + j] += double(p.x[t * p.cols + i]) * z[t * k + j];
  }
  auto measured = [&](const std::vector<float> &pruned) {
    double total = 0.0;
    for (int64_t t = 0; t < p.tokens; ++t)
      for (int64_t r = 0; r < p.rows; ++r) {
        double target = 0.0, out = 0.0;
        for (int64_t c = 0; c < p.cols; ++c)
          target += double(p.w[r * p.cols + c]) * p.x[t * p.cols + c];
        for (int64_t j = 0; j < k; ++j)
          out += double(pruned[r * k + j]) * z[t * k + j];
        total += (target - out) * (target - out);
      }
    return total;
  };
  ColumnRepair repair = pruneColumnsTowardTarget(p.w, p.rows, p.cols, p.h,
                                                 cross, gram, kept, true, 1e-6);
  ASSERT_TRUE(repair.refit);
  EXPECT_NEAR(repair.error, measured(repair.weights), 1e-4 * repair.error);
  EXPECT_NEAR(repair.unrefitError,
              measured(selectColumns(p.w, p.rows, p.cols, kept)),
              1e-6 * repair.unrefitError);
  ColumnRepair unaware =
      pruneColumns(p.w, p.rows, p.cols, p.h, kept, true, 1e-6);
  EXPECT_LT(repair.error, repair.unrefitError);
  EXPECT_LT(repair.error, measured(unaware.weights));
  // Without drift it is pruneColumns.
  std::vector<double> plainGram(k * k), plainCross(p.cols * k);
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < k; ++j)
      plainGram[i * k + j] = p.h[kept[i] * p.cols + kept[j]];
  for (int64_t i = 0; i < p.cols; ++i)
    for (int64_t j = 0; j < k; ++j)
      plainCross[i * k + j] = p.h[i * p.cols + kept[j]];
  ColumnRepair same = pruneColumnsTowardTarget(
      p.w, p.rows, p.cols, p.h, plainCross, plainGram, kept, true, 1e-6);
  EXPECT_NEAR(same.error, unaware.error, 1e-6 * unaware.unrefitError);
}

TEST(PruneTest, RemovalErrorsMatchBruteForce) {
  Problem p = makeProblem();
  const int64_t groupSize = 4, groups = p.cols / groupSize;
  std::vector<double> plain =
      groupRemovalErrors(p.w, p.rows, p.cols, p.h, groupSize, false, 0.0);
  std::vector<double> compensated =
      groupRemovalErrors(p.w, p.rows, p.cols, p.h, groupSize, true, 1e-8);
  for (int64_t g = 0; g < groups; ++g) {
    std::vector<int64_t> kept;
    for (int64_t c = 0; c < p.cols; ++c)
      if (c / groupSize != g)
        kept.push_back(c);
    ColumnRepair repair =
        pruneColumns(p.w, p.rows, p.cols, p.h, kept, true, 1e-8);
    EXPECT_NEAR(plain[g], repair.unrefitError, 1e-6 * repair.unrefitError);
    EXPECT_NEAR(compensated[g], repair.error, 1e-3 * repair.error + 1e-6);
    EXPECT_LE(compensated[g], plain[g]);
  }
}

TEST(PruneTest, GreedyRemovalBeatsMagnitude) {
  Problem p = makeProblem(5);
  const int64_t count = p.cols / 2;
  std::vector<int64_t> greedy =
      greedyColumnRemoval(p.w, p.rows, p.cols, p.h, count, 1e-6);
  ASSERT_EQ(static_cast<int64_t>(greedy.size()), count);
  EXPECT_EQ(std::set<int64_t>(greedy.begin(), greedy.end()).size(),
            greedy.size());
  auto keptAfter = [&](std::vector<int64_t> removed) {
    std::vector<int64_t> kept;
    for (int64_t c = 0; c < p.cols; ++c)
      if (std::find(removed.begin(), removed.end(), c) == removed.end())
        kept.push_back(c);
    return kept;
  };
  // Baseline: the columns of least weight norm.
  std::vector<double> norms(p.cols, 0.0);
  for (int64_t r = 0; r < p.rows; ++r)
    for (int64_t c = 0; c < p.cols; ++c)
      norms[c] += p.w[r * p.cols + c] * p.w[r * p.cols + c];
  std::vector<int64_t> order(p.cols);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return norms[a] != norms[b] ? norms[a] < norms[b] : a < b;
  });
  order.resize(count);
  double greedyError =
      pruneColumns(p.w, p.rows, p.cols, p.h, keptAfter(greedy), true, 1e-6)
          .error;
  double magnitudeError =
      pruneColumns(p.w, p.rows, p.cols, p.h, keptAfter(order), true, 1e-6)
          .error;
  EXPECT_LT(greedyError, magnitudeError);
}

/// Kept heads must form g groups of equal size.
void expectValidShape(const std::vector<int64_t> &kept,
                      const LayerHeads &layer) {
  ASSERT_FALSE(kept.empty());
  std::vector<int64_t> perGroup(layer.kvHeads, 0);
  for (int64_t head : kept)
    ++perGroup[head / layer.queriesPerKvHead];
  int64_t size = 0;
  for (int64_t n : perGroup) {
    if (n == 0)
      continue;
    if (size == 0)
      size = n;
    EXPECT_EQ(n, size) << "unequal kv groups";
  }
}

double keptCost(const std::vector<int64_t> &kept, const LayerHeads &layer) {
  double sum = 0.0;
  for (int64_t head : kept)
    sum += layer.costs[head];
  return sum;
}

TEST(PruneTest, GroupedHeadsStayEqual) {
  // Two layers of 4 kv groups of 2 query heads.
  LayerHeads a{4, 2, {5, 1, 6, 7, 8, 2, 9, 9}};
  LayerHeads b{4, 2, {0.5, 0.1, 3, 3, 3, 3, 0.2, 0.3}};
  // Two heads can only go as one whole kv group (one query head from each
  // of two groups would leave unequal groups): b's last group, 0.2 + 0.3.
  HeadSelection two = selectHeadsGlobally({a, b}, 2);
  EXPECT_EQ(two[0].size(), 8u);
  EXPECT_EQ(two[1], (std::vector<int64_t>{0, 1, 2, 3, 4, 5}));
  // Four heads from b: one query head of every group (0.1 + 3 + 3 + 0.2)
  // costs more than two whole groups (0.5 + 0.1 + 0.2 + 0.3).
  HeadSelection four = selectHeadsPerLayer({a, b}, {0, 4});
  EXPECT_EQ(four[1], (std::vector<int64_t>{2, 3, 4, 5}));
  // Unreachable counts round up: one head from b means a whole group.
  HeadSelection one = selectHeadsPerLayer({a, b}, {0, 1});
  EXPECT_EQ(one[1].size(), 6u);
  for (const HeadSelection &s : {two, four, one}) {
    expectValidShape(s[0], a);
    expectValidShape(s[1], b);
  }
}

TEST(PruneTest, GlobalSelectionIsOptimal) {
  // Against every combination of per-layer shapes, on random costs.
  std::vector<float> random = randomVector(3 * 8, 11);
  std::vector<LayerHeads> layers;
  for (int64_t l = 0; l < 3; ++l) {
    LayerHeads layer{4, 2, {}};
    for (int64_t h = 0; h < 8; ++h)
      layer.costs.push_back(std::abs(random[l * 8 + h]));
    layers.push_back(layer);
  }
  for (int64_t count : {2, 5, 9, 12}) {
    HeadSelection selection = selectHeadsGlobally(layers, count);
    int64_t removed = 0;
    double kept = 0.0;
    for (size_t l = 0; l < layers.size(); ++l) {
      expectValidShape(selection[l], layers[l]);
      removed += 8 - selection[l].size();
      kept += keptCost(selection[l], layers[l]);
    }
    EXPECT_EQ(removed, count);
    // Brute force: per layer the best kept value for each kept count.
    std::vector<std::vector<double>> bestKept(3, std::vector<double>(9, -1e30));
    for (int64_t l = 0; l < 3; ++l)
      for (int mask = 1; mask < 256; ++mask) {
        std::vector<int64_t> heads;
        for (int64_t h = 0; h < 8; ++h)
          if (mask & (1 << h))
            heads.push_back(h);
        std::vector<int64_t> perGroup(4, 0);
        for (int64_t h : heads)
          ++perGroup[h / 2];
        int64_t size = 0;
        bool valid = true;
        for (int64_t n : perGroup)
          if (n != 0) {
            valid &= size == 0 || n == size;
            size = n;
          }
        if (valid)
          bestKept[l][heads.size()] =
              std::max(bestKept[l][heads.size()], keptCost(heads, layers[l]));
      }
    double best = -1e30;
    for (int64_t k0 = 1; k0 <= 8; ++k0)
      for (int64_t k1 = 1; k1 <= 8; ++k1)
        for (int64_t k2 = 1; k2 <= 8; ++k2)
          if (24 - k0 - k1 - k2 == count)
            best = std::max(best, bestKept[0][k0] + bestKept[1][k1] +
                                      bestKept[2][k2]);
    EXPECT_NEAR(kept, best, 1e-9) << "count " << count;
  }
}

} // namespace
