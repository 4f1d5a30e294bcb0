//===- BitmaskStorage.h - sparse weights as bitmask blocks ------*- C++ -*-===//
//
// Part of the Microscale project.
//
// The one definition of the bitmask storage of a sparse weight matrix
// (`#llm.sparse<..., format = bitmask>`, the runtime's ms_linear_sparse_*
// kernels): each row of `cols` inputs is cut into blocks of eight; a byte
// per block says which of its inputs are kept (bit j: input 8 * block + j),
// and the kept values follow one another, row after row, in input order.
// `offsets[r]` is the index of row r's first kept value (`offsets[rows]`
// the count of all), so threads can start at any row. Values are floats or
// the 8-bit codes of a per-row quantized matrix.
//
// A block of eight matches the runtime's vector kernels: one mask byte
// expands eight packed values into eight lanes with one table lookup.
//
// No MLIR here: the passes, the reference interpreter (through
// llm::readWeightValues) and the kernels' unit tests all use these
// functions, so the layout is written once.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_SPARSE_BITMASKSTORAGE_H
#define MICROSCALE_SPARSE_BITMASKSTORAGE_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <vector>

namespace mlir::microscale::sparse {

/// Inputs one mask byte covers.
constexpr int64_t kMaskBlock = 8;

/// Mask bytes of one row of `cols` inputs (the last block may be short; its
/// unused bits are zero).
inline int64_t maskRowBytes(int64_t cols) {
  return (cols + kMaskBlock - 1) / kMaskBlock;
}

/// A [rows, cols] matrix in bitmask storage with values of type T (float,
/// or int8_t codes).
template <typename T> struct BitmaskMatrix {
  int64_t rows = 0, cols = 0;
  /// [rows, maskRowBytes(cols)] bytes.
  std::vector<uint8_t> masks;
  /// rows + 1 starts into `values`.
  std::vector<int32_t> offsets;
  /// The kept values, row-major, in input order.
  std::vector<T> values;
};

/// The bitmask storage of the row-major `dense` ([rows, cols]): every
/// element that is not zero is kept (a float -0.0 counts as zero).
template <typename T>
BitmaskMatrix<T> encodeBitmask(llvm::ArrayRef<T> dense, int64_t rows,
                               int64_t cols);

/// The row-major dense matrix `matrix` stands for, zeros restored.
template <typename T>
std::vector<T> decodeBitmask(const BitmaskMatrix<T> &matrix);

/// Checks that the parts of `matrix` agree with each other: sizes, offsets
/// that start at 0 and grow by each row's mask population, no bits past the
/// last input. The error says what is wrong.
template <typename T> llvm::Error verifyBitmask(const BitmaskMatrix<T> &matrix);

/// Elements of `dense` that are not zero.
template <typename T> int64_t countNonZeros(llvm::ArrayRef<T> dense);

/// Bytes of the bitmask storage of a [rows, cols] matrix with `nonZeros`
/// kept values of `valueBytes` bytes each (masks, offsets and values;
/// without a quantized matrix's scales).
inline int64_t bitmaskStorageBytes(int64_t rows, int64_t cols, int64_t nonZeros,
                                   int64_t valueBytes) {
  return rows * maskRowBytes(cols) + (rows + 1) * 4 + nonZeros * valueBytes;
}

} // namespace mlir::microscale::sparse

#endif // MICROSCALE_SPARSE_BITMASKSTORAGE_H
