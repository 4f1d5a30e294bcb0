//===- Quant.cpp - weight quantization math ---------------------*- C++ -*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#include "microscale/Quant/Quant.h"

#include "microscale/quant_activations.h"
#include "microscale/quant_scale.h"

#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>

using namespace mlir::microscale::quant;

int64_t Format::numGroups(int64_t cols) const {
  int64_t size = groupSize(cols);
  return size == 0 ? 0 : (cols + size - 1) / size;
}

int64_t Format::storageBytes(int64_t rows, int64_t cols) const {
  int64_t groups = rows * numGroups(cols);
  return rows * (rowBytes(cols) + zeroPointRowBytes(cols)) +
         groups * scaleBytes(scale) +
         (scale == ScaleType::Log8 ? sizeof scaleMax : 0);
}

float Format::roundScale(float value) const {
  if (scale != ScaleType::Log8)
    return quant::roundScale(value, scale);
  return log8Scale(scaleMax, log8Code(value, scaleMax));
}

Format mlir::microscale::quant::resolveScaleRange(const Format &format,
                                                  llvm::ArrayRef<float> weights,
                                                  int64_t rows, int64_t cols) {
  if (format.scale != ScaleType::Log8 || format.scaleMax > 0.0f)
    return format;
  Format resolved = format;
  int64_t size = format.groupSize(cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t begin = 0; begin < cols; begin += size) {
      const float *group = weights.data() + r * cols + begin;
      auto [lo, hi] =
          std::minmax_element(group, group + std::min(size, cols - begin));
      float range = format.symmetric
                        ? std::max(std::fabs(*lo), std::fabs(*hi)) /
                              static_cast<float>(format.maxSymmetricCode())
                        : (std::max(*hi, 0.0f) - std::min(*lo, 0.0f)) /
                              static_cast<float>(format.maxCode());
      if (std::isfinite(range))
        resolved.scaleMax = std::max(resolved.scaleMax, range);
    }
  // All zeros: any positive range does, as every code is the zero point.
  if (!(resolved.scaleMax > 0.0f))
    resolved.scaleMax = 1.0f;
  return resolved;
}

std::string Format::str() const {
  const char *scaleName = scale == ScaleType::F32    ? "f32"
                          : scale == ScaleType::F16  ? "f16"
                          : scale == ScaleType::BF16 ? "bf16"
                                                     : "log8";
  std::string groupName = group == 0 ? "row" : "g" + std::to_string(group);
  return llvm::formatv("q{0}_{1}_{2}_{3}{4}", bits, groupName,
                       symmetric ? "sym" : "asym", scaleName,
                       int8Activations ? "_a8" : "");
}

llvm::Expected<Format>
mlir::microscale::quant::parseFormat(llvm::StringRef text) {
  auto error = [&](const llvm::Twine &why) {
    return llvm::createStringError(
        "bad quantization format '" + text + "': " + why +
        " (expected int8, q4 or q<bits>[_g<group>|_row][_sym|_asym]"
        "[_f16|_bf16|_f32|_log8][_a8], e.g. q4_g64_asym)");
  };
  Format format;
  llvm::StringRef name = text;
  bool int8Activations = name.consume_back("_a8");
  if (name == "int8") {
    format = Format{8, 0, true, ScaleType::F16};
    format.int8Activations = int8Activations;
    return format;
  }
  format.int8Activations = int8Activations;
  llvm::SmallVector<llvm::StringRef> parts;
  name.split(parts, '_');
  if (!parts[0].consume_front("q") || parts[0].getAsInteger(10, format.bits))
    return error("it must start with q<bits>");
  if (format.bits < 2 || format.bits > 8)
    return error("bits must be in [2, 8]");
  format.group = format.bits == 8 ? 0 : 32;
  for (llvm::StringRef part : llvm::ArrayRef(parts).drop_front()) {
    if (part == "row")
      format.group = 0;
    else if (part == "sym" || part == "asym")
      format.symmetric = part == "sym";
    else if (part == "f16" || part == "bf16" || part == "f32" || part == "log8")
      format.scale = part == "f16"    ? ScaleType::F16
                     : part == "bf16" ? ScaleType::BF16
                     : part == "f32"  ? ScaleType::F32
                                      : ScaleType::Log8;
    else if (part.consume_front("g")) {
      if (part.getAsInteger(10, format.group) || format.group < 1 ||
          format.group > (1 << 20))
        return error("the group must be a positive number of features");
    } else
      return error("unknown part '" + part + "'");
  }
  if (format.int8Activations && format.group % MS_ACT_BLOCK != 0)
    return error("8-bit activations come in blocks of " +
                 llvm::Twine(MS_ACT_BLOCK) +
                 " features, so groups must be a multiple of that (or _row)");
  return format;
}

int mlir::microscale::quant::scaleBytes(ScaleType type) {
  return type == ScaleType::F32 ? 4 : type == ScaleType::Log8 ? 1 : 2;
}

float mlir::microscale::quant::log8Scale(float scaleMax, uint8_t code) {
  return ms_log8_scale(scaleMax, code);
}

uint8_t mlir::microscale::quant::log8Code(float value, float scaleMax) {
  if (!(value < scaleMax))
    return 0;
  if (!(value > 0.0f))
    return MS_LOG8_CODES - 1;
  // The two codes around log2(scaleMax / value) * 32; the nearer wins.
  double position =
      std::log2(static_cast<double>(scaleMax) / value) * MS_LOG8_STEPS;
  int below = static_cast<int>(
      std::min<double>(std::floor(position), MS_LOG8_CODES - 1));
  int above = std::min(below + 1, MS_LOG8_CODES - 1);
  float high = log8Scale(scaleMax, below), low = log8Scale(scaleMax, above);
  return static_cast<uint8_t>(high - value <= value - low ? below : above);
}

//===----------------------------------------------------------------------===//
// Scale types
//===----------------------------------------------------------------------===//

static uint32_t bitsOf(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

static float floatOf(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

uint16_t mlir::microscale::quant::floatToHalf(float value) {
  uint32_t f = bitsOf(value);
  uint16_t sign = (f >> 16) & 0x8000;
  uint32_t absBits = f & 0x7fffffff;
  if (absBits >= 0x7f800000) // Inf or NaN.
    return sign | 0x7c00 | (absBits > 0x7f800000 ? 0x200 : 0);
  if (absBits >= 0x477ff000) // Rounds to >= 65520: overflow.
    return sign | 0x7c00;
  if (absBits < 0x38800000) { // Below the smallest normal half.
    // Scale into the subnormal range and let float rounding (nearest even)
    // pick the code: 2^-24 is the subnormal step.
    float magnitude = floatOf(absBits) * 16777216.0f; // * 2^24
    return sign | static_cast<uint16_t>(std::nearbyint(magnitude));
  }
  uint32_t mantissa = absBits & 0x7fffff;
  uint32_t exponent = (absBits >> 23) - 127 + 15;
  uint32_t half = (exponent << 10) | (mantissa >> 13);
  uint32_t rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (half & 1)))
    ++half; // May carry into the exponent, which is still correct.
  return sign | static_cast<uint16_t>(half);
}

float mlir::microscale::quant::halfToFloat(uint16_t bits) {
  uint32_t sign = static_cast<uint32_t>(bits & 0x8000) << 16;
  uint32_t exponent = (bits >> 10) & 0x1f;
  uint32_t mantissa = bits & 0x3ff;
  if (exponent == 0) {
    float magnitude = static_cast<float>(mantissa) / 16777216.0f;
    return sign ? -magnitude : magnitude;
  }
  if (exponent == 31)
    return floatOf(sign | 0x7f800000 | (mantissa << 13));
  return floatOf(sign | ((exponent - 15 + 127) << 23) | (mantissa << 13));
}

uint16_t mlir::microscale::quant::floatToBF16(float value) {
  uint32_t f = bitsOf(value);
  if ((f & 0x7fffffff) > 0x7f800000)
    return static_cast<uint16_t>((f >> 16) | 0x40);
  f += 0x7fff + ((f >> 16) & 1);
  return static_cast<uint16_t>(f >> 16);
}

float mlir::microscale::quant::bf16ToFloat(uint16_t bits) {
  return floatOf(static_cast<uint32_t>(bits) << 16);
}

float mlir::microscale::quant::roundScale(float value, ScaleType type) {
  switch (type) {
  case ScaleType::F32:
    return value;
  case ScaleType::F16:
    return halfToFloat(floatToHalf(value));
  case ScaleType::BF16:
    return bf16ToFloat(floatToBF16(value));
  case ScaleType::Log8:
    break;
  }
  assert(false && "Log8 scales round with Format::roundScale");
  return value;
}

//===----------------------------------------------------------------------===//
// Packing
//===----------------------------------------------------------------------===//

void mlir::microscale::quant::storeCode(uint8_t *row, int bits, int64_t index,
                                        int32_t code) {
  uint32_t field = static_cast<uint32_t>(code) & ((1u << bits) - 1);
  int64_t bit = index * bits;
  for (int done = 0; done < bits;) {
    int64_t byte = (bit + done) / 8;
    int shift = (bit + done) % 8;
    int take = std::min(bits - done, 8 - shift);
    uint8_t mask = ((1u << take) - 1) << shift;
    row[byte] = (row[byte] & ~mask) | (((field >> done) << shift) & mask);
    done += take;
  }
}

uint32_t mlir::microscale::quant::loadCode(const uint8_t *row, int bits,
                                           int64_t index) {
  uint32_t field = 0;
  int64_t bit = index * bits;
  for (int done = 0; done < bits;) {
    int64_t byte = (bit + done) / 8;
    int shift = (bit + done) % 8;
    int take = std::min(bits - done, 8 - shift);
    field |= ((row[byte] >> shift) & ((1u << take) - 1)) << done;
    done += take;
  }
  return field;
}

int32_t mlir::microscale::quant::signExtend(uint32_t field, int bits) {
  uint32_t signBit = 1u << (bits - 1);
  return static_cast<int32_t>(field ^ signBit) - static_cast<int32_t>(signBit);
}

int32_t QuantizedMatrix::code(int64_t row, int64_t col) const {
  uint32_t field =
      loadCode(packed.data() + row * format.rowBytes(cols), format.bits, col);
  return format.symmetric ? signExtend(field, format.bits)
                          : static_cast<int32_t>(field);
}

std::vector<uint8_t> QuantizedMatrix::scaleBlob() const {
  int width = scaleBytes(format.scale);
  std::vector<uint8_t> blob(scales.size() * width);
  if (format.scale == ScaleType::Log8) {
    for (size_t i = 0; i < scales.size(); ++i)
      blob[i] = log8Code(scales[i], format.scaleMax);
    return blob;
  }
  for (size_t i = 0; i < scales.size(); ++i) {
    uint32_t bits = format.scale == ScaleType::F32   ? bitsOf(scales[i])
                    : format.scale == ScaleType::F16 ? floatToHalf(scales[i])
                                                     : floatToBF16(scales[i]);
    for (int b = 0; b < width; ++b)
      blob[i * width + b] = static_cast<uint8_t>(bits >> (8 * b));
  }
  return blob;
}

std::vector<uint8_t> QuantizedMatrix::zeroPointBlob() const {
  int64_t groups = format.numGroups(cols),
          rowBytes = format.zeroPointRowBytes(cols);
  std::vector<uint8_t> blob(rows * rowBytes, 0);
  if (format.symmetric)
    return blob;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t g = 0; g < groups; ++g)
      storeCode(blob.data() + r * rowBytes, format.bits, g,
                zeroPoints[r * groups + g]);
  return blob;
}

//===----------------------------------------------------------------------===//
// Round to nearest
//===----------------------------------------------------------------------===//

GroupParams mlir::microscale::quant::computeGroupParams(float minValue,
                                                        float maxValue,
                                                        const Format &format) {
  GroupParams params;
  if (format.symmetric) {
    float absMax = std::max(std::fabs(minValue), std::fabs(maxValue));
    params.scale = format.roundScale(
        absMax / static_cast<float>(format.maxSymmetricCode()));
    return params;
  }
  // The range always holds 0 so that zero weights stay exact.
  minValue = std::min(minValue, 0.0f);
  maxValue = std::max(maxValue, 0.0f);
  params.scale = format.roundScale((maxValue - minValue) /
                                   static_cast<float>(format.maxCode()));
  if (params.scale > 0.0f)
    params.zeroPoint = std::clamp(
        static_cast<int32_t>(std::nearbyint(-minValue / params.scale)), 0,
        format.maxCode());
  return params;
}

int32_t mlir::microscale::quant::quantizeValue(float value, GroupParams params,
                                               const Format &format) {
  if (!(params.scale > 0.0f) || !std::isfinite(params.scale))
    return format.symmetric ? 0 : params.zeroPoint;
  float code = std::nearbyint(value / params.scale) + params.zeroPoint;
  code = std::clamp(code, static_cast<float>(format.minCode()),
                    static_cast<float>(format.maxCode()));
  return static_cast<int32_t>(code);
}

GroupParams mlir::microscale::quant::groupParams(const QuantizedMatrix &matrix,
                                                 int64_t row, int64_t group) {
  int64_t index = row * matrix.format.numGroups(matrix.cols) + group;
  GroupParams params;
  params.scale = matrix.scales[index];
  if (!matrix.format.symmetric)
    params.zeroPoint = matrix.zeroPoints[index];
  return params;
}

QuantizedMatrix mlir::microscale::quant::quantizeRoundToNearest(
    llvm::ArrayRef<float> weights, int64_t rows, int64_t cols,
    const Format &unresolved, const RoundToNearestOptions &options) {
  assert(static_cast<int64_t>(weights.size()) == rows * cols);
  Format format = resolveScaleRange(unresolved, weights, rows, cols);
  QuantizedMatrix result;
  result.format = format;
  result.rows = rows;
  result.cols = cols;
  int64_t groups = format.numGroups(cols), size = format.groupSize(cols);
  int64_t rowBytes = format.rowBytes(cols);
  result.packed.assign(rows * rowBytes, 0);
  result.scales.assign(rows * groups, 0.0f);
  if (!format.symmetric)
    result.zeroPoints.assign(rows * groups, 0);
  for (int64_t r = 0; r < rows; ++r) {
    const float *row = weights.data() + r * cols;
    for (int64_t g = 0; g < groups; ++g) {
      int64_t begin = g * size, end = std::min(cols, begin + size);
      auto [lo, hi] = std::minmax_element(row + begin, row + end);
      float ratio = options.clipRatios.empty()
                        ? 1.0f
                        : options.clipRatios[r * groups + g];
      GroupParams params = computeGroupParams(*lo * ratio, *hi * ratio, format);
      result.scales[r * groups + g] = params.scale;
      if (!format.symmetric)
        result.zeroPoints[r * groups + g] =
            static_cast<uint8_t>(params.zeroPoint);
      for (int64_t c = begin; c < end; ++c)
        storeCode(result.packed.data() + r * rowBytes, format.bits, c,
                  quantizeValue(row[c], params, format));
    }
  }
  return result;
}

void mlir::microscale::quant::dequantizeRow(const QuantizedMatrix &matrix,
                                            int64_t row, float *out) {
  int64_t size = matrix.format.groupSize(matrix.cols);
  for (int64_t c = 0; c < matrix.cols; ++c)
    out[c] = dequantizeValue(matrix.code(row, c),
                             groupParams(matrix, row, c / size));
}

std::vector<float>
mlir::microscale::quant::dequantize(const QuantizedMatrix &matrix) {
  std::vector<float> result(matrix.rows * matrix.cols);
  for (int64_t r = 0; r < matrix.rows; ++r)
    dequantizeRow(matrix, r, result.data() + r * matrix.cols);
  return result;
}

bool mlir::microscale::quant::fromStorage(const Format &format, int64_t rows,
                                          int64_t cols,
                                          llvm::ArrayRef<uint8_t> packed,
                                          llvm::ArrayRef<uint8_t> scaleBits,
                                          llvm::ArrayRef<uint8_t> zeroPoints,
                                          QuantizedMatrix &out) {
  int64_t rowGroups = format.numGroups(cols), groups = rows * rowGroups;
  int64_t zeroPointRowBytes = format.zeroPointRowBytes(cols);
  int width = scaleBytes(format.scale);
  if (static_cast<int64_t>(packed.size()) != rows * format.rowBytes(cols) ||
      static_cast<int64_t>(scaleBits.size()) != groups * width ||
      static_cast<int64_t>(zeroPoints.size()) != rows * zeroPointRowBytes)
    return false;
  out.format = format;
  out.rows = rows;
  out.cols = cols;
  out.packed.assign(packed.begin(), packed.end());
  out.zeroPoints.clear();
  if (!format.symmetric) {
    out.zeroPoints.resize(groups);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t g = 0; g < rowGroups; ++g)
        out.zeroPoints[r * rowGroups + g] = static_cast<uint8_t>(loadCode(
            zeroPoints.data() + r * zeroPointRowBytes, format.bits, g));
  }
  out.scales.resize(groups);
  if (format.scale == ScaleType::Log8) {
    for (int64_t i = 0; i < groups; ++i)
      out.scales[i] = log8Scale(format.scaleMax, scaleBits[i]);
    return true;
  }
  for (int64_t i = 0; i < groups; ++i) {
    uint32_t bits = 0;
    for (int b = 0; b < width; ++b)
      bits |= static_cast<uint32_t>(scaleBits[i * width + b]) << (8 * b);
    out.scales[i] = format.scale == ScaleType::F32 ? floatOf(bits)
                    : format.scale == ScaleType::F16
                        ? halfToFloat(static_cast<uint16_t>(bits))
                        : bf16ToFloat(static_cast<uint16_t>(bits));
  }
  return true;
}
