//===- BitmaskStorageTest.cpp - bitmask storage of sparse weights -*- C++ -*-=//
//
// Part of the Microscale project.
//
// A hand-checked small case fixes the layout; random matrices of every
// density and awkward widths check that decoding inverts encoding; broken
// storage is rejected with a message naming the problem.
//
//===----------------------------------------------------------------------===//

#include "microscale/Sparse/BitmaskStorage.h"

#include "../Runtime/RandomVector.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace mlir::microscale;
using namespace mlir::microscale::sparse;

namespace {

/// The message of `error`, "" for success.
template <typename T> std::string messageOf(const BitmaskMatrix<T> &m) {
  llvm::Error error = verifyBitmask(m);
  return error ? llvm::toString(std::move(error)) : "";
}

TEST(BitmaskStorage, LayoutByHand) {
  // Two rows of ten inputs: two mask bytes per row, the second short.
  std::vector<float> dense = {0, 1, 0, 0, 0, 0, 0, 2, 0, 3,
                              4, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  BitmaskMatrix<float> m = encodeBitmask<float>(dense, 2, 10);
  EXPECT_EQ(m.masks, (std::vector<uint8_t>{0x82, 0x02, 0x01, 0x00}));
  EXPECT_EQ(m.offsets, (std::vector<int32_t>{0, 3, 4}));
  EXPECT_EQ(m.values, (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(messageOf(m), "");
  EXPECT_EQ(decodeBitmask(m), dense);
  EXPECT_EQ(countNonZeros<float>(dense), 4);
  // 4 mask bytes, 3 offsets, 4 floats.
  EXPECT_EQ(bitmaskStorageBytes(2, 10, 4, 4), 4 + 12 + 16);
}

TEST(BitmaskStorage, NegativeZeroIsZero) {
  std::vector<float> dense = {-0.0f, 1.0f};
  EXPECT_EQ(encodeBitmask<float>(dense, 1, 2).values.size(), 1u);
}

TEST(BitmaskStorage, RoundTripsEveryDensity) {
  for (int64_t cols : {1, 7, 8, 9, 64, 100}) {
    for (double density : {0.0, 0.1, 0.5, 0.9, 1.0}) {
      std::vector<float> dense = randomVector(13 * cols, cols);
      std::vector<float> keep = randomVector(13 * cols, cols + 1);
      std::vector<int8_t> codes(dense.size());
      for (size_t i = 0; i < dense.size(); ++i) {
        // A standard normal is below this quantile with p = density.
        bool kept = std::erfc(-keep[i] / std::sqrt(2.0f)) / 2 < density;
        dense[i] = kept ? dense[i] : 0.0f;
        codes[i] = kept ? static_cast<int8_t>(1 + i % 100) : 0;
      }
      BitmaskMatrix<float> m = encodeBitmask<float>(dense, 13, cols);
      ASSERT_EQ(messageOf(m), "");
      EXPECT_EQ(decodeBitmask(m), dense) << cols << " " << density;
      EXPECT_EQ(static_cast<int64_t>(m.values.size()),
                countNonZeros<float>(dense));
      BitmaskMatrix<int8_t> q = encodeBitmask<int8_t>(codes, 13, cols);
      ASSERT_EQ(messageOf(q), "");
      EXPECT_EQ(decodeBitmask(q), codes);
    }
  }
}

TEST(BitmaskStorage, RejectsBrokenStorage) {
  std::vector<float> dense = {0, 1, 2, 0, 3, 0, 0, 0, 0, 5};
  BitmaskMatrix<float> good = encodeBitmask<float>(dense, 1, 10);

  BitmaskMatrix<float> offsets = good;
  offsets.offsets[1] = 3;
  EXPECT_EQ(messageOf(offsets),
            std::string("bitmask storage keeps 4 values by its masks, but its "
                        "last offset is 3 and it holds 4"));

  BitmaskMatrix<float> past = good;
  past.masks[1] |= 0x04; // input 10 of 10
  EXPECT_EQ(messageOf(past),
            std::string("bitmask of row 0 keeps inputs past the last "
                        "(10)"));

  BitmaskMatrix<float> masks = good;
  masks.masks.pop_back();
  EXPECT_EQ(messageOf(masks), std::string("bitmask storage of 1x10 needs 2 "
                                          "mask bytes, has 1"));

  BitmaskMatrix<float> start = good;
  start.offsets[0] = 1;
  EXPECT_EQ(messageOf(start), std::string("bitmask offset of row 0 is 1, "
                                          "but the masks before it keep 0 "
                                          "values"));
}

} // namespace
