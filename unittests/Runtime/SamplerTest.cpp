//===- SamplerTest.cpp - choosing the next token ----------------*- C++ -*-===//
//
// Part of the Microscale project.
//
// The sampler's rules: greedy, temperature, top-k, top-p, the repetition
// penalty and reproducible seeds, on small distributions whose answers are
// known and on a vocabulary of real size against a brute-force nucleus.
//
//===----------------------------------------------------------------------===//

#include "microscale/sampler.h"
#include "RandomVector.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <vector>

namespace {

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

/// A sampler over `vocab` ids with its scratch.
struct Sampler {
  std::vector<float> probabilities;
  std::vector<int32_t> indices;
  ms_sampler s;
  Sampler(int64_t vocab, float temperature, float topP, int64_t topK,
          uint64_t seed = 42)
      : probabilities(vocab), indices(vocab) {
    s = {temperature,          topP,          topK, 1.0f, 0,
         probabilities.data(), indices.data()};
    ms_sampler_seed(&s, seed);
  }
  int32_t operator()(std::vector<float> logits) {
    return ms_sample(&s, logits.data(), int64_t(logits.size()), nullptr, 0);
  }
  /// How often each id comes up in `draws` samples.
  std::map<int32_t, int> histogram(const std::vector<float> &logits,
                                   int draws) {
    std::map<int32_t, int> counts;
    for (int i = 0; i < draws; ++i)
      ++counts[(*this)(logits)];
    return counts;
  }
};

/// Logits whose softmax (temperature 1) is 1/2, 1/4, 1/8, 1/8.
std::vector<float> halvingLogits() {
  return {std::log(0.5f), std::log(0.25f), std::log(0.125f), std::log(0.125f)};
}

TEST(Sampler, GreedyIsArgmaxOfRandomLogits) {
  for (unsigned seed = 0; seed < 5; ++seed) {
    auto logits = randomVector(1000, 100 + seed);
    int32_t best = int32_t(std::max_element(logits.begin(), logits.end()) -
                           logits.begin());
    EXPECT_EQ(best, Sampler(1000, 0.0f, 0.9f, 40)(logits));
    EXPECT_EQ(best, Sampler(1000, 0.7f, 1.0f, 1)(logits));
  }
}

TEST(Sampler, TiesGoToTheLowerId) {
  std::vector<float> flat(16, 0.5f);
  EXPECT_EQ(0, Sampler(16, 0.0f, 1.0f, 0)(flat));
  // Top-2 of a flat distribution keeps ids 0 and 1.
  auto counts = Sampler(16, 1.0f, 1.0f, 2).histogram(flat, 400);
  EXPECT_EQ(2u, counts.size());
  EXPECT_GT(counts[0], 100);
  EXPECT_GT(counts[1], 100);
}

TEST(Sampler, FullDistributionFollowsSoftmax) {
  auto counts = Sampler(4, 1.0f, 1.0f, 0).histogram(halvingLogits(), 40000);
  EXPECT_NEAR(counts[0] / 40000.0, 0.5, 0.02);
  EXPECT_NEAR(counts[1] / 40000.0, 0.25, 0.02);
  EXPECT_NEAR(counts[2] / 40000.0, 0.125, 0.02);
  EXPECT_NEAR(counts[3] / 40000.0, 0.125, 0.02);
  // A top-k or top-p at or beyond the whole vocabulary changes nothing.
  EXPECT_EQ(counts,
            Sampler(4, 1.0f, 1.0f, 4).histogram(halvingLogits(), 40000));
  EXPECT_EQ(counts,
            Sampler(4, 1.0f, 1.0f, 100).histogram(halvingLogits(), 40000));
}

TEST(Sampler, TopKRenormalizesTheBest) {
  auto counts = Sampler(4, 1.0f, 1.0f, 2).histogram(halvingLogits(), 30000);
  EXPECT_EQ(2u, counts.size());
  EXPECT_NEAR(counts[0] / 30000.0, 2.0 / 3.0, 0.02);
}

TEST(Sampler, TopPEdges) {
  // The nucleus is the shortest prefix whose mass reaches top-p.
  auto only = [](float topP, int64_t topK) {
    auto counts = Sampler(4, 1.0f, topP, topK).histogram(halvingLogits(), 2000);
    std::set<int32_t> ids;
    for (auto &entry : counts)
      ids.insert(entry.first);
    return ids;
  };
  EXPECT_EQ(std::set<int32_t>({0}), only(0.49f, 0));
  EXPECT_EQ(std::set<int32_t>({0, 1}), only(0.51f, 0));
  EXPECT_EQ(std::set<int32_t>({0, 1}), only(0.74f, 0));
  EXPECT_EQ(std::set<int32_t>({0, 1, 2}), only(0.76f, 0));
  EXPECT_EQ(std::set<int32_t>({0, 1, 2, 3}), only(0.99f, 0));
  // Top-k first, then top-p within it.
  EXPECT_EQ(std::set<int32_t>({0, 1}), only(0.99f, 2));
  EXPECT_EQ(std::set<int32_t>({0}), only(0.3f, 3));
}

TEST(Sampler, TopPOfAFlatDistribution) {
  // Every id is below the pre-filter's cutoff (1 - p) / (vocab - 1); the
  // sampler must still keep the nucleus, here the lowest id alone.
  std::vector<float> flat(64, 1.0f);
  auto counts = Sampler(64, 1.0f, 0.01f, 0).histogram(flat, 100);
  EXPECT_EQ(1u, counts.size());
  EXPECT_EQ(100, counts[0]);
}

TEST(Sampler, NucleusOfALargeVocabulary) {
  // Against a brute-force nucleus on random logits of a real-sized
  // vocabulary: every draw inside it, and its best ids all come up.
  const int64_t vocab = 32000;
  auto logits = randomVector(vocab, 200);
  for (float &l : logits)
    l *= 4.0f;
  const float topP = 0.9f, temperature = 0.8f;
  std::vector<double> p(vocab);
  double maxLogit = *std::max_element(logits.begin(), logits.end()), total = 0;
  for (int64_t i = 0; i < vocab; ++i)
    total += p[i] = std::exp((logits[i] - maxLogit) / temperature);
  std::vector<int32_t> order(vocab);
  for (int64_t i = 0; i < vocab; ++i)
    order[i] = int32_t(i);
  std::sort(order.begin(), order.end(),
            [&](int32_t a, int32_t b) { return p[a] > p[b]; });
  std::set<int32_t> nucleus;
  double cumulative = 0;
  for (int32_t id : order) {
    nucleus.insert(id);
    if ((cumulative += p[id] / total) >= topP)
      break;
  }
  Sampler sampler(vocab, temperature, topP, 0);
  auto counts = sampler.histogram(logits, 1000);
  for (auto &entry : counts)
    EXPECT_TRUE(nucleus.count(entry.first)) << entry.first;
  EXPECT_TRUE(counts.count(order[0]));
  EXPECT_TRUE(counts.count(order[1]));
}

TEST(Sampler, SeedsGiveReproducibleSequences) {
  auto logits = randomVector(500, 300);
  auto draw = [&](uint64_t seed) {
    Sampler sampler(500, 1.0f, 0.95f, 50, seed);
    std::vector<int32_t> ids;
    for (int i = 0; i < 100; ++i)
      ids.push_back(sampler(logits));
    return ids;
  };
  EXPECT_EQ(draw(1), draw(1));
  EXPECT_NE(draw(1), draw(2));
  EXPECT_EQ(draw(0), draw(0)); // seed 0 is remapped, not a stuck generator
  std::vector<int32_t> ids = draw(0);
  EXPECT_GT(std::set<int32_t>(ids.begin(), ids.end()).size(), 1u);
}

TEST(Sampler, RepetitionPenaltyScalesTowardsLessLikely) {
  // Positive logits are divided, negative ones multiplied, each id once.
  std::vector<float> logits = {1.0f, -1.0f, 0.9f, -1.2f};
  Sampler sampler(4, 0.0f, 1.0f, 0);
  sampler.s.repetition_penalty = 2.0f;
  int32_t history[] = {0, 0, 0, 1};
  auto copy = logits;
  EXPECT_EQ(2, ms_sample(&sampler.s, copy.data(), 4, history, 4));
  EXPECT_FLOAT_EQ(0.5f, copy[0]);
  EXPECT_FLOAT_EQ(-2.0f, copy[1]);
  EXPECT_FLOAT_EQ(-1.2f, copy[3]);
}

} // namespace
