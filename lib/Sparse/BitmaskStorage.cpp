//===- BitmaskStorage.cpp - sparse weights as bitmask blocks ----*- C++ -*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#include "microscale/Sparse/BitmaskStorage.h"

#include "llvm/ADT/bit.h"
#include "llvm/Support/FormatVariadic.h"

#include <limits>

using namespace mlir::microscale;
using namespace mlir::microscale::sparse;

template <typename T>
BitmaskMatrix<T> sparse::encodeBitmask(llvm::ArrayRef<T> dense, int64_t rows,
                                       int64_t cols) {
  BitmaskMatrix<T> matrix;
  matrix.rows = rows;
  matrix.cols = cols;
  int64_t rowBytes = maskRowBytes(cols);
  matrix.masks.assign(rows * rowBytes, 0);
  matrix.offsets.reserve(rows + 1);
  for (int64_t r = 0; r < rows; ++r) {
    matrix.offsets.push_back(static_cast<int32_t>(matrix.values.size()));
    for (int64_t c = 0; c < cols; ++c) {
      T value = dense[r * cols + c];
      if (value == T(0))
        continue;
      matrix.masks[r * rowBytes + c / kMaskBlock] |= 1u << (c % kMaskBlock);
      matrix.values.push_back(value);
    }
  }
  matrix.offsets.push_back(static_cast<int32_t>(matrix.values.size()));
  return matrix;
}

template <typename T>
std::vector<T> sparse::decodeBitmask(const BitmaskMatrix<T> &matrix) {
  int64_t rowBytes = maskRowBytes(matrix.cols);
  std::vector<T> dense(matrix.rows * matrix.cols, T(0));
  for (int64_t r = 0; r < matrix.rows; ++r) {
    int64_t next = matrix.offsets[r];
    for (int64_t c = 0; c < matrix.cols; ++c)
      if (matrix.masks[r * rowBytes + c / kMaskBlock] >> (c % kMaskBlock) & 1)
        dense[r * matrix.cols + c] = matrix.values[next++];
  }
  return dense;
}

template <typename T>
llvm::Error sparse::verifyBitmask(const BitmaskMatrix<T> &matrix) {
  int64_t rowBytes = maskRowBytes(matrix.cols);
  if (matrix.rows < 0 || matrix.cols < 0 ||
      static_cast<int64_t>(matrix.masks.size()) != matrix.rows * rowBytes)
    return llvm::createStringError(llvm::formatv(
        "bitmask storage of {0}x{1} needs {2} mask bytes, has {3}", matrix.rows,
        matrix.cols, matrix.rows * rowBytes, matrix.masks.size()));
  if (static_cast<int64_t>(matrix.offsets.size()) != matrix.rows + 1)
    return llvm::createStringError(
        llvm::formatv("bitmask storage of {0} rows needs {1} offsets, has {2}",
                      matrix.rows, matrix.rows + 1, matrix.offsets.size()));
  if (matrix.values.size() >
      static_cast<size_t>(std::numeric_limits<int32_t>::max()))
    return llvm::createStringError("bitmask storage holds more values than "
                                   "32-bit offsets can address");
  // Bits a short last block must leave clear.
  unsigned tailBits = matrix.cols % kMaskBlock;
  uint8_t unused = tailBits ? static_cast<uint8_t>(0xffu << tailBits) : 0;
  int64_t expected = 0;
  for (int64_t r = 0; r < matrix.rows; ++r) {
    if (matrix.offsets[r] != expected)
      return llvm::createStringError(
          llvm::formatv("bitmask offset of row {0} is {1}, but the masks "
                        "before it keep {2} values",
                        r, matrix.offsets[r], expected));
    for (int64_t b = 0; b < rowBytes; ++b) {
      uint8_t mask = matrix.masks[r * rowBytes + b];
      if (b == rowBytes - 1 && (mask & unused))
        return llvm::createStringError(
            llvm::formatv("bitmask of row {0} keeps inputs past the last ({1})",
                          r, matrix.cols));
      expected += llvm::popcount(mask);
    }
  }
  if (matrix.offsets[matrix.rows] != expected ||
      static_cast<int64_t>(matrix.values.size()) != expected)
    return llvm::createStringError(llvm::formatv(
        "bitmask storage keeps {0} values by its masks, but its last offset "
        "is {1} and it holds {2}",
        expected, matrix.offsets[matrix.rows], matrix.values.size()));
  return llvm::Error::success();
}

template <typename T> int64_t sparse::countNonZeros(llvm::ArrayRef<T> dense) {
  int64_t count = 0;
  for (T value : dense)
    count += value != T(0);
  return count;
}

#define INSTANTIATE(T)                                                         \
  template BitmaskMatrix<T> sparse::encodeBitmask(llvm::ArrayRef<T>, int64_t,  \
                                                  int64_t);                    \
  template std::vector<T> sparse::decodeBitmask(const BitmaskMatrix<T> &);     \
  template llvm::Error sparse::verifyBitmask(const BitmaskMatrix<T> &);        \
  template int64_t sparse::countNonZeros(llvm::ArrayRef<T>);
INSTANTIATE(float)
INSTANTIATE(int8_t)
#undef INSTANTIATE
