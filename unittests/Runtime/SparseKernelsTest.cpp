//===- SparseKernelsTest.cpp - sparse linear kernels ------------*- C++ -*-===//
//
// Part of the Microscale project.
//
// The runtime's sparse kernels (kernels.def's ms_linear_sparse_*) against a
// double reference: matrices pruned to every density from none to all,
// encoded by the storage library (microscale/Sparse/BitmaskStorage.h), with
// float values or per-row 8-bit codes, on widths that are not multiples of
// the mask block, for every ISA this CPU runs. Also: results that do not
// depend on the thread count or on how many tokens share a call.
//
//===----------------------------------------------------------------------===//

#include "RandomVector.h"
#include "kernels/kernels.h"
#include "microscale/Quant/Quant.h"
#include "microscale/Sparse/BitmaskStorage.h"
#include "microscale/runtime.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

using namespace mlir::microscale;

namespace {

/// A pruned [out, in] matrix: what it stands for, and its storage.
struct SparseCase {
  int64_t out, in;
  bool codes;
  std::vector<float> dense; // the values the kernels must multiply
  sparse::BitmaskMatrix<float> values;
  sparse::BitmaskMatrix<int8_t> codeValues;
  std::vector<uint16_t> scales;

  SparseCase(int64_t out, int64_t in, double density, bool codes, unsigned seed)
      : out(out), in(in), codes(codes) {
    std::vector<float> w = randomVector(out * in, seed);
    std::vector<float> keep = randomVector(out * in, seed + 1);
    std::vector<int8_t> q(out * in);
    for (int64_t o = 0; o < out; ++o)
      scales.push_back(quant::floatToHalf(0.01f * (1 + o % 5)));
    dense.resize(out * in);
    for (int64_t i = 0; i < out * in; ++i) {
      // A standard normal is below this quantile with p = density.
      bool kept = std::erfc(-keep[i] / std::sqrt(2.0f)) / 2 < density;
      int code = static_cast<int>(std::lround(w[i] * 40)) % 128;
      q[i] = kept ? static_cast<int8_t>(code == 0 ? 1 : code) : 0;
      dense[i] = codes ? quant::halfToFloat(scales[i / in]) * q[i]
                       : (kept ? w[i] : 0.0f);
    }
    values = sparse::encodeBitmask<float>(codes ? std::vector<float>() : dense,
                                          codes ? 0 : out, in);
    codeValues = sparse::encodeBitmask<int8_t>(q, out, in);
  }

  ms_sparse_matrix matrix() const {
    const sparse::BitmaskMatrix<float> &f = values;
    const sparse::BitmaskMatrix<int8_t> &c = codeValues;
    return {codes ? static_cast<const void *>(c.values.data())
                  : f.values.data(),
            codes ? c.masks.data() : f.masks.data(),
            codes ? c.offsets.data() : f.offsets.data(),
            codes ? reinterpret_cast<const uint8_t *>(scales.data()) : nullptr,
            in,
            out,
            sparse::maskRowBytes(in)};
  }

  /// The entry point generated code calls.
  void run(const float *x, int64_t rows, const float *bias, float *y) const {
    ms_sparse_matrix m = matrix();
    if (codes)
      ms_linear_sparse_q8_f32(x, rows, in,
                              static_cast<const int8_t *>(m.values), m.masks,
                              m.offsets, m.scales, out, bias, y);
    else
      ms_linear_sparse_f32(x, rows, in, static_cast<const float *>(m.values),
                           m.masks, m.offsets, out, bias, y);
  }
};

/// Every ISA built in that this CPU runs, the portable one included.
std::vector<const ms_kernel_isa *> availableIsas() {
  std::vector<const ms_kernel_isa *> isas;
  for (int i = 0; i < ms_kernel_isa_count; ++i)
    if (!ms_kernel_isas[i].available || ms_kernel_isas[i].available())
      isas.push_back(&ms_kernel_isas[i]);
  return isas;
}

std::string describe(const ms_kernel_isa *isa, const SparseCase &c,
                     double density, int64_t rows) {
  return std::string(isa->name) + (c.codes ? " int8 " : " f32 ") +
         std::to_string(c.out) + "x" + std::to_string(c.in) + " density " +
         std::to_string(density) + " rows " + std::to_string(rows);
}

TEST(SparseKernels, EveryDensityAndShapeMatchesTheReference) {
  for (const ms_kernel_isa *isa : availableIsas()) {
    ms_kernels_use_isa(isa);
    for (bool codes : {false, true})
      // 4100: longer than the rows the AVX2 kernels expand on the stack.
      for (int64_t in : {1, 7, 8, 9, 31, 64, 100, 288, 4100})
        for (double density : {0.0, 0.1, 0.5, 0.9, 1.0})
          for (int64_t rows : {1, 2, 3, 5}) {
            int64_t out = 7;
            SparseCase c(out, in, density, codes, in * 7 + rows);
            std::vector<float> x = randomVector(rows * in, in + 3);
            std::vector<float> bias = randomVector(out, 5);
            std::vector<float> y(rows * out, NAN);
            c.run(x.data(), rows, bias.data(), y.data());
            for (int64_t r = 0; r < rows; ++r)
              for (int64_t o = 0; o < out; ++o) {
                double sum = bias[o], magnitude = std::fabs(sum);
                for (int64_t i = 0; i < in; ++i) {
                  double term = double(x[r * in + i]) * c.dense[o * in + i];
                  sum += term;
                  magnitude += std::fabs(term);
                }
                ASSERT_NEAR(y[r * out + o], sum, 1e-5 * magnitude + 1e-30)
                    << describe(isa, c, density, rows) << " at " << r << ", "
                    << o;
              }
          }
  }
  ms_kernels_use_isa(nullptr);
}

TEST(SparseKernels, IdenticalForAnyThreadCountAndTokenCount) {
  // Big enough for the pool; channels the threads split unevenly.
  const int64_t out = 203, in = 300, rows = 5;
  for (const ms_kernel_isa *isa : availableIsas()) {
    ms_kernels_use_isa(isa);
    for (bool codes : {false, true}) {
      SparseCase c(out, in, 0.5, codes, 11);
      std::vector<float> x = randomVector(rows * in, 12);
      std::vector<float> one(rows * out), many(rows * out);
      ms_set_threads(1);
      c.run(x.data(), rows, nullptr, one.data());
      for (int threads : {2, 3}) {
        ms_set_threads(threads);
        c.run(x.data(), rows, nullptr, many.data());
        EXPECT_EQ(std::memcmp(one.data(), many.data(), one.size() * 4), 0)
            << describe(isa, c, 0.5, rows) << ", " << threads << " threads";
      }
      // Each token alone (decode) gives the bits it gets in the prefill call.
      for (int64_t r = 0; r < rows; ++r) {
        std::vector<float> single(out);
        c.run(x.data() + r * in, 1, nullptr, single.data());
        EXPECT_EQ(std::memcmp(single.data(), one.data() + r * out, out * 4), 0)
            << describe(isa, c, 0.5, 1) << " token " << r;
      }
    }
  }
  ms_set_threads(0);
  ms_kernels_use_isa(nullptr);
}

TEST(SparseKernels, VectorIsasHaveTheSparseKernels) {
  std::vector<const ms_kernel_isa *> isas = availableIsas();
  if (isas.size() < 2)
    GTEST_SKIP() << "no vector ISA on this CPU";
  for (const ms_kernel_isa *isa : isas)
    if (isa->available)
      EXPECT_TRUE(isa->linear_sparse[0] && isa->linear_sparse[1]) << isa->name;
}

} // namespace
