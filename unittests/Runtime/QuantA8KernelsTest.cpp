//===- QuantA8KernelsTest.cpp - 8-bit-activation quantized linears -*- C++
//-*-===//
//
// Part of the Microscale project.
//
// The runtime's `_a8` kernels (kernels.def: ms_linear_q{8,4,}_a8_f32)
// against the quantization library: matrices quantized by lib/Quant, rows
// of x replaced by their 8-bit blocks' values (fakeQuantizeActivations, as
// the reference interpreter does), their product in double; every ISA this
// CPU runs, and the portable kernel, on shapes with tail blocks and tail
// groups. Also: results that do not depend on the thread count or on how
// many tokens share a call, and activation codes equal to
// ms_quantize_activation_block's for every quantizer, ties included.
//
//===----------------------------------------------------------------------===//

#include "QuantStorage.h"
#include "RandomVector.h"
#include "kernels/kernels.h"
#include "microscale/Quant/Activations.h"
#include "microscale/Quant/Quant.h"
#include "microscale/quant_activations.h"
#include "microscale/runtime.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

using namespace mlir::microscale;

namespace {

/// Calls `entry` with a scratch buffer of exactly MS_ACT_SCRATCH_FLOATS
/// floats, filled with NaNs first so that nothing relies on its contents.
void runLinear(QuantEntry entry, const QuantStorage &s, const float *x,
               int64_t rows, const float *bias, float *y) {
  int64_t in = s.matrix.cols, out = s.matrix.rows;
  std::vector<float> scratch(MS_ACT_SCRATCH_FLOATS(rows, in), NAN);
  ASSERT_EQ(static_cast<int64_t>(scratch.size()),
            quant::activationScratchFloats(rows, in));
  switch (entry) {
  case QuantEntry::Q8:
    ms_linear_q8_a8_f32(x, rows, in, s.w(), s.scales.data(), s.scaleMax(),
                        s.zeroPoints(), s.group(), out, bias, y,
                        scratch.data());
    return;
  case QuantEntry::Q4:
    ms_linear_q4_a8_f32(x, rows, in, s.w(), s.scales.data(), s.scaleMax(),
                        s.zeroPoints(), s.group(), out, bias, y,
                        scratch.data());
    return;
  case QuantEntry::AnyWidth:
    ms_linear_q_a8_f32(x, rows, in, s.w(), s.scales.data(), s.scaleMax(),
                       s.zeroPoints(), s.matrix.format.bits, s.group(), out,
                       bias, y, scratch.data());
    return;
  }
}

/// Every ISA built in that this CPU runs, the portable one last.
std::vector<const ms_kernel_isa *> availableIsas() {
  std::vector<const ms_kernel_isa *> isas;
  for (int i = 0; i < ms_kernel_isa_count; ++i)
    if (!ms_kernel_isas[i].available || ms_kernel_isas[i].available())
      isas.push_back(&ms_kernel_isas[i]);
  return isas;
}

/// The dequantized [out, in] weights times the fake-quantized x (+ bias),
/// in double, with each element's bound on float rounding error (relative
/// 1e-5 of the sum of absolute terms).
void referenceLinear(const QuantStorage &s, std::vector<float> x, int64_t rows,
                     const float *bias, std::vector<double> &y,
                     std::vector<double> &bound) {
  int64_t in = s.matrix.cols, out = s.matrix.rows;
  std::vector<float> w = quant::dequantize(s.matrix);
  quant::fakeQuantizeActivations(x, rows, in);
  y.assign(rows * out, 0.0);
  bound.assign(rows * out, 0.0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < out; ++o) {
      double sum = bias ? bias[o] : 0.0, magnitude = std::fabs(sum);
      for (int64_t i = 0; i < in; ++i) {
        double term = double(x[r * in + i]) * w[o * in + i];
        sum += term;
        magnitude += std::fabs(term);
      }
      y[r * out + o] = sum;
      bound[r * out + o] = 1e-5 * magnitude + 1e-30;
    }
}

struct Case {
  QuantEntry entry;
  int bits;
};

std::vector<Case> everyEntryAndWidth() {
  std::vector<Case> cases = {{QuantEntry::Q8, 8}, {QuantEntry::Q4, 4}};
  for (int bits = 2; bits <= 8; ++bits)
    cases.push_back({QuantEntry::AnyWidth, bits});
  return cases;
}

quant::Format makeFormat(int bits, int64_t group, bool symmetric,
                         quant::ScaleType scale = quant::ScaleType::F16) {
  quant::Format format;
  format.bits = bits;
  format.group = group;
  format.symmetric = symmetric;
  format.scale = scale;
  format.int8Activations = true;
  return format;
}

TEST(QuantA8Kernels, EveryWidthGroupAndShapeMatchesTheLibrary) {
  // Inputs with a tail block and a tail group (172 = 5 x 32 + 12, 33) and
  // without (288), outputs around the eight-channel tiles, rows around the
  // four-token tiles. Groups of 48 do not start on blocks (the ABI rules
  // them out; the kernels fall back to the portable one and stay right).
  const int64_t shapes[][2] = {{172, 7}, {33, 5}, {288, 9}, {64, 9}, {160, 3}};
  std::vector<const ms_kernel_isa *> isas = availableIsas();
  for (auto [in, out] : shapes) {
    auto weights = randomVector(out * in, 50);
    auto bias = randomVector(out, 51);
    for (const Case &c : everyEntryAndWidth())
      for (bool symmetric : {true, false})
        for (int64_t group : {32, 64, 0, 48})
          for (quant::ScaleType scale :
               {quant::ScaleType::F16, quant::ScaleType::Log8}) {
            QuantStorage storage(weights, out, in,
                                 makeFormat(c.bits, group, symmetric, scale));
            for (int64_t rows : {1, 3, 8, 9, 17}) {
              auto x = randomVector(rows * in, 52 + rows);
              const float *b = rows % 2 ? bias.data() : nullptr;
              std::vector<double> expected, bound;
              referenceLinear(storage, x, rows, b, expected, bound);
              // The portable ISA (last) first, then every ISA against it and
              // against the library.
              std::vector<float> portable(rows * out, NAN);
              ms_kernels_use_isa(isas.back());
              runLinear(c.entry, storage, x.data(), rows, b, portable.data());
              for (const ms_kernel_isa *isa : isas) {
                ms_kernels_use_isa(isa);
                std::vector<float> y(rows * out, NAN);
                runLinear(c.entry, storage, x.data(), rows, b, y.data());
                for (int64_t e = 0; e < rows * out; ++e) {
                  ASSERT_NEAR(y[e], expected[e], bound[e])
                      << isa->name << " " << storage.matrix.format.str()
                      << " in " << in << " out " << out << " rows " << rows
                      << " element " << e;
                  ASSERT_NEAR(y[e], portable[e], 2 * bound[e])
                      << isa->name << " vs portable, "
                      << storage.matrix.format.str() << " in " << in << " rows "
                      << rows << " element " << e;
                }
              }
            }
          }
  }
  ms_kernels_use_isa(nullptr);
}

TEST(QuantA8Kernels, IdenticalForAnyThreadCount) {
  // Big enough for the pool; channels the threads split unevenly.
  const int64_t rows = 5, in = 288, out = 101;
  auto weights = randomVector(out * in, 60), x = randomVector(rows * in, 61),
       bias = randomVector(out, 62);
  for (const ms_kernel_isa *isa : availableIsas()) {
    ms_kernels_use_isa(isa);
    for (int bits : {8, 4, 3})
      for (bool symmetric : {true, false}) {
        QuantStorage storage(weights, out, in, makeFormat(bits, 32, symmetric));
        std::vector<float> first(rows * out), other(rows * out);
        ms_set_threads(1);
        runLinear(QuantEntry::AnyWidth, storage, x.data(), rows, bias.data(),
                  first.data());
        for (int threads : {2, 3}) {
          ms_set_threads(threads);
          runLinear(QuantEntry::AnyWidth, storage, x.data(), rows, bias.data(),
                    other.data());
          EXPECT_EQ(0, std::memcmp(first.data(), other.data(),
                                   first.size() * sizeof(float)))
              << isa->name << " " << storage.matrix.format.str() << ", "
              << threads << " threads";
        }
      }
  }
  ms_set_threads(0);
  ms_kernels_use_isa(nullptr);
}

TEST(QuantA8Kernels, PrefillRowsMatchDecodeRows) {
  // A token's outputs do not depend on how many tokens share the call.
  // 13 tokens: three tiles of four, then one alone.
  const int64_t rows = 13, in = 172, out = 30;
  auto weights = randomVector(out * in, 63), x = randomVector(rows * in, 64);
  for (const ms_kernel_isa *isa : availableIsas()) {
    ms_kernels_use_isa(isa);
    for (const Case &c : everyEntryAndWidth())
      for (bool symmetric : {true, false})
        for (int64_t group : {32, 0}) {
          QuantStorage storage(weights, out, in,
                               makeFormat(c.bits, group, symmetric));
          std::vector<float> all(rows * out), one(out);
          runLinear(c.entry, storage, x.data(), rows, nullptr, all.data());
          for (int64_t r = 0; r < rows; ++r) {
            runLinear(c.entry, storage, x.data() + r * in, 1, nullptr,
                      one.data());
            EXPECT_EQ(0, std::memcmp(one.data(), all.data() + r * out,
                                     out * sizeof(float)))
                << isa->name << " " << storage.matrix.format.str() << " row "
                << r;
          }
        }
  }
  ms_kernels_use_isa(nullptr);
}

TEST(QuantA8Kernels, VectorIsasHaveEveryWidth) {
  // The widest ISA this CPU runs is the one the entry points use; on
  // x86-64 it has `_a8` kernels for every width.
  const ms_kernel_isa *isa = ms_kernels_current_isa();
  if (std::string(isa->name) == "portable")
    GTEST_SKIP() << "no vector ISA on this CPU";
  for (int bits = 2; bits <= 8; ++bits)
    EXPECT_NE(nullptr, isa->linear_quant_a8[bits].run)
        << isa->name << " " << bits;
  EXPECT_NE(nullptr, isa->quantize_activations) << isa->name;
}

uint32_t bitsOf(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

/// Rows of x with blocks that test the rounding: ties (127 is the block's
/// largest magnitude, so the scaling is exactly 1 and k + 0.5 stays a tie),
/// blocks of zeros (signed ones too), a block of one tiny value, and
/// random ones.
std::vector<float> quantizerInputs(int64_t rows, int64_t in) {
  std::vector<float> x = randomVector(rows * in, 70);
  for (int64_t r = 0; r < rows; ++r) {
    float *row = x.data() + r * in;
    for (int64_t begin = 0; begin < in; begin += MS_ACT_BLOCK) {
      int64_t n = std::min<int64_t>(MS_ACT_BLOCK, in - begin);
      int kind = static_cast<int>((r * 7 + begin / MS_ACT_BLOCK) % 5);
      for (int64_t i = 0; i < n; ++i) {
        float &v = row[begin + i];
        if (kind == 0) // ties, both signs, around zero and the ends
          v = i == 0 ? 127.0f
                     : (static_cast<float>((i * 37) % 254) - 126.5f) *
                           (i % 2 ? 1.0f : -1.0f);
        else if (kind == 1)
          v = i % 3 ? 0.0f : -0.0f;
        else if (kind == 2)
          v = i == n / 2 ? 1e-30f : 0.0f;
        else if (kind == 3)
          v *= 1000.0f;
      }
    }
  }
  return x;
}

TEST(QuantA8Kernels, QuantizersGiveTheBlockFunctionsCodes) {
  std::vector<std::pair<std::string, ms_quantize_activations_fn>> quantizers = {
      {"portable", ms_quantize_activations_portable}};
  for (const ms_kernel_isa *isa : availableIsas())
    if (isa->quantize_activations)
      quantizers.push_back({isa->name, isa->quantize_activations});
  for (int64_t in : {172, 33, 288, 5})
    for (int64_t rows : {1, 3, 6}) {
      std::vector<float> x = quantizerInputs(rows, in);
      int64_t blocks = (in + MS_ACT_BLOCK - 1) / MS_ACT_BLOCK;
      for (auto &[name, quantize] : quantizers)
        for (int nibbleOrder : {0, 1}) {
          std::vector<float> scales(rows * blocks, NAN);
          std::vector<int32_t> sums(rows * blocks, -1);
          std::vector<int8_t> codes(rows * blocks * MS_ACT_BLOCK, 99);
          ms_quant_activations a = {scales.data(), sums.data(), codes.data(),
                                    blocks};
          quantize(x.data(), rows, in, nibbleOrder, &a);
          for (int64_t r = 0; r < rows; ++r)
            for (int64_t b = 0; b < blocks; ++b) {
              int64_t begin = b * MS_ACT_BLOCK;
              int64_t n = std::min<int64_t>(MS_ACT_BLOCK, in - begin);
              int8_t expected[MS_ACT_BLOCK] = {};
              float scale = ms_quantize_activation_block(
                  x.data() + r * in + begin, n, expected);
              int64_t index = r * blocks + b;
              std::string where = name + (nibbleOrder ? " nibbles" : "") +
                                  " in " + std::to_string(in) + " row " +
                                  std::to_string(r) + " block " +
                                  std::to_string(b);
              ASSERT_EQ(bitsOf(scale), bitsOf(scales[index])) << where;
              int32_t sum = 0;
              for (int64_t i = 0; i < MS_ACT_BLOCK; ++i) {
                sum += expected[i];
                int64_t at = nibbleOrder ? (i & 1) * 16 + (i >> 1) : i;
                ASSERT_EQ(expected[i], codes[index * MS_ACT_BLOCK + at])
                    << where << " feature " << i;
              }
              ASSERT_EQ(sum, sums[index]) << where;
            }
        }
    }
}

TEST(QuantA8Kernels, TiesRoundToEven) {
  // The shared block function itself: 127 sets the scaling to 1, so each
  // value is its own scaled value.
  float x[MS_ACT_BLOCK] = {127.0f, 0.5f,  1.5f,   2.5f,    -0.5f,
                           -1.5f,  -2.5f, 126.5f, -126.5f, 0.49999997f};
  int8_t codes[MS_ACT_BLOCK];
  EXPECT_EQ(1.0f, ms_quantize_activation_block(x, MS_ACT_BLOCK, codes));
  const int8_t expected[] = {127, 0, 2, 2, 0, -2, -2, 126, -126, 0};
  for (size_t i = 0; i < sizeof expected; ++i)
    EXPECT_EQ(expected[i], codes[i]) << "feature " << i;
}

} // namespace
