//===- KernelsTest.cpp - runtime microkernels and sampler -------*- C++ -*-===//
//
// Part of the Microscale project.
//
// The kernels against straightforward double-precision loops, and their
// promise that results do not depend on the thread count.
//
//===----------------------------------------------------------------------===//

#include "microscale/runtime.h"

extern "C" {
#include "sampler.h"
}

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

namespace {

std::vector<float> randomVector(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float &x : v)
    x = normal(rng);
  return v;
}

TEST(Kernels, LinearMatchesReference) {
  const int64_t rows = 5, in = 37, out = 300;
  auto x = randomVector(rows * in, 1), w = randomVector(out * in, 2),
       bias = randomVector(out, 3);
  for (const float *b : {static_cast<const float *>(nullptr),
                         static_cast<const float *>(bias.data())}) {
    std::vector<float> y(rows * out);
    ms_linear_f32(x.data(), rows, in, w.data(), out, b, y.data());
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t o = 0; o < out; ++o) {
        double expected = b ? b[o] : 0.0;
        for (int64_t i = 0; i < in; ++i)
          expected += double(x[r * in + i]) * w[o * in + i];
        EXPECT_NEAR(y[r * out + o], expected, 1e-4 * (1 + std::fabs(expected)));
      }
  }
}

TEST(Kernels, LinearIsIdenticalForAnyThreadCount) {
  const int64_t rows = 9, in = 288, out = 768;
  auto x = randomVector(rows * in, 4), w = randomVector(out * in, 5);
  std::vector<float> first(rows * out), other(rows * out);
  ms_set_threads(1);
  ms_linear_f32(x.data(), rows, in, w.data(), out, nullptr, first.data());
  for (int threads : {2, 3, 7}) {
    ms_set_threads(threads);
    ms_linear_f32(x.data(), rows, in, w.data(), out, nullptr, other.data());
    EXPECT_EQ(0, std::memcmp(first.data(), other.data(),
                             first.size() * sizeof(float)))
        << threads << " threads";
  }
  ms_set_threads(0);
}

TEST(Kernels, AttentionMatchesReferenceWithGroupedHeads) {
  const int64_t heads = 6, kvHeads = 2, headDim = 8, pos = 5, n = 3;
  const int64_t context = pos + n;
  auto q = randomVector(n * heads * headDim, 6);
  auto k = randomVector(context * kvHeads * headDim, 7);
  auto v = randomVector(context * kvHeads * headDim, 8);
  std::vector<float> out(n * heads * headDim), scratch(heads * context);
  const float scale = 1.0f / std::sqrt(float(headDim));
  for (int threads : {1, 3}) {
    ms_set_threads(threads);
    ms_attention_f32(q.data(), k.data(), v.data(), n, pos, heads, kvHeads,
                     headDim, scale, out.data(), scratch.data());
    for (int64_t r = 0; r < n; ++r)
      for (int64_t h = 0; h < heads; ++h) {
        int64_t kvHead = h / (heads / kvHeads), visible = pos + r + 1;
        std::vector<double> weights(visible);
        double maxScore = -INFINITY, total = 0;
        for (int64_t p = 0; p < visible; ++p) {
          double dot = 0;
          for (int64_t d = 0; d < headDim; ++d)
            dot += double(q[(r * heads + h) * headDim + d]) *
                   k[(p * kvHeads + kvHead) * headDim + d];
          weights[p] = dot * scale;
          maxScore = std::max(maxScore, weights[p]);
        }
        for (double &wt : weights)
          total += wt = std::exp(wt - maxScore);
        for (int64_t d = 0; d < headDim; ++d) {
          double expected = 0;
          for (int64_t p = 0; p < visible; ++p)
            expected +=
                weights[p] / total * v[(p * kvHeads + kvHead) * headDim + d];
          EXPECT_NEAR(out[(r * heads + h) * headDim + d], expected, 1e-5);
        }
      }
  }
  ms_set_threads(0);
}

struct SamplerFixture : ::testing::Test {
  std::vector<float> probabilities = std::vector<float>(16);
  std::vector<int32_t> indices = std::vector<int32_t>(16);
  ms_sampler make(float temperature, float topP, int64_t topK) {
    ms_sampler s = {temperature,          topP,          topK, 1.0f, 0,
                    probabilities.data(), indices.data()};
    ms_sampler_seed(&s, 42);
    return s;
  }
  std::vector<float> logits() {
    return {0.1f, 2.0f, -1.0f, 1.5f, 0.0f, 0.3f, -2.0f, 1.9f,
            0.2f, 0.4f, 0.5f,  0.6f, 0.7f, 0.8f, 0.9f,  1.0f};
  }
};

TEST_F(SamplerFixture, GreedyIsArgmax) {
  ms_sampler s = make(0.0f, 1.0f, 0);
  auto l = logits();
  EXPECT_EQ(1, ms_sample(&s, l.data(), 16, nullptr, 0));
}

TEST_F(SamplerFixture, TopKOneIsGreedy) {
  ms_sampler s = make(1.0f, 1.0f, 1);
  for (int i = 0; i < 10; ++i) {
    auto l = logits();
    EXPECT_EQ(1, ms_sample(&s, l.data(), 16, nullptr, 0));
  }
}

TEST_F(SamplerFixture, TinyTopPKeepsOnlyTheBest) {
  ms_sampler s = make(1.0f, 0.01f, 0);
  for (int i = 0; i < 10; ++i) {
    auto l = logits();
    EXPECT_EQ(1, ms_sample(&s, l.data(), 16, nullptr, 0));
  }
}

TEST_F(SamplerFixture, SameSeedSameSequence) {
  std::vector<int32_t> first, second;
  for (auto *out : {&first, &second}) {
    ms_sampler s = make(1.0f, 0.95f, 0);
    for (int i = 0; i < 50; ++i) {
      auto l = logits();
      out->push_back(ms_sample(&s, l.data(), 16, nullptr, 0));
    }
  }
  EXPECT_EQ(first, second);
  // A real distribution: more than one token shows up.
  EXPECT_NE(std::count(first.begin(), first.end(), first[0]), 50);
}

TEST_F(SamplerFixture, RepetitionPenaltyDemotesHistory) {
  ms_sampler s = make(0.0f, 1.0f, 0);
  s.repetition_penalty = 2.0f;
  auto l = logits();
  int32_t history[] = {1, 1, 7};
  // 2.0 -> 1.0 and 1.9 -> 0.95: token 3 (1.5) wins.
  EXPECT_EQ(3, ms_sample(&s, l.data(), 16, history, 3));
}

} // namespace
