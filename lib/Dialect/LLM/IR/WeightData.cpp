//===- WeightData.cpp - weight contents as numbers --------------*- C++ -*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#include "microscale/Dialect/LLM/IR/WeightData.h"
#include "microscale/Sparse/BitmaskStorage.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <cstring>

using namespace mlir;
using namespace mlir::microscale;
using namespace mlir::microscale::llm;

static llvm::Error weightError(WeightOp weight, const llvm::Twine &why) {
  return llvm::createStringError("weight '" + weight.getName() + "': " + why);
}

/// The raw little-endian bytes of an elements attribute: a resource blob or
/// dense storage (a splat is expanded to `count` elements).
static llvm::Expected<std::vector<uint8_t>>
readBytes(WeightOp weight, ElementsAttr attr, StringRef what) {
  auto type = cast<ShapedType>(attr.getType());
  size_t width = (type.getElementTypeBitWidth() + 7) / 8;
  size_t bytes = type.getNumElements() * width;
  ArrayRef<char> data;
  bool splat = false;
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob)
      return weightError(weight, what + " has no data (was the resource "
                                        "elided?)");
    data = blob->getData();
  } else if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    data = dense.getRawData();
    splat = dense.isSplat();
  } else {
    return weightError(weight, what + " has an unsupported attribute kind");
  }
  if (splat && data.size() == width) {
    std::vector<uint8_t> out(bytes);
    for (size_t i = 0; i < bytes; i += width)
      std::memcpy(out.data() + i, data.data(), width);
    return out;
  }
  if (data.size() != bytes)
    return weightError(weight, llvm::formatv("{0} holds {1} bytes, expected "
                                             "{2}",
                                             what, data.size(), bytes));
  return std::vector<uint8_t>(data.begin(), data.end());
}

quant::Format llm::getQuantFormat(QuantAttr attr) {
  quant::Format format;
  format.bits = attr.getBits();
  format.group = attr.getGroup();
  format.symmetric = attr.isSymmetric();
  Type scale = attr.getScale();
  format.scale = scale.isF32()    ? quant::ScaleType::F32
                 : scale.isF16()  ? quant::ScaleType::F16
                 : scale.isBF16() ? quant::ScaleType::BF16
                                  : quant::ScaleType::Log8;
  if (FloatAttr scaleMax = attr.getScaleMax())
    format.scaleMax = static_cast<float>(scaleMax.getValueAsDouble());
  format.int8Activations = attr.hasInt8Activations();
  return format;
}

QuantAttr llm::getQuantAttr(MLIRContext *context, const quant::Format &format) {
  Builder builder(context);
  Type scale = builder.getI8Type();
  if (format.scale == quant::ScaleType::F32)
    scale = builder.getF32Type();
  else if (format.scale == quant::ScaleType::F16)
    scale = builder.getF16Type();
  else if (format.scale == quant::ScaleType::BF16)
    scale = builder.getBF16Type();
  FloatAttr scaleMax;
  if (format.scale == quant::ScaleType::Log8)
    scaleMax = builder.getF32FloatAttr(format.scaleMax);
  Type activations;
  if (format.int8Activations)
    activations = builder.getI8Type();
  return QuantAttr::get(context, format.bits, format.group,
                        builder.getBoolAttr(format.symmetric), scale, scaleMax,
                        activations);
}

/// Dense values of a float width as float32.
static std::vector<float> decodeFloats(ArrayRef<uint8_t> bytes,
                                       FloatType element) {
  size_t width = element.getWidth() / 8;
  std::vector<float> values(bytes.size() / width);
  for (size_t i = 0; i < values.size(); ++i) {
    uint32_t bits = 0;
    std::memcpy(&bits, bytes.data() + i * width, width);
    if (element.isF32()) {
      std::memcpy(&values[i], &bits, sizeof(float));
    } else if (element.isF16()) {
      values[i] = quant::halfToFloat(static_cast<uint16_t>(bits));
    } else {
      values[i] = quant::bf16ToFloat(static_cast<uint16_t>(bits));
    }
  }
  return values;
}

static llvm::Expected<std::vector<float>>
dequantizeStorage(WeightOp weight, QuantAttr attr, std::vector<uint8_t> packed);

/// The bitmask storage of `weight` (values of `T`), checked.
template <typename T>
static llvm::Expected<sparse::BitmaskMatrix<T>> readBitmask(WeightOp weight) {
  RankedTensorType type = weight.getType();
  sparse::BitmaskMatrix<T> matrix;
  matrix.rows = type.getDimSize(0);
  matrix.cols = type.getDimSize(1);
  auto values = readBytes(weight, weight.getValue(), "value");
  if (!values)
    return values.takeError();
  auto masks = readBytes(weight, weight.getIndicesAttr(), "indices");
  if (!masks)
    return masks.takeError();
  auto offsets = readBytes(weight, weight.getOffsetsAttr(), "offsets");
  if (!offsets)
    return offsets.takeError();
  matrix.masks = std::move(*masks);
  matrix.offsets.resize(offsets->size() / sizeof(int32_t));
  std::memcpy(matrix.offsets.data(), offsets->data(), offsets->size());
  matrix.values.resize(values->size() / sizeof(T));
  std::memcpy(matrix.values.data(), values->data(), values->size());
  if (llvm::Error error = sparse::verifyBitmask(matrix))
    return weightError(weight, llvm::toString(std::move(error)));
  return matrix;
}

/// What a `#llm.sparse<..., format = bitmask>` weight stands for: its kept
/// values in place, zeros elsewhere (dequantized with its `quant`).
static llvm::Expected<std::vector<float>> readBitmaskValues(WeightOp weight,
                                                            SparseAttr attr) {
  if (attr.getFormat() != SparseFormat::Bitmask)
    return weightError(weight, "csr and n_of_m sparse weights cannot be read "
                               "yet");
  if (QuantAttr quant = attr.getQuant()) {
    auto codes = readBitmask<int8_t>(weight);
    if (!codes)
      return codes.takeError();
    // 8-bit codes packed one per byte are the dense codes themselves.
    std::vector<int8_t> dense = sparse::decodeBitmask(*codes);
    return dequantizeStorage(weight, quant,
                             std::vector<uint8_t>(dense.begin(), dense.end()));
  }
  auto values = readBitmask<float>(weight);
  if (!values)
    return values.takeError();
  return sparse::decodeBitmask(*values);
}

llvm::Expected<std::vector<float>> llm::readWeightValues(WeightOp weight) {
  RankedTensorType type = weight.getType();
  auto element = dyn_cast<FloatType>(type.getElementType());
  if (!element || !(element.isF32() || element.isF16() || element.isBF16()))
    return weightError(weight, "not f32, f16 or bf16");
  if (!type.hasStaticShape())
    return weightError(weight, "dynamic shape");
  Attribute encoding = weight.getEncoding();
  if (!encoding) {
    auto bytes = readBytes(weight, weight.getValue(), "value");
    if (!bytes)
      return bytes.takeError();
    return decodeFloats(*bytes, element);
  }
  if (auto sparseAttr = dyn_cast<SparseAttr>(encoding))
    return readBitmaskValues(weight, sparseAttr);
  auto quantAttr = cast<QuantAttr>(encoding);
  auto packed = readBytes(weight, weight.getValue(), "value");
  if (!packed)
    return packed.takeError();
  return dequantizeStorage(weight, quantAttr, std::move(*packed));
}

/// `packed` (the codes of `weight`, whose encoding is or carries `attr`)
/// dequantized with the weight's scales and zero points.
static llvm::Expected<std::vector<float>>
dequantizeStorage(WeightOp weight, QuantAttr attr,
                  std::vector<uint8_t> packed) {
  RankedTensorType type = weight.getType();
  quant::Format format = getQuantFormat(attr);
  int64_t rows = type.getDimSize(0), cols = type.getDimSize(1);
  auto scales = readBytes(weight, weight.getScalesAttr(), "scales");
  if (!scales)
    return scales.takeError();
  std::vector<uint8_t> zeroPoints;
  if (!format.symmetric) {
    auto read = readBytes(weight, weight.getZeroPointsAttr(), "zero_points");
    if (!read)
      return read.takeError();
    zeroPoints = std::move(*read);
  }
  quant::QuantizedMatrix matrix;
  if (!quant::fromStorage(format, rows, cols, packed, *scales, zeroPoints,
                          matrix))
    return weightError(weight, "storage sizes do not match " + format.str());
  return quant::dequantize(matrix);
}

std::string llm::getResourceKey(StringRef name, StringRef suffix) {
  std::string key = (name + suffix).str();
  for (char &c : key)
    if (!llvm::isAlnum(c) && c != '_' && c != '.')
      c = '_';
  return key;
}

/// A resource blob named after the weight holding `bytes`.
static DenseResourceElementsAttr makeBlob(StringRef name, StringRef suffix,
                                          RankedTensorType type,
                                          ArrayRef<uint8_t> bytes) {
  std::string key = getResourceKey(name, suffix);
  auto blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(
      ArrayRef<char>(reinterpret_cast<const char *>(bytes.data()),
                     bytes.size()),
      /*align=*/64);
  return DenseResourceElementsAttr::get(type, key, std::move(blob));
}

WeightOp llm::createQuantizedWeight(OpBuilder &builder, Location loc,
                                    StringRef name, RankedTensorType logical,
                                    const quant::QuantizedMatrix &matrix) {
  QuantAttr attr = getQuantAttr(builder.getContext(), matrix.format);
  auto type =
      RankedTensorType::get(logical.getShape(), logical.getElementType(), attr);
  ElementsAttr value =
      makeBlob(name, ".q", attr.getPackedType(type), matrix.packed);
  ElementsAttr scales =
      makeBlob(name, ".scales", attr.getScalesType(type), matrix.scaleBlob());
  ElementsAttr zeroPoints;
  if (!matrix.format.symmetric)
    zeroPoints = makeBlob(name, ".zero_points", attr.getZeroPointsType(type),
                          matrix.zeroPointBlob());
  return builder.create<WeightOp>(loc, type, name, value, scales, zeroPoints,
                                  ElementsAttr(), ElementsAttr());
}

llvm::Expected<std::vector<uint8_t>>
llm::readStorageBytes(WeightOp weight, ElementsAttr attr, StringRef what) {
  if (!attr)
    return weightError(weight, "has no " + what);
  return readBytes(weight, attr, what);
}

WeightOp llm::createBitmaskWeight(OpBuilder &builder, Location loc,
                                  StringRef name, RankedTensorType logical,
                                  SparseAttr encoding, ArrayRef<uint8_t> values,
                                  int64_t nonZeros, ArrayRef<uint8_t> masks,
                                  ArrayRef<int32_t> offsets,
                                  ElementsAttr scales) {
  auto type = RankedTensorType::get(logical.getShape(),
                                    logical.getElementType(), encoding);
  ElementsAttr value =
      makeBlob(name, ".values", encoding.getValuesType(type, nonZeros), values);
  ElementsAttr indices =
      makeBlob(name, ".masks", encoding.getMasksType(type), masks);
  ElementsAttr rowStarts = makeBlob(
      name, ".offsets", encoding.getOffsetsType(type),
      ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(offsets.data()),
                        offsets.size() * sizeof(int32_t)));
  return builder.create<WeightOp>(loc, type, name, value, scales,
                                  ElementsAttr(), indices, rowStarts);
}
