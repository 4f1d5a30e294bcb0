//===- QuantStorage.h - quantized weights for kernel tests -----*- C++ -*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_UNITTESTS_RUNTIME_QUANTSTORAGE_H
#define MICROSCALE_UNITTESTS_RUNTIME_QUANTSTORAGE_H

#include "microscale/Quant/Quant.h"

#include <cstdint>
#include <vector>

/// A quantized matrix in the storage the kernels take: the blobs of
/// `llm.weight`, quantized by lib/Quant's round-to-nearest.
struct QuantStorage {
  mlir::microscale::quant::QuantizedMatrix matrix;
  std::vector<uint8_t> scales, zeroPointBlob;

  QuantStorage(const std::vector<float> &weights, int64_t out, int64_t in,
               const mlir::microscale::quant::Format &format)
      : matrix(mlir::microscale::quant::quantizeRoundToNearest(weights, out, in,
                                                               format)),
        scales(matrix.scaleBlob()), zeroPointBlob(matrix.zeroPointBlob()) {}
  const uint8_t *w() const { return matrix.packed.data(); }
  const uint8_t *zeroPoints() const {
    return matrix.format.symmetric ? nullptr : zeroPointBlob.data();
  }
  /// The `scale_max` argument: 0 for half-float scales.
  float scaleMax() const {
    return matrix.format.scale == mlir::microscale::quant::ScaleType::Log8
               ? matrix.format.scaleMax
               : 0.0f;
  }
  /// The `group` argument: input features per group (in for one group).
  int64_t group() const { return matrix.format.groupSize(matrix.cols); }
};

/// Which linear entry point of kernels.def a test calls: the 8-bit, 4-bit
/// or any-width one.
enum class QuantEntry { Q8, Q4, AnyWidth };

#endif // MICROSCALE_UNITTESTS_RUNTIME_QUANTSTORAGE_H
