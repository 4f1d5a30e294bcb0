//===- QuantTest.cpp - the quantization math --------------------*- C++ -*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#include "microscale/Quant/Quant.h"
#include "microscale/Quant/Activations.h"

#include "../Runtime/RandomVector.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace mlir::microscale::quant;

namespace {

TEST(QuantTest, HalfConversionRoundsToNearestEven) {
  EXPECT_EQ(floatToHalf(1.0f), 0x3c00);
  EXPECT_EQ(floatToHalf(-2.0f), 0xc000);
  EXPECT_EQ(floatToHalf(65504.0f), 0x7bff);
  EXPECT_EQ(floatToHalf(70000.0f), 0x7c00);
  // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties go to even (1).
  EXPECT_EQ(floatToHalf(1.0f + 0x1p-11f), 0x3c00);
  EXPECT_EQ(floatToHalf(1.0f + 0x1p-11f + 0x1p-20f), 0x3c01);
  // Subnormals: 2^-24 is the smallest.
  EXPECT_EQ(floatToHalf(0x1p-24f), 0x0001);
  EXPECT_EQ(halfToFloat(0x0001), 0x1p-24f);
  for (uint32_t bits = 0; bits < 0x7c00; ++bits)
    ASSERT_EQ(floatToHalf(halfToFloat(bits)), bits) << bits;
  EXPECT_EQ(bf16ToFloat(floatToBF16(1.5f)), 1.5f);
}

TEST(QuantTest, PackedCodesRoundTripForEveryWidth) {
  for (int bits = 2; bits <= 8; ++bits) {
    std::vector<uint8_t> row((37 * bits + 7) / 8, 0);
    for (int64_t i = 0; i < 37; ++i)
      storeCode(row.data(), bits, i, static_cast<int32_t>(i * 7 % (1 << bits)));
    for (int64_t i = 0; i < 37; ++i)
      ASSERT_EQ(loadCode(row.data(), bits, i), (i * 7) % (1 << bits))
          << "bits " << bits << " index " << i;
  }
  // 4 bits: element 2j is the low nibble of byte j.
  uint8_t byte = 0;
  storeCode(&byte, 4, 0, 0x3);
  storeCode(&byte, 4, 1, 0xa);
  EXPECT_EQ(byte, 0xa3);
  EXPECT_EQ(signExtend(0xf, 4), -1);
  EXPECT_EQ(signExtend(0x7, 4), 7);
}

/// Largest |w - dequant(q(w))| relative to the step of its group.
void expectWithinHalfStep(const std::vector<float> &w,
                          const QuantizedMatrix &q) {
  std::vector<float> back = dequantize(q);
  int64_t size = q.format.groupSize(q.cols);
  for (int64_t r = 0; r < q.rows; ++r)
    for (int64_t c = 0; c < q.cols; ++c) {
      float step = groupParams(q, r, c / size).scale;
      ASSERT_LE(std::fabs(w[r * q.cols + c] - back[r * q.cols + c]),
                0.5f * step * 1.001f + 1e-7f)
          << q.format.str() << " at " << r << "," << c;
    }
}

TEST(QuantTest, RoundToNearestStaysWithinHalfAStepWithTailGroups) {
  // 172 = 5 x 32 + 12: the last group of each row is a tail.
  const int64_t rows = 7, cols = 172;
  std::vector<float> w = randomVector(rows * cols, 3);
  for (int bits : {3, 4, 5, 8})
    for (int64_t group : {0, 32, 64, 128})
      for (bool symmetric : {true, false}) {
        Format format{bits, group, symmetric, ScaleType::F16};
        QuantizedMatrix q = quantizeRoundToNearest(w, rows, cols, format);
        EXPECT_EQ(q.format.numGroups(cols),
                  group == 0 ? 1 : (cols + group - 1) / group);
        EXPECT_EQ(static_cast<int64_t>(q.packed.size()),
                  rows * ((cols * bits + 7) / 8));
        expectWithinHalfStep(w, q);
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t c = 0; c < cols; ++c) {
            int32_t code = q.code(r, c);
            ASSERT_GE(code, format.minCode());
            ASSERT_LE(code, format.maxCode());
          }
      }
}

TEST(QuantTest, ZerosStayExactAndAllZeroGroupsGetScaleZero) {
  std::vector<float> w(2 * 40, 0.0f);
  w[3] = 0.5f;
  w[41] = -0.25f;
  for (bool symmetric : {true, false}) {
    Format format{4, 32, symmetric, ScaleType::F16};
    QuantizedMatrix q = quantizeRoundToNearest(w, 2, 40, format);
    std::vector<float> back = dequantize(q);
    for (size_t i = 0; i < w.size(); ++i)
      if (w[i] == 0.0f)
        EXPECT_EQ(back[i], 0.0f) << i;
    EXPECT_EQ(groupParams(q, 0, 1).scale, 0.0f); // Columns 32..39 are 0.
  }
}

TEST(QuantTest, StorageRoundTripsThroughBlobs) {
  std::vector<float> w = randomVector(5 * 70, 9);
  for (int bits : {4, 3})
    for (ScaleType scale :
         {ScaleType::F16, ScaleType::BF16, ScaleType::F32, ScaleType::Log8}) {
      Format format{bits, 32, false, scale};
      QuantizedMatrix q = quantizeRoundToNearest(w, 5, 70, format);
      // The stored form is q's format: a Log8 one resolved to w's range.
      QuantizedMatrix back;
      ASSERT_TRUE(fromStorage(q.format, 5, 70, q.packed, q.scaleBlob(),
                              q.zeroPointBlob(), back))
          << q.format.str();
      EXPECT_EQ(dequantize(back), dequantize(q)) << q.format.str();
      EXPECT_EQ(back.zeroPoints, q.zeroPoints) << q.format.str();
      EXPECT_FALSE(fromStorage(q.format, 5, 78, q.packed, q.scaleBlob(),
                               q.zeroPointBlob(), back));
      // Zero points take `bits` each: 3 groups of a row in 2 bytes.
      EXPECT_EQ(q.zeroPointBlob().size(), 5u * ((3 * bits + 7) / 8));
    }
  EXPECT_EQ((Format{4, 32, true, ScaleType::F16}.storageBytes(10, 64)),
            10 * 32 + 10 * 2 * 2);
  // Codes, one byte per scale, a byte of two 4-bit zero points per row,
  // and the float scaleMax.
  EXPECT_EQ((Format{4, 32, false, ScaleType::Log8}.storageBytes(10, 64)),
            10 * 32 + 10 * 2 + 10 + 4);
}

TEST(QuantTest, LogarithmicScalesRoundToTheNearestCode) {
  const float scaleMax = 0.37f;
  EXPECT_EQ(log8Scale(scaleMax, 0), scaleMax);
  EXPECT_EQ(log8Scale(scaleMax, 32), scaleMax / 2);
  for (int code = 1; code < 256; ++code)
    ASSERT_LT(log8Scale(scaleMax, code), log8Scale(scaleMax, code - 1));
  // Any value in range lands within half a step (2^(1/64) - 1 < 1.1 %).
  for (float value = scaleMax; value > scaleMax / 250; value *= 0.9937f) {
    float rounded = log8Scale(scaleMax, log8Code(value, scaleMax));
    ASSERT_LE(std::fabs(rounded - value), 0.011f * value) << value;
  }
  // Out of range: clamped to the ends.
  EXPECT_EQ(log8Code(2 * scaleMax, scaleMax), 0);
  EXPECT_EQ(log8Code(0.0f, scaleMax), 255);
  EXPECT_EQ(log8Code(scaleMax / 1000, scaleMax), 255);
  // A resolved format's largest scale is the largest group's.
  Format format{4, 2, true, ScaleType::Log8};
  Format resolved = resolveScaleRange(format, {0.7f, -0.1f, 0.2f, 0.1f}, 1, 4);
  EXPECT_EQ(resolved.scaleMax, 0.7f / 7);
  EXPECT_EQ(resolveScaleRange(resolved, {5.0f, 5.0f}, 1, 2).scaleMax,
            resolved.scaleMax);
}

} // namespace

namespace {
TEST(QuantTest, FormatNamesParse) {
  auto int8 = parseFormat("int8");
  ASSERT_TRUE(bool(int8));
  EXPECT_EQ(int8->str(), "q8_row_sym_f16");
  auto q4 = parseFormat("q4");
  ASSERT_TRUE(bool(q4));
  EXPECT_EQ(q4->str(), "q4_g32_sym_f16");
  auto spelled = parseFormat("q5_g64_asym_bf16");
  ASSERT_TRUE(bool(spelled));
  EXPECT_EQ(spelled->str(), "q5_g64_asym_bf16");
  auto log8 = parseFormat("q4_g32_asym_log8");
  ASSERT_TRUE(bool(log8));
  EXPECT_EQ(log8->scale, ScaleType::Log8);
  EXPECT_EQ(log8->str(), "q4_g32_asym_log8");
  auto int8a8 = parseFormat("int8_a8");
  ASSERT_TRUE(bool(int8a8));
  EXPECT_TRUE(int8a8->int8Activations);
  EXPECT_EQ(int8a8->str(), "q8_row_sym_f16_a8");
  auto q4a8 = parseFormat("q4_g64_asym_log8_a8");
  ASSERT_TRUE(bool(q4a8));
  EXPECT_EQ(q4a8->str(), "q4_g64_asym_log8_a8");
  EXPECT_FALSE(parseFormat("q4_g32")->int8Activations);
  for (const char *bad : {"q9", "q1", "int4", "q4_g0", "q4_gx", "q4_sideways",
                          "q4_g16_a8", "q4_g48_a8", "q4_a8_sym"}) {
    auto format = parseFormat(bad);
    EXPECT_FALSE(bool(format)) << bad;
    llvm::consumeError(format.takeError());
  }
}
TEST(QuantTest, ActivationBlocksRoundTiesToEvenWithinHalfAStep) {
  // One block whose largest magnitude is 127 makes the scale exactly 1:
  // x * 127 / 127 is x, so halves are ties and go to the even code.
  std::vector<float> x(70, 0.0f);
  x[0] = 127.0f;
  x[1] = 2.5f;  // -> 2
  x[2] = 3.5f;  // -> 4
  x[3] = -2.5f; // -> -2
  x[4] = -0.5f; // -> 0
  x[5] = 0.75f; // -> 1
  // The second block (32..63) is zeros; the third, a tail of 6 features,
  // has its own scale.
  for (int i = 64; i < 70; ++i)
    x[i] = 0.01f * static_cast<float>(i - 66);
  std::vector<float> blocks = x;
  fakeQuantizeActivations(blocks, 1, 70);
  EXPECT_EQ(activationBlock(), 32);
  EXPECT_EQ(blocks[0], 127.0f);
  EXPECT_EQ(blocks[1], 2.0f);
  EXPECT_EQ(blocks[2], 4.0f);
  EXPECT_EQ(blocks[3], -2.0f);
  EXPECT_EQ(blocks[4], 0.0f);
  EXPECT_EQ(blocks[5], 1.0f);
  for (int i = 32; i < 64; ++i)
    EXPECT_EQ(blocks[i], 0.0f) << i;
  // The tail's largest magnitude (0.04 at 70 - 1 - 66 = 3) comes back as
  // itself up to float rounding; the rest stay within half a step.
  float step = 0.04f / 127.0f;
  for (int i = 64; i < 70; ++i)
    EXPECT_LE(std::fabs(blocks[i] - x[i]), 0.5f * step * 1.0001f) << i;
  // Rows are independent: two rows quantize as each alone.
  std::vector<float> twoRows(x);
  twoRows.insert(twoRows.end(), x.begin(), x.end());
  fakeQuantizeActivations(twoRows, 2, 70);
  for (int i = 0; i < 70; ++i) {
    EXPECT_EQ(twoRows[i], blocks[i]);
    EXPECT_EQ(twoRows[70 + i], blocks[i]);
  }
  EXPECT_EQ(activationScratchFloats(2, 70), 2 * 10 * 3);
}
} // namespace
