//===- QuantKernelsTest.cpp - quantized linear kernels ----------*- C++ -*-===//
//
// Part of the Microscale project.
//
// The runtime's weight-only quantized kernels (kernels.def) against the
// quantization library: matrices quantized by lib/Quant, then every kernel
// of every ISA this CPU runs compared with the library's dequantized matrix
// times x in double, on shapes that are not multiples of the vector width
// or the group. Also: results that do not depend on the thread count or on
// how many tokens share a call, and embedding rows equal to the library's.
//
//===----------------------------------------------------------------------===//

#include "QuantStorage.h"
#include "RandomVector.h"
#include "kernels/kernels.h"
#include "microscale/Quant/Quant.h"
#include "microscale/runtime.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

using namespace mlir::microscale;

namespace {

void runLinear(QuantEntry entry, const QuantStorage &s, const float *x,
               int64_t rows, const float *bias, float *y) {
  int64_t in = s.matrix.cols, out = s.matrix.rows;
  switch (entry) {
  case QuantEntry::Q8:
    ms_linear_q8_f32(x, rows, in, s.w(), s.scales.data(), s.scaleMax(),
                     s.zeroPoints(), s.group(), out, bias, y);
    return;
  case QuantEntry::Q4:
    ms_linear_q4_f32(x, rows, in, s.w(), s.scales.data(), s.scaleMax(),
                     s.zeroPoints(), s.group(), out, bias, y);
    return;
  case QuantEntry::AnyWidth:
    ms_linear_q_f32(x, rows, in, s.w(), s.scales.data(), s.scaleMax(),
                    s.zeroPoints(), s.matrix.format.bits, s.group(), out, bias,
                    y);
    return;
  }
}

} // namespace

#if defined(__x86_64__)
// QuantVector16.c: the 16-lane kernels of AVX-512F, built for AVX2.
extern "C" {
void ms_test_linear_quant_q_lanes16(const float *x, int64_t rows,
                                    const ms_quant_matrix *m, int64_t begin,
                                    int64_t end, const float *bias, float *y,
                                    int64_t y_stride);
void ms_test_linear_quant_q8_lanes16(const float *x, int64_t rows,
                                     const ms_quant_matrix *m, int64_t begin,
                                     int64_t end, const float *bias, float *y,
                                     int64_t y_stride);
void ms_test_linear_quant_q4_lanes16(const float *x, int64_t rows,
                                     const ms_quant_matrix *m, int64_t begin,
                                     int64_t end, const float *bias, float *y,
                                     int64_t y_stride);
}
#endif

namespace {

/// Every ISA built in that this CPU runs, the portable one included, and
/// on x86-64 with AVX2 the 16-lane kernels as one more.
std::vector<const ms_kernel_isa *> availableIsas() {
  std::vector<const ms_kernel_isa *> isas;
  for (int i = 0; i < ms_kernel_isa_count; ++i)
    if (!ms_kernel_isas[i].available || ms_kernel_isas[i].available())
      isas.push_back(&ms_kernel_isas[i]);
#if defined(__x86_64__)
  static const ms_kernel_isa lanes16 = {
      "16 lanes on avx2+fma",
      ms_x86_64_has_avx2_fma,
      ms_linear_channel_avx2_fma,
      {nullptr, nullptr, ms_test_linear_quant_q_lanes16,
       ms_test_linear_quant_q_lanes16, ms_test_linear_quant_q4_lanes16,
       ms_test_linear_quant_q_lanes16, ms_test_linear_quant_q_lanes16,
       ms_test_linear_quant_q_lanes16, ms_test_linear_quant_q8_lanes16},
      16,
      {},
      nullptr,
      nullptr,
      {}};
  if (ms_x86_64_has_avx2_fma())
    isas.push_back(&lanes16);
#endif
  return isas;
}

/// The dequantized [out, in] weights `w` times x (+ bias), in double, with
/// each element's bound on float rounding error (relative 1e-5 of the sum
/// of absolute terms).
void referenceLinear(const std::vector<float> &w, int64_t in, int64_t out,
                     const std::vector<float> &x, int64_t rows,
                     const float *bias, std::vector<double> &y,
                     std::vector<double> &bound) {
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

uint32_t bitsOf(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

struct Case {
  QuantEntry entry;
  int bits;
};

TEST(QuantKernels, EveryWidthGroupAndShapeMatchesTheLibrary) {
  // Inputs around the 8- and 16-lane blocks and the groups (172 = 5 x 32 +
  // 12, stories260K's MLP width), outputs around the four-channel tiles,
  // rows below and beyond the eight-token tiles; groups of 13 start
  // mid-byte and run the portable fallback of the vector ISAs.
  std::vector<Case> cases = {{QuantEntry::Q8, 8}, {QuantEntry::Q4, 4}};
  for (int bits = 2; bits <= 8; ++bits)
    cases.push_back({QuantEntry::AnyWidth, bits});
  const int64_t shapes[][2] = {{172, 7}, {33, 7}, {5, 4}, {288, 9}};
  for (const ms_kernel_isa *isa : availableIsas()) {
    ms_kernels_use_isa(isa);
    for (auto [in, out] : shapes) {
      auto weights = randomVector(out * in, 40);
      auto bias = randomVector(out, 41);
      for (const Case &c : cases)
        for (bool symmetric : {true, false})
          for (int64_t group : {32, 64, 128, 0, 13}) {
            quant::Format format;
            format.bits = c.bits;
            format.group = group;
            format.symmetric = symmetric;
            // Logarithmic scales on some groupings, half floats on others.
            if (group == 64 || group == 13)
              format.scale = quant::ScaleType::Log8;
            QuantStorage storage(weights, out, in, format);
            std::vector<float> dequantized = quant::dequantize(storage.matrix);
            for (int64_t rows : {1, 5, 12}) {
              auto x = randomVector(rows * in, 42);
              for (const float *b : {static_cast<const float *>(nullptr),
                                     static_cast<const float *>(bias.data())}) {
                std::vector<double> expected, bound;
                referenceLinear(dequantized, in, out, x, rows, b, expected,
                                bound);
                std::vector<float> y(rows * out, NAN);
                runLinear(c.entry, storage, x.data(), rows, b, y.data());
                for (int64_t e = 0; e < rows * out; ++e)
                  ASSERT_NEAR(y[e], expected[e], bound[e])
                      << isa->name << " " << format.str() << " in " << in
                      << " out " << out << " rows " << rows
                      << (b ? " bias" : " no bias") << " element " << e;
              }
            }
          }
    }
  }
  ms_kernels_use_isa(nullptr);
}

TEST(QuantKernels, IdenticalForAnyThreadCount) {
  // Big enough for the pool; channels the threads split unevenly.
  const int64_t rows = 5, in = 288, out = 101;
  auto weights = randomVector(out * in, 43), x = randomVector(rows * in, 44),
       bias = randomVector(out, 45);
  for (const ms_kernel_isa *isa : availableIsas()) {
    ms_kernels_use_isa(isa);
    for (int bits : {8, 4, 3})
      for (bool symmetric : {true, false}) {
        quant::Format format;
        format.bits = bits;
        format.group = 32;
        format.symmetric = symmetric;
        QuantStorage storage(weights, out, in, format);
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
              << isa->name << " " << format.str() << ", " << threads
              << " threads";
        }
      }
  }
  ms_set_threads(0);
  ms_kernels_use_isa(nullptr);
}

TEST(QuantKernels, PrefillRowsMatchDecodeRows) {
  // A token's outputs do not depend on how many tokens share the call.
  // 13 tokens: a tile of eight, then five one at a time.
  const int64_t rows = 13, in = 100, out = 30;
  auto weights = randomVector(out * in, 46), x = randomVector(rows * in, 47);
  for (const ms_kernel_isa *isa : availableIsas()) {
    ms_kernels_use_isa(isa);
    for (int bits : {8, 4, 5})
      for (bool symmetric : {true, false}) {
        quant::Format format;
        format.bits = bits;
        format.group = 32;
        format.symmetric = symmetric;
        QuantStorage storage(weights, out, in, format);
        std::vector<float> all(rows * out), one(out);
        runLinear(QuantEntry::AnyWidth, storage, x.data(), rows, nullptr,
                  all.data());
        for (int64_t r = 0; r < rows; ++r) {
          runLinear(QuantEntry::AnyWidth, storage, x.data() + r * in, 1,
                    nullptr, one.data());
          EXPECT_EQ(0, std::memcmp(one.data(), all.data() + r * out,
                                   out * sizeof(float)))
              << isa->name << " " << format.str() << " row " << r;
        }
      }
  }
  ms_kernels_use_isa(nullptr);
}

TEST(QuantKernels, VectorIsasHaveEveryWidth) {
  // The widest ISA this CPU runs is the one the entry points use; on
  // x86-64 it has vector kernels for every width.
  const ms_kernel_isa *isa = ms_kernels_current_isa();
  if (std::string(isa->name) == "portable")
    GTEST_SKIP() << "no vector ISA on this CPU";
  for (int bits = 2; bits <= 8; ++bits)
    EXPECT_NE(nullptr, isa->linear_quant[bits]) << isa->name << " " << bits;
  EXPECT_EQ(0, isa->quant_block % 8) << isa->name;
}

TEST(QuantKernels, DequantizeRowEqualsTheLibrary) {
  const int64_t rows = 6;
  for (int64_t in : {1, 33, 172})
    for (int bits = 2; bits <= 8; ++bits)
      for (bool symmetric : {true, false})
        for (int64_t group : {32, 0, 13})
          for (quant::ScaleType scale :
               {quant::ScaleType::F16, quant::ScaleType::Log8}) {
            quant::Format format;
            format.bits = bits;
            format.group = group;
            format.symmetric = symmetric;
            format.scale = scale;
            QuantStorage storage(randomVector(rows * in, 48), rows, in, format);
            std::vector<float> expected(in), actual(in);
            for (int64_t row = 0; row < rows; ++row) {
              quant::dequantizeRow(storage.matrix, row, expected.data());
              ms_dequantize_row_f32(storage.w(), storage.scales.data(),
                                    storage.scaleMax(), storage.zeroPoints(),
                                    bits, storage.group(), in, row,
                                    actual.data());
              // Bit for bit (a zero's sign included).
              for (int64_t i = 0; i < in; ++i)
                ASSERT_EQ(bitsOf(expected[i]), bitsOf(actual[i]))
                    << format.str() << " in " << in << " row " << row
                    << " column " << i;
            }
          }
}

} // namespace
