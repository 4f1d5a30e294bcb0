//===- KernelsTest.cpp - runtime microkernels and sampler -------*- C++ -*-===//
//
// Part of the Microscale project.
//
// The kernels against straightforward double-precision loops, each ISA's
// linear kernel against the portable one (for every ISA this CPU runs),
// their promise that results do not depend on the thread count or on how
// many tokens share a call, and the thread pool's split.
//
//===----------------------------------------------------------------------===//

#include "kernels/kernels.h"
#include "RandomVector.h"
#include "kernels/parallel.h"
#include "microscale/runtime.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

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

/// Causal attention in double, as runtime.h documents it.
std::vector<double> referenceAttention(const std::vector<float> &q,
                                       const std::vector<float> &k,
                                       const std::vector<float> &v, int64_t n,
                                       int64_t pos, int64_t heads,
                                       int64_t kvHeads, int64_t headDim,
                                       float scale) {
  std::vector<double> out(n * heads * headDim);
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
        double sum = 0;
        for (int64_t p = 0; p < visible; ++p)
          sum += weights[p] / total * v[(p * kvHeads + kvHead) * headDim + d];
        out[(r * heads + h) * headDim + d] = sum;
      }
    }
  return out;
}

TEST(Kernels, AttentionMatchesReferenceWithGroupedHeads) {
  const int64_t heads = 6, kvHeads = 2, headDim = 8, pos = 5, n = 3;
  const int64_t context = pos + n;
  auto q = randomVector(n * heads * headDim, 6);
  auto k = randomVector(context * kvHeads * headDim, 7);
  auto v = randomVector(context * kvHeads * headDim, 8);
  std::vector<float> out(n * heads * headDim), scratch(heads * context);
  const float scale = 1.0f / std::sqrt(float(headDim));
  auto expected =
      referenceAttention(q, k, v, n, pos, heads, kvHeads, headDim, scale);
  for (int threads : {1, 3}) {
    ms_set_threads(threads);
    ms_attention_f32(q.data(), k.data(), v.data(), n, pos, heads, kvHeads,
                     headDim, scale, out.data(), scratch.data());
    for (size_t i = 0; i < out.size(); ++i)
      EXPECT_NEAR(out[i], expected[i], 1e-5) << threads << " threads, " << i;
  }
  ms_set_threads(0);
}

/// Every ISA built in that this CPU runs, the portable one included.
std::vector<const ms_kernel_isa *> availableIsas() {
  std::vector<const ms_kernel_isa *> isas;
  for (int i = 0; i < ms_kernel_isa_count; ++i)
    if (!ms_kernel_isas[i].available || ms_kernel_isas[i].available())
      isas.push_back(&ms_kernel_isas[i]);
  return isas;
}

const ms_kernel_isa &portableIsa() {
  return ms_kernel_isas[ms_kernel_isa_count - 1];
}

TEST(Kernels, TheIsaTableEndsWithThePortableKernel) {
  EXPECT_EQ(std::string("portable"), portableIsa().name);
  EXPECT_EQ(nullptr, portableIsa().available);
  // ms_linear_f32 uses the widest ISA this CPU runs.
  EXPECT_EQ(availableIsas().front(), ms_kernels_current_isa());
#if defined(__x86_64__)
  EXPECT_EQ(3, ms_kernel_isa_count);
#endif
}

TEST(Kernels, EveryIsaMatchesThePortableKernel) {
  // Each vector kernel on its own, one output channel at a time, against
  // the portable kernel: rows around the four-row blocks, reductions around
  // the 8-, 16- and 32-lane steps, a strided output.
  for (const ms_kernel_isa *isa : availableIsas())
    for (int64_t rows : {1, 3, 4, 5, 8, 9})
      for (int64_t in : {0, 1, 7, 8, 15, 16, 31, 32, 33, 100, 288}) {
        auto x = randomVector(rows * in + 1, 30), w = randomVector(in + 1, 31);
        const int64_t stride = 3;
        std::vector<float> y(rows * stride, -1.0f), reference(y);
        isa->linear_channel(x.data(), rows, in, w.data(), 0.25f, y.data(),
                            stride);
        portableIsa().linear_channel(x.data(), rows, in, w.data(), 0.25f,
                                     reference.data(), stride);
        for (int64_t r = 0; r < rows; ++r) {
          double magnitude = 0.25;
          for (int64_t i = 0; i < in; ++i)
            magnitude += std::fabs(double(x[r * in + i]) * w[i]);
          ASSERT_NEAR(y[r * stride], reference[r * stride], 1e-5 * magnitude)
              << isa->name << " rows " << rows << " in " << in << " row " << r;
          // Only the channel's own outputs are written.
          ASSERT_EQ(-1.0f, y[r * stride + 1]) << isa->name;
        }
      }
}

/// y = x w^T + b in double, with each element's bound on float rounding
/// error (relative 1e-5 of the sum of absolute terms).
void referenceLinear(const std::vector<float> &x, int64_t rows, int64_t in,
                     const std::vector<float> &w, int64_t out, const float *b,
                     std::vector<double> &y, std::vector<double> &bound) {
  y.assign(rows * out, 0.0);
  bound.assign(rows * out, 0.0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < out; ++o) {
      double sum = b ? b[o] : 0.0, magnitude = b ? std::fabs(b[o]) : 0.0;
      for (int64_t i = 0; i < in; ++i) {
        double term = double(x[r * in + i]) * w[o * in + i];
        sum += term;
        magnitude += std::fabs(term);
      }
      y[r * out + o] = sum;
      bound[r * out + o] = 1e-5 * magnitude + 1e-30;
    }
}

TEST(Kernels, LinearShapesAndVectorWidths) {
  // Rows around the four-row prefill blocks, reductions around the 16- and
  // 32-lane steps, outputs fewer than the threads.
  for (const ms_kernel_isa *isa : availableIsas()) {
    ms_kernels_use_isa(isa);
    for (int64_t rows : {1, 3, 4, 5, 9})
      for (int64_t in : {1, 7, 16, 33, 64, 100})
        for (int64_t out : {1, 2, 130}) {
          auto x = randomVector(rows * in, 11), w = randomVector(out * in, 12),
               bias = randomVector(out, 13);
          std::vector<double> expected, bound;
          referenceLinear(x, rows, in, w, out, bias.data(), expected, bound);
          std::vector<float> y(rows * out);
          ms_linear_f32(x.data(), rows, in, w.data(), out, bias.data(),
                        y.data());
          for (int64_t e = 0; e < rows * out; ++e)
            ASSERT_NEAR(y[e], expected[e], bound[e])
                << isa->name << " rows " << rows << " in " << in << " out "
                << out << " element " << e;
        }
  }
  ms_kernels_use_isa(nullptr);
}

TEST(Kernels, LinearLargeReductionAndThreads) {
  // Big enough for the pool; every vector width, 1..3 threads, identical
  // bits across thread counts and a tight bound against double.
  const int64_t rows = 6, in = 1000, out = 97;
  auto x = randomVector(rows * in, 14), w = randomVector(out * in, 15),
       bias = randomVector(out, 16);
  std::vector<double> expected, bound;
  referenceLinear(x, rows, in, w, out, bias.data(), expected, bound);
  for (const ms_kernel_isa *isa : availableIsas()) {
    ms_kernels_use_isa(isa);
    std::vector<float> first(rows * out), other(rows * out);
    ms_set_threads(1);
    ms_linear_f32(x.data(), rows, in, w.data(), out, bias.data(), first.data());
    for (int64_t e = 0; e < rows * out; ++e)
      ASSERT_NEAR(first[e], expected[e], bound[e]) << isa->name;
    for (int threads : {2, 3}) {
      ms_set_threads(threads);
      ms_linear_f32(x.data(), rows, in, w.data(), out, bias.data(),
                    other.data());
      EXPECT_EQ(0, std::memcmp(first.data(), other.data(),
                               first.size() * sizeof(float)))
          << isa->name << ", " << threads << " threads";
    }
  }
  ms_set_threads(0);
  ms_kernels_use_isa(nullptr);
}

TEST(Kernels, PrefillRowsMatchDecodeRows) {
  // A token's outputs do not depend on how many tokens share the call, so
  // prefill in chunks gives the logits of token-by-token decoding.
  const int64_t rows = 7, in = 96, out = 200;
  auto x = randomVector(rows * in, 17), w = randomVector(out * in, 18);
  for (const ms_kernel_isa *isa : availableIsas()) {
    ms_kernels_use_isa(isa);
    std::vector<float> all(rows * out), one(out);
    ms_linear_f32(x.data(), rows, in, w.data(), out, nullptr, all.data());
    for (int64_t r = 0; r < rows; ++r) {
      ms_linear_f32(x.data() + r * in, 1, in, w.data(), out, nullptr,
                    one.data());
      EXPECT_EQ(
          0, std::memcmp(one.data(), all.data() + r * out, out * sizeof(float)))
          << isa->name << " row " << r;
    }
  }
  ms_kernels_use_isa(nullptr);
}

TEST(Kernels, AttentionHeadMappingsAndThreads) {
  // Multi-head, grouped and multi-query layouts, with work large enough to
  // use the pool; identical bits for 1, 2 and 3 threads.
  const int64_t heads = 8, headDim = 16, pos = 40, n = 5;
  const int64_t context = pos + n;
  for (int64_t kvHeads : {8, 2, 1}) {
    auto q = randomVector(n * heads * headDim, 20);
    auto k = randomVector(context * kvHeads * headDim, 21);
    auto v = randomVector(context * kvHeads * headDim, 22);
    const float scale = 1.0f / std::sqrt(float(headDim));
    auto expected =
        referenceAttention(q, k, v, n, pos, heads, kvHeads, headDim, scale);
    std::vector<float> first(n * heads * headDim), other(first.size()),
        scratch(heads * context);
    ms_set_threads(1);
    ms_attention_f32(q.data(), k.data(), v.data(), n, pos, heads, kvHeads,
                     headDim, scale, first.data(), scratch.data());
    for (size_t e = 0; e < first.size(); ++e)
      ASSERT_NEAR(first[e], expected[e], 1e-5 * (1 + std::fabs(expected[e])))
          << "kv heads " << kvHeads << " element " << e;
    for (int threads : {2, 3}) {
      ms_set_threads(threads);
      ms_attention_f32(q.data(), k.data(), v.data(), n, pos, heads, kvHeads,
                       headDim, scale, other.data(), scratch.data());
      EXPECT_EQ(0, std::memcmp(first.data(), other.data(),
                               first.size() * sizeof(float)))
          << "kv heads " << kvHeads << ", " << threads << " threads";
    }
  }
  ms_set_threads(0);
}

TEST(Kernels, EveryIsaAttentionMatchesTheReference) {
  // Each ISA's attention loops (ms_kernel_isa.attention, the portable ones
  // where NULL) on head sizes with a partial last vector and more than one
  // pass of vectors, grouped heads and several queries; each query gives
  // the same bits alone as with the others (decode as prefill).
  const int64_t heads = 6, kvHeads = 2, pos = 33, n = 4;
  const int64_t context = pos + n;
  for (int64_t headDim : {45, 72, 8, 3}) {
    auto q = randomVector(n * heads * headDim, 40);
    auto k = randomVector(context * kvHeads * headDim, 41);
    auto v = randomVector(context * kvHeads * headDim, 42);
    const float scale = 1.0f / std::sqrt(float(headDim));
    auto expected =
        referenceAttention(q, k, v, n, pos, heads, kvHeads, headDim, scale);
    for (int i = 0; i < ms_kernel_isa_count; ++i) {
      const ms_kernel_isa *isa = &ms_kernel_isas[i];
      if (isa->available && !isa->available())
        continue;
      ms_kernels_use_isa(isa);
      std::vector<float> out(n * heads * headDim), scratch(heads * context);
      ms_attention_f32(q.data(), k.data(), v.data(), n, pos, heads, kvHeads,
                       headDim, scale, out.data(), scratch.data());
      for (size_t e = 0; e < out.size(); ++e)
        ASSERT_NEAR(out[e], expected[e], 1e-5 * (1 + std::fabs(expected[e])))
            << isa->name << " head size " << headDim << " element " << e;
      const int64_t features = heads * headDim;
      for (int64_t r = 0; r < n; ++r) {
        std::vector<float> one(features), oneScratch(heads * (pos + r + 1));
        ms_attention_f32(q.data() + r * features, k.data(), v.data(), 1,
                         pos + r, heads, kvHeads, headDim, scale, one.data(),
                         oneScratch.data());
        EXPECT_EQ(0, std::memcmp(one.data(), out.data() + r * features,
                                 features * sizeof(float)))
            << isa->name << " head size " << headDim << " query " << r;
      }
    }
  }
  ms_kernels_use_isa(nullptr);
}

TEST(Kernels, AttentionFirstPositionCopiesValues) {
  // One visible position: softmax weight 1, whatever the scores.
  const int64_t heads = 4, kvHeads = 2, headDim = 8;
  auto q = randomVector(heads * headDim, 23);
  auto k = randomVector(kvHeads * headDim, 24);
  auto v = randomVector(kvHeads * headDim, 25);
  std::vector<float> out(heads * headDim), scratch(heads);
  ms_attention_f32(q.data(), k.data(), v.data(), 1, 0, heads, kvHeads, headDim,
                   1000.0f, out.data(), scratch.data());
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t d = 0; d < headDim; ++d)
      EXPECT_EQ(out[h * headDim + d], v[(h / 2) * headDim + d]);
}

TEST(Kernels, AttentionSoftmaxIsStableForHugeScores) {
  // Scores around +-1e4 would overflow expf without subtracting the max.
  const int64_t heads = 2, kvHeads = 2, headDim = 4, pos = 6, n = 2;
  auto q = randomVector(n * heads * headDim, 26);
  auto k = randomVector((pos + n) * kvHeads * headDim, 27);
  auto v = randomVector((pos + n) * kvHeads * headDim, 28);
  for (float &value : q)
    value *= 1e4f;
  std::vector<float> out(n * heads * headDim), scratch(heads * (pos + n));
  ms_attention_f32(q.data(), k.data(), v.data(), n, pos, heads, kvHeads,
                   headDim, 1.0f, out.data(), scratch.data());
  auto expected =
      referenceAttention(q, k, v, n, pos, heads, kvHeads, headDim, 1.0f);
  for (size_t e = 0; e < out.size(); ++e) {
    ASSERT_TRUE(std::isfinite(out[e]));
    EXPECT_NEAR(out[e], expected[e], 1e-4 * (1 + std::fabs(expected[e])));
  }
}

TEST(Threads, ParallelForCoversEveryIndexOnceInAFixedNumberOfChunks) {
  for (int threads : {1, 2, 3, 5}) {
    ms_set_threads(threads);
    for (int64_t count : {0, 1, 2, 3, 10, 1000}) {
      struct Log {
        std::vector<std::atomic<int>> visits;
        std::atomic<int> chunks{0};
        explicit Log(size_t n) : visits(n) {}
      } log(count);
      ms_parallel_for(
          count,
          [](void *context, int64_t begin, int64_t end) {
            auto *log = static_cast<Log *>(context);
            ++log->chunks;
            for (int64_t i = begin; i < end; ++i)
              ++log->visits[i];
          },
          &log);
      for (int64_t i = 0; i < count; ++i)
        ASSERT_EQ(1, log.visits[i].load())
            << threads << " threads, count " << count << ", index " << i;
      // Four chunks per thread, any thread taking any chunk (never more
      // chunks than items; one, inline, for a single thread).
      int64_t used = std::min<int64_t>(count, ms_get_threads());
      EXPECT_EQ(used > 1 ? std::min<int64_t>(count, 4 * used) : 1,
                log.chunks.load())
          << threads << " threads, count " << count;
    }
  }
  ms_set_threads(0);
  EXPECT_GE(ms_get_threads(), 1);
}

} // namespace
