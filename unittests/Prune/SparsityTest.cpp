//===- SparsityTest.cpp - unstructured and N:M sparsity ---------*- C++ -*-===//
//
// Part of the Microscale project.
//
// Counts and patterns are checked exactly, the choice of small cases by
// hand, and the three methods against each other by the output error on
// synthetic correlated activations with unequal channel scales (where
// Wanda must beat magnitude and SparseGPT must beat both).
//
//===----------------------------------------------------------------------===//

#include "microscale/Prune/Sparsity.h"

#include "../Runtime/RandomVector.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

using namespace mlir::microscale;
using namespace mlir::microscale::prune;

namespace {

/// Statistics of [tokens, cols] activations with correlated channels (a
/// rank-6 part plus noise) whose scales vary over two orders of magnitude,
/// as a transformer's hidden channels do.
quant::InputStatistics correlatedStatistics(int64_t tokens, int64_t cols,
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
      float scale = std::pow(10.0f, 2.0f * float(c % 7) / 6.0f - 1.0f);
      x[t * cols + c] = scale * (0.3f * x[t * cols + c] + sum);
    }
  quant::InputStatistics stats;
  stats.cols = cols;
  quant::accumulateStatistics(stats, x, tokens);
  return stats;
}

/// Statistics whose H is the identity (uncorrelated inputs of equal
/// energy): nothing to compensate, nothing to weigh.
quant::InputStatistics identityStatistics(int64_t cols) {
  quant::InputStatistics stats;
  stats.cols = cols;
  stats.hessian.assign(cols * cols, 0.0);
  for (int64_t c = 0; c < cols; ++c)
    stats.hessian[c * cols + c] = 1.0;
  stats.meanAbs.assign(cols, 1.0);
  stats.tokens = 1;
  return stats;
}

int64_t countPruned(const SparseMatrix &matrix, int64_t begin, int64_t end) {
  int64_t count = 0;
  for (int64_t i = begin; i < end; ++i) {
    if (matrix.pruned[i]) {
      EXPECT_EQ(matrix.weights[i], 0.0f) << "pruned weight " << i;
      ++count;
    }
  }
  return count;
}

const SparsityMethod kMethods[] = {SparsityMethod::Magnitude,
                                   SparsityMethod::Wanda,
                                   SparsityMethod::SparseGPT};

TEST(Sparsity, ParsesPatterns) {
  auto pattern = parseNMPattern("2:4");
  ASSERT_TRUE(static_cast<bool>(pattern));
  EXPECT_EQ(pattern->n, 2);
  EXPECT_EQ(pattern->m, 4);
  EXPECT_DOUBLE_EQ(pattern->sparsity(), 0.5);
  for (const char *bad : {"4:4", "0:4", "5:4", "2:65", "2-4", "a:b", "2:"}) {
    auto parsed = parseNMPattern(bad);
    EXPECT_FALSE(static_cast<bool>(parsed)) << bad;
    if (!parsed)
      EXPECT_NE(llvm::toString(parsed.takeError()).find(bad),
                std::string::npos);
  }
  EXPECT_TRUE(static_cast<bool>(parseNMPattern("1:64")));
}

TEST(Sparsity, MagnitudeAndWandaChooseByHand) {
  // One row; half of it goes.
  std::vector<float> w = {0.1f, -5.0f, 0.2f, 3.0f};
  SparsityOptions options;
  options.fraction = 0.5;
  options.method = SparsityMethod::Magnitude;
  SparseMatrix magnitude = sparsify(w, 1, 4, options, nullptr);
  EXPECT_EQ(magnitude.pruned, (std::vector<uint8_t>{1, 0, 1, 0}));
  EXPECT_EQ(magnitude.weights, (std::vector<float>{0.0f, -5.0f, 0.0f, 3.0f}));
  // Input 0 is 100 times louder than the others: 0.1 * 100 outweighs 3.
  quant::InputStatistics stats = identityStatistics(4);
  stats.hessian[0] = 1e4;
  options.method = SparsityMethod::Wanda;
  SparseMatrix wanda = sparsify(w, 1, 4, options, &stats);
  EXPECT_EQ(wanda.pruned, (std::vector<uint8_t>{0, 0, 1, 1}));
}

TEST(Sparsity, UnstructuredCountsAreExact) {
  const int64_t rows = 9, cols = 37;
  std::vector<float> w = randomVector(rows * cols, 11);
  quant::InputStatistics stats = correlatedStatistics(300, cols, 12);
  for (SparsityMethod method : kMethods) {
    for (double fraction : {0.1, 0.3, 0.5, 0.9}) {
      SparsityOptions options;
      options.method = method;
      options.fraction = fraction;
      options.blockSize = 8; // Several SparseGPT blocks, the last partial.
      SparseMatrix byRow = sparsify(w, rows, cols, options, &stats);
      for (int64_t r = 0; r < rows; ++r)
        EXPECT_EQ(countPruned(byRow, r * cols, (r + 1) * cols),
                  prunedCount(fraction, cols))
            << "method " << int(method) << " fraction " << fraction;
      options.scope = SparsityScope::Matrix;
      SparseMatrix byMatrix = sparsify(w, rows, cols, options, &stats);
      EXPECT_EQ(countPruned(byMatrix, 0, rows * cols),
                prunedCount(fraction, rows * cols))
          << "method " << int(method) << " fraction " << fraction;
    }
  }
  EXPECT_EQ(prunedCount(0.1, 37), 4);
  EXPECT_EQ(prunedCount(0.25, 9 * 37), 83);
}

TEST(Sparsity, PatternsHoldWithTails) {
  // 31 inputs: seven groups of 4 keep 2 each, the tail of 3 keeps 2;
  // 30 inputs: the tail of 2 keeps both.
  quant::InputStatistics stats31 = correlatedStatistics(300, 31, 21);
  quant::InputStatistics stats30 = correlatedStatistics(300, 30, 22);
  NMPattern twoFour = *parseNMPattern("2:4");
  for (SparsityMethod method : kMethods) {
    for (auto [cols, stats, expected] :
         {std::make_tuple(int64_t(31), &stats31, int64_t(7 * 2 + 1)),
          std::make_tuple(int64_t(30), &stats30, int64_t(7 * 2))}) {
      const int64_t rows = 5;
      std::vector<float> w = randomVector(rows * cols, 23);
      SparsityOptions options;
      options.method = method;
      options.pattern = twoFour;
      options.blockSize = 10; // Rounded to whole groups of 4.
      SparseMatrix result = sparsify(w, rows, cols, options, stats);
      EXPECT_TRUE(followsPattern(result.weights, rows, cols, twoFour));
      for (int64_t r = 0; r < rows; ++r) {
        EXPECT_EQ(countPruned(result, r * cols, (r + 1) * cols), expected)
            << "method " << int(method) << " cols " << cols;
        for (int64_t begin = 0; begin + 4 <= cols; begin += 4)
          EXPECT_EQ(countPruned(result, r * cols + begin, r * cols + begin + 4),
                    2);
      }
    }
  }
  // A dense row does not follow 2:4, and neither does a tail of 3 with 3
  // nonzeros.
  std::vector<float> dense(8, 1.0f);
  EXPECT_FALSE(followsPattern(dense, 1, 8, twoFour));
  std::vector<float> tail = {1, 0, 1, 0, 1, 1, 1};
  EXPECT_FALSE(followsPattern(tail, 1, 7, twoFour));
  tail[6] = 0;
  EXPECT_TRUE(followsPattern(tail, 1, 7, twoFour));
  // 1:3 keeps one of every three.
  NMPattern oneThree = *parseNMPattern("1:3");
  std::vector<float> w = randomVector(4 * 12, 24);
  SparsityOptions options;
  options.method = SparsityMethod::Magnitude;
  options.pattern = oneThree;
  SparseMatrix result = sparsify(w, 4, 12, options, nullptr);
  EXPECT_TRUE(followsPattern(result.weights, 4, 12, oneThree));
  EXPECT_EQ(countPruned(result, 0, 48), 4 * 4 * 2);
}

TEST(Sparsity, SparseGPTWithoutCorrelationsIsMagnitude) {
  // With H = I the inverse-Hessian factor is diagonal and equal: no weight
  // is compensated and the OBS cost orders weights like their magnitude.
  const int64_t rows = 6, cols = 37;
  std::vector<float> w = randomVector(rows * cols, 31);
  quant::InputStatistics stats = identityStatistics(cols);
  SparsityOptions options;
  options.fraction = 0.4;
  options.method = SparsityMethod::Magnitude;
  SparseMatrix magnitude = sparsify(w, rows, cols, options, nullptr);
  options.method = SparsityMethod::SparseGPT;
  SparseMatrix sparseGPT = sparsify(w, rows, cols, options, &stats);
  EXPECT_EQ(sparseGPT.pruned, magnitude.pruned);
  for (int64_t i = 0; i < rows * cols; ++i)
    EXPECT_FLOAT_EQ(sparseGPT.weights[i], magnitude.weights[i]) << i;
}

TEST(Sparsity, ErrorCompensationWinsOnCorrelatedInputs) {
  const int64_t rows = 24, cols = 64;
  std::vector<float> w = randomVector(rows * cols, 41);
  quant::InputStatistics stats = correlatedStatistics(2000, cols, 42);
  auto errorOf = [&](SparsityMethod method, double fraction,
                     NMPattern pattern) {
    SparsityOptions options;
    options.method = method;
    options.fraction = fraction;
    options.pattern = pattern;
    options.blockSize = 16;
    SparseMatrix result = sparsify(w, rows, cols, options, &stats);
    return quant::outputError(result.weights, w, rows, stats);
  };
  for (auto [fraction, pattern] :
       {std::make_pair(0.25, NMPattern()), std::make_pair(0.5, NMPattern()),
        std::make_pair(0.0, *parseNMPattern("2:4"))}) {
    double magnitude = errorOf(SparsityMethod::Magnitude, fraction, pattern);
    double wanda = errorOf(SparsityMethod::Wanda, fraction, pattern);
    double sparseGPT = errorOf(SparsityMethod::SparseGPT, fraction, pattern);
    EXPECT_GT(magnitude, 0.0);
    EXPECT_LT(wanda, magnitude) << "fraction " << fraction;
    EXPECT_LT(sparseGPT, wanda) << "fraction " << fraction;
  }
}

} // namespace
