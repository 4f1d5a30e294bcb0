//===- GenerateTest.cpp - the core's generation loop ------------*- C++ -*-===//
//
// Part of the Microscale project.
//
// generate.h against fake_model.c, whose greedy continuation of token t is
// t + 1 and which aborts when ms_forward's calling contract is broken.
//
//===----------------------------------------------------------------------===//

#include "microscale/generate.h"
#include "microscale/runtime.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <utility>
#include <vector>

namespace {

int32_t argmax(const float *row) {
  return int32_t(std::max_element(row, row + ms_model.vocab_size) - row);
}

TEST(Generate, FeedSplitsIntoCallsOfMaxTokens) {
  ASSERT_EQ(4, ms_model.max_tokens);
  std::vector<int32_t> ids = {10, 11, 12, 13, 14, 15, 16, 17, 18, 19};
  std::vector<std::pair<int64_t, int64_t>> calls;
  std::vector<int32_t> predicted;
  struct Log {
    std::vector<std::pair<int64_t, int64_t>> *calls;
    std::vector<int32_t> *predicted;
  } log = {&calls, &predicted};
  float *logits = ms_feed(
      ids.data(), int64_t(ids.size()), 0,
      [](void *context, const float *logits, int64_t first, int64_t count) {
        auto *log = static_cast<Log *>(context);
        log->calls->push_back({first, count});
        for (int64_t r = 0; r < count; ++r)
          log->predicted->push_back(argmax(logits + r * ms_model.vocab_size));
      },
      &log);
  EXPECT_EQ((std::vector<std::pair<int64_t, int64_t>>{{0, 4}, {4, 4}, {8, 2}}),
            calls);
  EXPECT_EQ((std::vector<int32_t>{11, 12, 13, 14, 15, 16, 17, 18, 19, 20}),
            predicted);
  EXPECT_EQ(20, argmax(logits));
}

TEST(Generate, FeedWithoutConsumerComputesTheLastRowOnly) {
  // fake_model aborts unless 1 <= logit_rows <= n; each call's row is its
  // last token's.
  std::vector<int32_t> ids = {10, 11, 12, 13, 14, 15, 16, 17, 18, 30};
  float *logits = ms_feed(ids.data(), int64_t(ids.size()), 0, 0, 0);
  EXPECT_EQ(31, argmax(logits));
}

struct GenerationFixture : testing::Test {
  std::vector<float> probabilities = std::vector<float>(ms_model.vocab_size);
  std::vector<int32_t> indices = std::vector<int32_t>(ms_model.vocab_size);
  std::vector<int32_t> history = std::vector<int32_t>(ms_model.max_context);
  ms_generation generation;
  void SetUp() override {
    ms_sampler greedy = {0.0f,          1.0f, 0, 1.0f, 0, probabilities.data(),
                         indices.data()};
    ms_generation_init(&generation, greedy, history.data());
  }
};

TEST_F(GenerationFixture, PrefillRejectsEmptyAndContextFillingPrompts) {
  std::vector<int32_t> prompt(ms_model.max_context, 1);
  EXPECT_EQ(MS_GENERATION_ERROR_EMPTY,
            ms_generation_prefill(&generation, prompt.data(), 0));
  EXPECT_EQ(
      MS_GENERATION_ERROR_CONTEXT,
      ms_generation_prefill(&generation, prompt.data(), ms_model.max_context));
  EXPECT_EQ(0, generation.length);
  EXPECT_EQ(0, ms_generation_prefill(&generation, prompt.data(),
                                     ms_model.max_context - 1));
  EXPECT_EQ(ms_model.max_context - 1, generation.length);
}

TEST_F(GenerationFixture, StepsUntilTheContextIsFull) {
  ms_tokenizer tokenizer;
  ASSERT_EQ(0, ms_tokenizer_init(&tokenizer, ms_tokenizer_blob,
                                 ms_tokenizer_blob_size));
  const int32_t prompt[] = {'a', 'b', 'c'};
  ASSERT_EQ(0, ms_generation_prefill(&generation, prompt, 3));
  int32_t expected = 'd';
  while (generation.length < ms_model.max_context) {
    int32_t id = ms_generation_sample(&generation);
    ASSERT_EQ(expected, id) << "at length " << generation.length;
    char text[16];
    ASSERT_EQ(1, ms_generation_token_text(&generation, &tokenizer, id, text,
                                          sizeof text));
    EXPECT_EQ(char(id), text[0]);
    ASSERT_EQ(0, ms_generation_step(&generation, id));
    EXPECT_EQ(id, history[generation.length - 1]);
    ++expected;
  }
  EXPECT_EQ(MS_GENERATION_ERROR_CONTEXT,
            ms_generation_step(&generation, expected));
  EXPECT_EQ(ms_model.max_context, generation.length);
}

} // namespace
