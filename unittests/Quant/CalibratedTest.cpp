//===- CalibratedTest.cpp - calibration-aware quantization ------*- C++ -*-===//
//
// Part of the Microscale project.
//
// Every method is judged by the output error it leaves on synthetic
// activations shaped like an LLM's: correlated channels and a few channels
// of much larger magnitude. The tests compare errors against
// round-to-nearest rather than against stored numbers.
//
//===----------------------------------------------------------------------===//

#include "microscale/Quant/Calibrated.h"

#include "../Runtime/RandomVector.h"

#include "llvm/ADT/STLExtras.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <numeric>
#include <tuple>

using namespace mlir::microscale::quant;

namespace {

/// [tokens, cols] activations: a low-rank correlated part plus noise, with
/// a few channels 20x larger than the rest.
std::vector<float> syntheticActivations(int64_t tokens, int64_t cols,
                                        unsigned seed) {
  const int64_t rank = 12;
  std::vector<float> latent = randomVector(tokens * rank, seed);
  std::vector<float> mixing = randomVector(rank * cols, seed + 1);
  std::vector<float> x = randomVector(tokens * cols, seed + 2);
  for (int64_t t = 0; t < tokens; ++t)
    for (int64_t c = 0; c < cols; ++c) {
      float sum = 0.0f;
      for (int64_t k = 0; k < rank; ++k)
        sum += latent[t * rank + k] * mixing[k * cols + c];
      x[t * cols + c] = 0.3f * x[t * cols + c] + 0.5f * sum;
    }
  for (int64_t c : {int64_t{3}, cols / 3, cols / 2 + 1, cols - 2})
    for (int64_t t = 0; t < tokens; ++t)
      x[t * cols + c] *= 20.0f;
  return x;
}

/// [rows, cols] weights, Gaussian with a sprinkling of 4x outliers.
std::vector<float> syntheticWeights(int64_t rows, int64_t cols, unsigned seed) {
  std::vector<float> w = randomVector(rows * cols, seed);
  for (size_t i = 0; i < w.size(); i += 97)
    w[i] *= 4.0f;
  for (float &v : w)
    v *= 0.05f;
  return w;
}

InputStatistics statisticsOf(llvm::ArrayRef<float> x, int64_t tokens,
                             int64_t cols) {
  InputStatistics stats;
  stats.cols = cols;
  accumulateStatistics(stats, x, tokens);
  return stats;
}

struct Problem {
  int64_t rows, cols, tokens;
  std::vector<float> x, w;
  InputStatistics stats;
};

// 172 = 5 x 32 + 12: g32 has a tail group.
Problem makeProblem(int64_t rows = 24, int64_t cols = 172, int64_t tokens = 600,
                    unsigned seed = 1) {
  Problem p{rows,
            cols,
            tokens,
            syntheticActivations(tokens, cols, seed),
            syntheticWeights(rows, cols, seed + 10),
            {}};
  p.stats = statisticsOf(p.x, tokens, cols);
  return p;
}

/// The formats every method must improve on: 4 and 3 bits, g32 (with a
/// tail group) and whole rows, symmetric and asymmetric.
std::vector<Format> lowBitFormats() {
  std::vector<Format> formats;
  for (int bits : {4, 3})
    for (int64_t group : {32, 0})
      for (bool symmetric : {true, false})
        formats.push_back({bits, group, symmetric, ScaleType::F16});
  return formats;
}

double roundToNearestError(const Problem &p, const Format &format) {
  return outputError(p.w, quantizeRoundToNearest(p.w, p.rows, p.cols, format),
                     p.stats);
}

bool allFinite(const QuantizedMatrix &q) {
  for (float v : dequantize(q))
    if (!std::isfinite(v))
      return false;
  return true;
}

TEST(CalibratedTest, OutputErrorEqualsTheErrorOfTheOutputs) {
  Problem p = makeProblem(6, 40, 50);
  std::vector<float> other = p.w;
  for (size_t i = 0; i < other.size(); i += 3)
    other[i] += 0.01f * static_cast<float>(i % 7);
  // ||X W^T - X Q^T||^2 straight from the activations.
  double direct = 0.0;
  for (int64_t t = 0; t < p.tokens; ++t)
    for (int64_t r = 0; r < p.rows; ++r) {
      double y = 0.0;
      for (int64_t c = 0; c < p.cols; ++c)
        y += static_cast<double>(p.x[t * p.cols + c]) *
             (static_cast<double>(p.w[r * p.cols + c]) - other[r * p.cols + c]);
      direct += y * y;
    }
  double fromHessian = outputError(p.w, other, p.rows, p.stats);
  EXPECT_NEAR(fromHessian, direct, 1e-9 * direct);
  EXPECT_GT(direct, 0.0);
  EXPECT_EQ(outputError(p.w, p.w, p.rows, p.stats), 0.0);

  // Accumulating in two parts gives the same statistics.
  InputStatistics split;
  split.cols = p.cols;
  llvm::ArrayRef<float> x = p.x;
  accumulateStatistics(split, x.take_front(20 * p.cols), 20);
  accumulateStatistics(split, x.drop_front(20 * p.cols), p.tokens - 20);
  EXPECT_EQ(split.tokens, p.tokens);
  for (int64_t i = 0; i < p.cols * p.cols; ++i)
    ASSERT_NEAR(split.hessian[i], p.stats.hessian[i],
                1e-9 * (1.0 + std::fabs(p.stats.hessian[i])));
  for (int64_t c = 0; c < p.cols; ++c)
    ASSERT_NEAR(split.meanAbs[c], p.stats.meanAbs[c], 1e-9);
}

TEST(CalibratedTest, VerifyStatisticsNamesTheProblem) {
  Problem p = makeProblem(2, 8, 10);
  EXPECT_FALSE(static_cast<bool>(verifyStatistics(p.stats, 8)));
  auto message = [](llvm::Error error) {
    return llvm::toString(std::move(error));
  };
  EXPECT_NE(message(verifyStatistics(p.stats, 9)).find("8 input channels"),
            std::string::npos);
  InputStatistics bad = p.stats;
  bad.hessian[5] = NAN;
  EXPECT_NE(message(verifyStatistics(bad, 8)).find("not finite"),
            std::string::npos);
  bad = p.stats;
  bad.meanAbs.pop_back();
  EXPECT_NE(message(verifyStatistics(bad, 8)).find("mean |x|"),
            std::string::npos);
  bad = p.stats;
  bad.tokens = 0;
  EXPECT_NE(message(verifyStatistics(bad, 8)).find("no tokens"),
            std::string::npos);
}

TEST(CalibratedTest, ClipSearchBeatsRoundToNearest) {
  Problem p = makeProblem();
  for (const Format &format : lowBitFormats()) {
    ClipSearchResult clip =
        searchClipping(p.w, p.rows, p.cols, format, p.stats);
    QuantizedMatrix q =
        quantizeWithGroupParams(p.w, p.rows, p.cols, format, clip.params);
    double rtn = roundToNearestError(p, format);
    double clipped = outputError(p.w, q, p.stats);
    EXPECT_LT(clipped, rtn) << format.str();
    // Scoring by H's diagonal alone still helps, if less.
    ClipSearchOptions diagonal;
    diagonal.fullHessian = false;
    ClipSearchResult diagonalClip =
        searchClipping(p.w, p.rows, p.cols, format, p.stats, diagonal);
    double diagonalError =
        outputError(p.w,
                    quantizeWithGroupParams(p.w, p.rows, p.cols, format,
                                            diagonalClip.params),
                    p.stats);
    EXPECT_LT(diagonalError, rtn) << format.str();
    EXPECT_LE(clipped, diagonalError * 1.001) << format.str();
  }
}

TEST(CalibratedTest, ClipRatiosFeedRoundToNearest) {
  Problem p = makeProblem();
  for (const Format &format : lowBitFormats()) {
    ClipSearchOptions options;
    options.separateEnds = false;
    ClipSearchResult clip =
        searchClipping(p.w, p.rows, p.cols, format, p.stats, options);
    RoundToNearestOptions rtn;
    rtn.clipRatios = clip.clipRatios;
    QuantizedMatrix viaRatios =
        quantizeRoundToNearest(p.w, p.rows, p.cols, format, rtn);
    QuantizedMatrix viaParams =
        quantizeWithGroupParams(p.w, p.rows, p.cols, format, clip.params);
    EXPECT_EQ(viaRatios.packed, viaParams.packed) << format.str();
    EXPECT_EQ(viaRatios.scales, viaParams.scales) << format.str();
    EXPECT_EQ(viaRatios.zeroPoints, viaParams.zeroPoints) << format.str();
    EXPECT_TRUE(llvm::any_of(clip.clipRatios, [](float r) { return r < 1; }))
        << format.str();
  }
}

TEST(CalibratedTest, GPTQBeatsRoundToNearest) {
  Problem p = makeProblem();
  for (const Format &format : lowBitFormats())
    for (bool actOrder : {false, true}) {
      GPTQOptions options;
      options.actOrder = actOrder;
      QuantizedMatrix q =
          quantizeGPTQ(p.w, p.rows, p.cols, format, p.stats, options);
      EXPECT_LT(outputError(p.w, q, p.stats), roundToNearestError(p, format))
          << format.str() << (actOrder ? " act order" : "");
      for (int64_t r = 0; r < p.rows; ++r)
        for (int64_t c = 0; c < p.cols; ++c) {
          ASSERT_GE(q.code(r, c), format.minCode());
          ASSERT_LE(q.code(r, c), format.maxCode());
        }
    }
}

/// GPTQ written the slow, obvious way (Optimal Brain Quantization's
/// update with an explicit inverse Hessian, in double), to check the
/// Cholesky form against.
double referenceGPTQError(const Problem &p, const Format &format,
                          llvm::ArrayRef<GroupParams> params,
                          llvm::ArrayRef<int64_t> order, double dampening) {
  const int64_t n = p.cols, groups = format.numGroups(n);
  const int64_t size = format.groupSize(n);
  std::vector<double> h(n * n);
  double mean = 0.0;
  for (int64_t i = 0; i < n; ++i)
    mean += p.stats.at(i, i) / n;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j)
      h[i * n + j] = p.stats.at(i, j) + (i == j ? dampening * mean : 0.0);
  // Gauss-Jordan inverse.
  std::vector<double> inv(n * n, 0.0), a = h;
  for (int64_t i = 0; i < n; ++i)
    inv[i * n + i] = 1.0;
  for (int64_t i = 0; i < n; ++i) {
    double pivot = a[i * n + i];
    for (int64_t j = 0; j < n; ++j) {
      a[i * n + j] /= pivot;
      inv[i * n + j] /= pivot;
    }
    for (int64_t k = 0; k < n; ++k)
      if (k != i) {
        double f = a[k * n + i];
        for (int64_t j = 0; j < n; ++j) {
          a[k * n + j] -= f * a[i * n + j];
          inv[k * n + j] -= f * inv[i * n + j];
        }
      }
  }
  std::vector<float> q(p.w.size());
  for (int64_t r = 0; r < p.rows; ++r) {
    std::vector<double> w(p.w.begin() + r * n, p.w.begin() + (r + 1) * n);
    std::vector<double> hinv = inv;
    for (int64_t i : order) {
      GroupParams gp = params[r * groups + i / size];
      float value = static_cast<float>(w[i]);
      double qi = dequantizeValue(quantizeValue(value, gp, format), gp);
      q[r * n + i] = static_cast<float>(qi);
      double err = (w[i] - qi) / hinv[i * n + i];
      for (int64_t j = 0; j < n; ++j)
        w[j] -= err * hinv[j * n + i];
      // Remove column i from the inverse (a rank-one downdate).
      std::vector<double> column(n);
      for (int64_t j = 0; j < n; ++j)
        column[j] = hinv[j * n + i];
      for (int64_t j = 0; j < n; ++j)
        for (int64_t k = 0; k < n; ++k)
          hinv[j * n + k] -= column[j] * column[k] / column[i];
    }
  }
  return outputError(p.w, q, p.rows, p.stats);
}

TEST(CalibratedTest, GPTQMatchesTheExplicitInverseUpdate) {
  Problem p = makeProblem(6, 44, 200);
  for (Format format :
       {Format{4, 16, true, ScaleType::F32}, Format{3, 0, false}}) {
    for (bool actOrder : {false, true}) {
      GPTQOptions options;
      options.actOrder = actOrder;
      // Static groups on both sides, so the comparison is of the updates.
      std::vector<GroupParams> params;
      for (int64_t r = 0; r < p.rows; ++r)
        for (int64_t g = 0; g < format.numGroups(p.cols); ++g) {
          int64_t size = format.groupSize(p.cols), begin = g * size;
          auto [lo, hi] = std::minmax_element(
              p.w.begin() + r * p.cols + begin,
              p.w.begin() + r * p.cols + std::min(p.cols, begin + size));
          params.push_back(computeGroupParams(*lo, *hi, format));
        }
      options.groupParams = params;
      std::vector<int64_t> order(p.cols);
      std::iota(order.begin(), order.end(), 0);
      if (actOrder)
        std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
          double ha = p.stats.at(a, a), hb = p.stats.at(b, b);
          return ha != hb ? ha > hb : a < b;
        });
      double expected =
          referenceGPTQError(p, format, params, order, options.dampening);
      double actual = outputError(
          p.w, quantizeGPTQ(p.w, p.rows, p.cols, format, p.stats, options),
          p.stats);
      // Float against double may flip a rare rounding tie.
      EXPECT_NEAR(actual, expected, 0.02 * expected) << format.str();
    }
  }
}

TEST(CalibratedTest, GPTQBlocksOnlyChangeWhenUpdatesLand) {
  // Every column's weight sees the same updates in the same order whatever
  // the block size, so the result is bit-identical.
  Problem p = makeProblem();
  for (const Format &format : lowBitFormats()) {
    GPTQOptions options;
    options.blockSize = 128;
    QuantizedMatrix large =
        quantizeGPTQ(p.w, p.rows, p.cols, format, p.stats, options);
    options.blockSize = 5;
    QuantizedMatrix small =
        quantizeGPTQ(p.w, p.rows, p.cols, format, p.stats, options);
    EXPECT_EQ(large.packed, small.packed) << format.str();
    EXPECT_EQ(large.scales, small.scales) << format.str();
  }
}

TEST(CalibratedTest, GPTQActOrderIsNotWorseOnOutlierChannels) {
  // Like against like: group parameters from the plain weights on both
  // sides (act order must fix them up front, the natural order may take
  // them from the updated weights), then the same clip-searched ones.
  for (unsigned seed : {1u, 2u, 3u}) {
    Problem p = makeProblem(24, 172, 600, seed);
    for (const Format &format : lowBitFormats()) {
      ClipSearchResult clip =
          searchClipping(p.w, p.rows, p.cols, format, p.stats);
      for (bool searched : {false, true}) {
        GPTQOptions options;
        options.searchGroupClip = false;
        if (searched)
          options.groupParams = clip.params;
        options.actOrder = false;
        double plain = outputError(
            p.w, quantizeGPTQ(p.w, p.rows, p.cols, format, p.stats, options),
            p.stats);
        options.actOrder = true;
        double ordered = outputError(
            p.w, quantizeGPTQ(p.w, p.rows, p.cols, format, p.stats, options),
            p.stats);
        EXPECT_LE(ordered, plain) << format.str() << " seed " << seed
                                  << (searched ? " clip-searched" : "");
      }
    }
  }
}

TEST(CalibratedTest, GPTQHandlesEveryWidthAndGroup) {
  Problem p = makeProblem(5, 70, 200);
  for (int bits = 2; bits <= 8; ++bits)
    for (int64_t group : {0, 16, 32, 64, 128})
      for (bool symmetric : {true, false}) {
        Format format{bits, group, symmetric, ScaleType::F16};
        QuantizedMatrix q = quantizeGPTQ(p.w, p.rows, p.cols, format, p.stats);
        EXPECT_EQ(static_cast<int64_t>(q.scales.size()),
                  p.rows * format.numGroups(p.cols));
        EXPECT_TRUE(allFinite(q)) << format.str();
        EXPECT_LE(outputError(p.w, q, p.stats), roundToNearestError(p, format))
            << format.str();
      }
}

TEST(CalibratedTest, ActivationScalesBeatRoundToNearest) {
  Problem p = makeProblem();
  // Three linears reading the same input, like q/k/v after a norm.
  std::vector<float> k = syntheticWeights(16, p.cols, 50);
  std::vector<float> v = syntheticWeights(40, p.cols, 60);
  for (const Format &format : lowBitFormats()) {
    std::vector<SharedInputLinear> linears = {
        {p.w, p.rows, format}, {k, 16, format}, {v, 40, format}};
    std::vector<float> s = searchActivationScales(linears, p.stats);
    ASSERT_EQ(static_cast<int64_t>(s.size()), p.cols);
    EXPECT_TRUE(llvm::any_of(s, [](float x) { return x != 1.0f; }))
        << format.str();
    InputStatistics scaledStats = scaleStatistics(p.stats, s);
    double rtn = 0.0, scaled = 0.0;
    for (const SharedInputLinear &linear : linears) {
      rtn += outputError(
          linear.weights,
          quantizeRoundToNearest(linear.weights, linear.rows, p.cols, format),
          p.stats);
      std::vector<float> ws = scaleWeights(linear.weights, linear.rows, s);
      QuantizedMatrix q =
          quantizeRoundToNearest(ws, linear.rows, p.cols, format);
      double inScaled = outputError(ws, q, scaledStats);
      // The same error seen from the original problem: Q' diag(1/s).
      std::vector<float> back = dequantize(q);
      for (int64_t r = 0; r < linear.rows; ++r)
        for (int64_t c = 0; c < p.cols; ++c)
          back[r * p.cols + c] /= s[c];
      double inOriginal =
          outputError(linear.weights, back, linear.rows, p.stats);
      EXPECT_NEAR(inScaled, inOriginal, 1e-4 * inOriginal);
      scaled += inScaled;
    }
    EXPECT_LT(scaled, rtn) << format.str();

    // Scoring on an even spread of a third of the rows still finds scales
    // that help all of them.
    ActivationScaleOptions sampled;
    sampled.maxScoredRows = 8;
    std::vector<float> fewRows =
        searchActivationScales(linears, p.stats, sampled);
    double fewRowsError = 0.0;
    InputStatistics fewRowsStats = scaleStatistics(p.stats, fewRows);
    for (const SharedInputLinear &linear : linears) {
      std::vector<float> ws =
          scaleWeights(linear.weights, linear.rows, fewRows);
      fewRowsError += outputError(
          ws, quantizeRoundToNearest(ws, linear.rows, p.cols, format),
          fewRowsStats);
    }
    EXPECT_LT(fewRowsError, rtn) << format.str();
  }
}

TEST(CalibratedTest, MethodsComposeScaleThenClipThenGPTQ) {
  Problem p = makeProblem();
  for (const Format &format : lowBitFormats()) {
    double rtn = roundToNearestError(p, format);
    std::vector<float> s =
        searchActivationScales({{p.w, p.rows, format}}, p.stats);
    std::vector<float> ws = scaleWeights(p.w, p.rows, s);
    InputStatistics stats = scaleStatistics(p.stats, s);
    ClipSearchResult clip = searchClipping(ws, p.rows, p.cols, format, stats);
    GPTQOptions options;
    options.groupParams = clip.params;
    QuantizedMatrix q =
        quantizeGPTQ(ws, p.rows, p.cols, format, stats, options);
    double composed = outputError(ws, q, stats);
    double clipOnly = outputError(
        ws, quantizeWithGroupParams(ws, p.rows, p.cols, format, clip.params),
        stats);
    EXPECT_LT(composed, clipOnly) << format.str();
    EXPECT_LT(clipOnly, rtn) << format.str();
  }
}

TEST(CalibratedTest, DeadAndTinyChannelsStayFinite) {
  Problem p = makeProblem(8, 72, 300);
  for (int64_t t = 0; t < p.tokens; ++t) {
    p.x[t * p.cols + 5] = 0.0f;   // An input no token reaches.
    p.x[t * p.cols + 7] *= 1e-9f; // An input barely reached.
  }
  for (int64_t r = 0; r < p.rows; ++r) {
    p.w[r * p.cols + 9] = 0.0f;    // A weight column of zeros.
    p.w[r * p.cols + 11] *= 1e-9f; // One far below f16's range.
  }
  // A whole group of tiny weights in row 0.
  for (int64_t c = 32; c < 64; ++c)
    p.w[c] *= 1e-9f;
  p.stats = statisticsOf(p.x, p.tokens, p.cols);
  for (const Format &format : lowBitFormats()) {
    double rtn = roundToNearestError(p, format);
    ClipSearchResult clip =
        searchClipping(p.w, p.rows, p.cols, format, p.stats);
    QuantizedMatrix clipped =
        quantizeWithGroupParams(p.w, p.rows, p.cols, format, clip.params);
    for (bool actOrder : {false, true}) {
      GPTQOptions options;
      options.actOrder = actOrder;
      QuantizedMatrix gptq =
          quantizeGPTQ(p.w, p.rows, p.cols, format, p.stats, options);
      EXPECT_TRUE(allFinite(gptq)) << format.str();
      double error = outputError(p.w, gptq, p.stats);
      EXPECT_TRUE(std::isfinite(error)) << format.str();
      EXPECT_LT(error, rtn) << format.str();
    }
    std::vector<float> s =
        searchActivationScales({{p.w, p.rows, format}}, p.stats);
    EXPECT_EQ(s[5], 1.0f) << "a dead channel keeps its scale";
    for (float x : s)
      ASSERT_TRUE(std::isfinite(x) && x > 0.0f) << format.str();
    EXPECT_TRUE(allFinite(clipped)) << format.str();
    EXPECT_LE(outputError(p.w, clipped, p.stats), rtn) << format.str();
    QuantizedMatrix recipe =
        quantizeCalibrated(p.w, p.rows, p.cols, format, p.stats);
    EXPECT_TRUE(allFinite(recipe)) << format.str();
    EXPECT_LT(outputError(p.w, recipe, p.stats), rtn) << format.str();
  }
  // Statistics of nothing at all: every method falls back gracefully.
  InputStatistics zero;
  zero.cols = p.cols;
  zero.tokens = 1;
  zero.hessian.assign(p.cols * p.cols, 0.0);
  zero.meanAbs.assign(p.cols, 0.0);
  Format format{4, 32, false, ScaleType::F16};
  QuantizedMatrix gptq = quantizeGPTQ(p.w, p.rows, p.cols, format, zero);
  QuantizedMatrix rtn = quantizeRoundToNearest(p.w, p.rows, p.cols, format);
  EXPECT_EQ(dequantize(gptq), dequantize(rtn));
  QuantizedMatrix recipe =
      quantizeCalibrated(p.w, p.rows, p.cols, format, zero);
  EXPECT_EQ(dequantize(recipe), dequantize(rtn));
  EXPECT_EQ(searchActivationScales({{p.w, p.rows, format}}, zero),
            std::vector<float>(p.cols, 1.0f));
}

TEST(CalibratedTest, ResultsAreDeterministic) {
  Problem p = makeProblem();
  Format format{4, 32, false, ScaleType::F16};
  auto run = [&] {
    std::vector<float> s =
        searchActivationScales({{p.w, p.rows, format}}, p.stats);
    ClipSearchResult clip =
        searchClipping(p.w, p.rows, p.cols, format, p.stats);
    GPTQOptions options;
    options.groupParams = clip.params;
    QuantizedMatrix q =
        quantizeGPTQ(p.w, p.rows, p.cols, format, p.stats, options);
    return std::make_tuple(s, clip.clipRatios, q.packed, q.scales,
                           q.zeroPoints);
  };
  EXPECT_EQ(run(), run());
}

TEST(CalibratedTest, ScaleRefitOnlyLowersErrors) {
  Problem p = makeProblem();
  for (const Format &format : lowBitFormats()) {
    QuantizedMatrix q = quantizeRoundToNearest(p.w, p.rows, p.cols, format);
    QuantizedMatrix before = q;
    std::vector<double> old =
        outputErrorPerRow(p.w, dequantize(q), p.rows, p.stats);
    double removed = refitScales(p.w, q, p.stats);
    std::vector<double> now =
        outputErrorPerRow(p.w, dequantize(q), p.rows, p.stats);
    double oldTotal = 0.0, nowTotal = 0.0;
    for (int64_t r = 0; r < p.rows; ++r) {
      EXPECT_LE(now[r], old[r]) << format.str() << " row " << r;
      oldTotal += old[r];
      nowTotal += now[r];
    }
    EXPECT_LT(nowTotal, oldTotal) << format.str();
    EXPECT_NEAR(removed, oldTotal - nowTotal, 1e-6 * oldTotal);
    // Only the group parameters move, and they stay what the format
    // stores.
    EXPECT_EQ(q.packed, before.packed);
    // Asymmetric groups also move their zero points where that helps.
    if (format.symmetric)
      EXPECT_TRUE(q.zeroPoints.empty());
    else if (format.group != 0)
      EXPECT_NE(q.zeroPoints, before.zeroPoints) << format.str();
    EXPECT_NE(q.scales, before.scales);
    for (float scale : q.scales)
      ASSERT_EQ(scale, roundScale(scale, format.scale));
  }
}

TEST(CalibratedTest, CodeDescentOnlyLowersErrors) {
  Problem p = makeProblem();
  std::vector<Format> formats = lowBitFormats();
  formats.push_back({4, 32, false, ScaleType::Log8});
  for (const Format &format : formats) {
    for (bool fromGPTQ : {false, true}) {
      QuantizedMatrix q =
          fromGPTQ ? quantizeGPTQ(p.w, p.rows, p.cols, format, p.stats)
                   : quantizeRoundToNearest(p.w, p.rows, p.cols, format);
      QuantizedMatrix before = q;
      std::vector<double> old =
          outputErrorPerRow(p.w, dequantize(q), p.rows, p.stats);
      double removed = descendCodes(p.w, q, p.stats);
      std::vector<double> now =
          outputErrorPerRow(p.w, dequantize(q), p.rows, p.stats);
      double oldTotal = 0.0, nowTotal = 0.0;
      for (int64_t r = 0; r < p.rows; ++r) {
        EXPECT_LE(now[r], old[r] * (1 + 1e-12)) << format.str() << " row " << r;
        oldTotal += old[r];
        nowTotal += now[r];
      }
      EXPECT_NEAR(removed, oldTotal - nowTotal, 1e-6 * oldTotal);
      // Round to nearest ignores H, so single steps always find something;
      // GPTQ's greedy order leaves less, but some.
      EXPECT_LT(nowTotal, oldTotal) << format.str() << " gptq " << fromGPTQ;
      // Only codes move.
      EXPECT_EQ(q.scales, before.scales);
      EXPECT_EQ(q.zeroPoints, before.zeroPoints);
    }
  }
}

TEST(CalibratedTest, TheFullRecipeBeatsEachStep) {
  Problem p = makeProblem();
  double fullSum = 0.0, oneRoundSum = 0.0;
  for (const Format &format : lowBitFormats()) {
    CalibratedOptions options;
    double full = outputError(
        p.w, quantizeCalibrated(p.w, p.rows, p.cols, format, p.stats, options),
        p.stats);
    options.rounds = 1;
    double oneRound = outputError(
        p.w, quantizeCalibrated(p.w, p.rows, p.cols, format, p.stats, options),
        p.stats);
    options.refitScales = false;
    double noRefit = outputError(
        p.w, quantizeCalibrated(p.w, p.rows, p.cols, format, p.stats, options),
        p.stats);
    options.gptq = false;
    double clipOnly = outputError(
        p.w, quantizeCalibrated(p.w, p.rows, p.cols, format, p.stats, options),
        p.stats);
    options.clipSearch = false;
    QuantizedMatrix nothing =
        quantizeCalibrated(p.w, p.rows, p.cols, format, p.stats, options);
    EXPECT_EQ(nothing.packed,
              quantizeRoundToNearest(p.w, p.rows, p.cols, format).packed);
    // Rows keep their best round: never worse, and better somewhere.
    EXPECT_LE(full, oneRound) << format.str();
    fullSum += full / oneRound;
    oneRoundSum += 1.0;
    EXPECT_LT(oneRound, noRefit) << format.str();
    EXPECT_LT(noRefit, clipOnly) << format.str();
    EXPECT_LT(clipOnly, roundToNearestError(p, format)) << format.str();
  }
  EXPECT_LT(fullSum, oneRoundSum);
}

TEST(CalibratedTest, GPTQQuantizesAnMLPMatrixWellUnderASecond) {
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer) ||     \
    __has_feature(thread_sanitizer) ||                                         \
    __has_feature(undefined_behavior_sanitizer)
  GTEST_SKIP() << "timing needs an unsanitized build";
#endif
#endif
#if !defined(__OPTIMIZE__)
  GTEST_SKIP() << "timing needs an optimized build";
#endif
  // synthetic-llama-15M's gate/up shape: 768 x 288, H 288 x 288. CPU time,
  // so a busy machine does not fail it; a cubic-per-row slip would.
  const int64_t rows = 768, cols = 288;
  InputStatistics stats =
      statisticsOf(syntheticActivations(400, cols, 1), 400, cols);
  std::vector<float> w = syntheticWeights(rows, cols, 2);
  std::clock_t start = std::clock();
  QuantizedMatrix q = quantizeGPTQ(w, rows, cols, Format{4, 32, false}, stats);
  double seconds = static_cast<double>(std::clock() - start) / CLOCKS_PER_SEC;
  EXPECT_LT(seconds, 0.5);
  EXPECT_TRUE(allFinite(q));
}

} // namespace
