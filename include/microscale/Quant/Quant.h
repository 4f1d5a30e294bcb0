//===- Quant.h - weight quantization math -----------------------*- C++ -*-===//
//
// Part of the Microscale project.
//
// The one definition of how Microscale quantizes a weight matrix: the code
// and scale formats of `#llm.quant`, packing, round-to-nearest and
// dequantization. The quantization passes, the reference interpreter and
// the runtime kernels' unit tests all call these functions, so the format
// is written once and every consumer agrees on it bit for bit.
//
// No MLIR here: matrices are row-major `[rows (out), cols (in)]` floats.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_QUANT_QUANT_H
#define MICROSCALE_QUANT_QUANT_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlir::microscale::quant {

/// How the scales are stored: as floats of a width, or as 8-bit logarithmic
/// codes relative to the matrix's largest scale (`Log8`, see
/// runtime/include/microscale/quant_scale.h).
enum class ScaleType { F32, F16, BF16, Log8 };

/// How one weight matrix is quantized (the parameters of `#llm.quant`).
struct Format {
  int bits = 8;
  /// Input features per group; 0 means one group per row.
  int64_t group = 0;
  bool symmetric = true;
  ScaleType scale = ScaleType::F16;
  /// `Log8` only: the scale of code 0, the largest a group can have. It
  /// depends on the matrix: a format without it is resolved against the
  /// weights (`resolveScaleRange`) by every function that quantizes.
  float scaleMax = 0.0f;
  /// Whether the matrix multiplies 8-bit activations (`_a8`, see
  /// Activations.h) rather than float ones. Storage does not change.
  bool int8Activations = false;

  int64_t groupSize(int64_t cols) const { return group == 0 ? cols : group; }
  int64_t numGroups(int64_t cols) const;
  /// Bytes of one packed row of `cols` codes.
  int64_t rowBytes(int64_t cols) const { return (cols * bits + 7) / 8; }
  /// Codes: symmetric in [-qmax, qmax] with qmax = 2^(bits-1) - 1;
  /// asymmetric in [0, 2^bits - 1].
  int32_t minCode() const { return symmetric ? -maxSymmetricCode() : 0; }
  int32_t maxCode() const {
    return symmetric ? maxSymmetricCode() : (1 << bits) - 1;
  }
  int32_t maxSymmetricCode() const { return (1 << (bits - 1)) - 1; }
  /// Bytes of one row's zero points, packed like the codes (`bits` each);
  /// 0 when symmetric.
  int64_t zeroPointRowBytes(int64_t cols) const {
    return symmetric ? 0 : (numGroups(cols) * bits + 7) / 8;
  }
  /// Bytes the packed codes, scales and zero points of a [rows, cols]
  /// matrix take (and `scaleMax`, for `Log8`).
  int64_t storageBytes(int64_t rows, int64_t cols) const;
  /// `value` rounded to the nearest scale this format stores (for `Log8`,
  /// never below the smallest code's scale unless `scaleMax` is 0).
  float roundScale(float value) const;
  /// E.g. "q4_g32_asym_f16", "q8_row_sym_f16", "q4_g32_asym_log8_a8".
  std::string str() const;
};

/// `format` with `scaleMax` set from `weights` ([rows, cols]) when it is
/// `Log8` and unset: the largest round-to-nearest group scale. Other
/// formats, and resolved ones, are returned as they are.
Format resolveScaleRange(const Format &format, llvm::ArrayRef<float> weights,
                         int64_t rows, int64_t cols);

/// Parses a format name: `int8` (8 bits, one group per row, symmetric),
/// `q4` (4 bits, groups of 32, symmetric), or
/// `q<bits>[_g<group>|_row][_sym|_asym][_f16|_bf16|_f32|_log8]` (defaults:
/// groups of 32, symmetric, f16 scales), each optionally followed by `_a8`
/// (8-bit activations, groups a multiple of 32). The error says what is
/// wrong.
llvm::Expected<Format> parseFormat(llvm::StringRef text);

/// Size in bytes of one stored scale.
int scaleBytes(ScaleType type);
/// The `Log8` code whose scale is nearest `value` (codes: see
/// runtime/include/microscale/quant_scale.h), and the scale of a code.
uint8_t log8Code(float value, float scaleMax);
float log8Scale(float scaleMax, uint8_t code);
/// IEEE binary16 / bfloat16 conversions, round to nearest even.
uint16_t floatToHalf(float value);
float halfToFloat(uint16_t bits);
uint16_t floatToBF16(float value);
float bf16ToFloat(uint16_t bits);
/// `value` rounded to what a float scale of `type` can hold (`Log8`, which
/// needs its matrix's range, rounds with `Format::roundScale`).
float roundScale(float value, ScaleType type);

/// A quantized matrix in exactly the storage of `llm.weight`.
struct QuantizedMatrix {
  Format format;
  int64_t rows = 0, cols = 0;
  /// [rows, rowBytes(cols)] packed codes.
  std::vector<uint8_t> packed;
  /// [rows, numGroups(cols)] scales, already rounded to `format.scale`.
  std::vector<float> scales;
  /// [rows, numGroups(cols)] zero points (asymmetric formats only).
  std::vector<uint8_t> zeroPoints;

  /// Code of element (row, col), sign-extended when symmetric.
  int32_t code(int64_t row, int64_t col) const;
  /// Stored scales as the bits of `format.scale` (half, bf16 or float bits,
  /// little-endian; `Log8` codes), ready to become a `dense_resource` blob.
  std::vector<uint8_t> scaleBlob() const;
  /// Stored zero points: each row's packed like its codes (`bits` each,
  /// zeroPointRowBytes per row); empty when symmetric.
  std::vector<uint8_t> zeroPointBlob() const;
};

/// Writes code `code` (already in the format's range) at `index` of a
/// packed row.
void storeCode(uint8_t *row, int bits, int64_t index, int32_t code);
/// Reads the code at `index` of a packed row (unsigned field value; callers
/// sign-extend symmetric codes, see `signExtend`).
uint32_t loadCode(const uint8_t *row, int bits, int64_t index);
int32_t signExtend(uint32_t field, int bits);

/// Scale (and zero point) of one group from the range of its values.
struct GroupParams {
  float scale = 0.0f;
  int32_t zeroPoint = 0;
};
/// Round-to-nearest parameters for values in [minValue, maxValue], the
/// scale rounded to `format.scale`. A group of zeros gets scale 0.
GroupParams computeGroupParams(float minValue, float maxValue,
                               const Format &format);
/// The code `value` rounds to under `params`, clamped to the format.
int32_t quantizeValue(float value, GroupParams params, const Format &format);
/// What `code` stands for.
inline float dequantizeValue(int32_t code, GroupParams params) {
  return params.scale * static_cast<float>(code - params.zeroPoint);
}

/// Per-group clipping: each group's range is its [min, max] times
/// `clipRatio` (1 = no clipping).
struct RoundToNearestOptions {
  /// Empty, or one ratio per group ([rows, groups]).
  llvm::ArrayRef<float> clipRatios;
};

/// Round-to-nearest quantization of a [rows, cols] matrix.
QuantizedMatrix
quantizeRoundToNearest(llvm::ArrayRef<float> weights, int64_t rows,
                       int64_t cols, const Format &format,
                       const RoundToNearestOptions &options = {});

/// Group parameters of (row, group) of `matrix`.
GroupParams groupParams(const QuantizedMatrix &matrix, int64_t row,
                        int64_t group);

/// The float matrix `matrix` stands for, row-major [rows, cols].
std::vector<float> dequantize(const QuantizedMatrix &matrix);
/// One dequantized row into `out` (cols floats).
void dequantizeRow(const QuantizedMatrix &matrix, int64_t row, float *out);

/// Builds a matrix from its stored form (e.g. the blobs of an
/// `llm.weight`), checking the sizes; `scaleBits` holds the scales as
/// `format.scale` stores them and `zeroPoints` the packed zero points (see
/// zeroPointBlob). Returns false on a size mismatch.
bool fromStorage(const Format &format, int64_t rows, int64_t cols,
                 llvm::ArrayRef<uint8_t> packed,
                 llvm::ArrayRef<uint8_t> scaleBits,
                 llvm::ArrayRef<uint8_t> zeroPoints, QuantizedMatrix &out);

} // namespace mlir::microscale::quant

#endif // MICROSCALE_QUANT_QUANT_H
