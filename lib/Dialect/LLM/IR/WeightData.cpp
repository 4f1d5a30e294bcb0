//===- WeightData.cpp - weight contents as numbers --------------*- C++ -*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#include "microscale/Dialect/LLM/IR/WeightData.h"

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
  auto quantAttr = dyn_cast<QuantAttr>(encoding);
  if (!quantAttr)
    return weightError(weight, "sparse weights cannot be read yet");
  quant::Format format = getQuantFormat(quantAttr);
  int64_t rows = type.getDimSize(0), cols = type.getDimSize(1);
  auto packed = readBytes(weight, weight.getValue(), "value");
  if (!packed)
    return packed.takeError();
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
  if (!quant::fromStorage(format, rows, cols, *packed, *scales, zeroPoints,
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
