//===- RaiseONNXUtils.cpp - matchers and builders for raising ---*- C++ -*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#include "RaiseONNX.h"

#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"

using namespace mlir;
using namespace mlir::microscale;
using namespace mlir::microscale::llm;

onnx::NodeOp mlir::microscale::llm::getNode(Value value, StringRef opType) {
  if (!value)
    return nullptr;
  auto node = value.getDefiningOp<onnx::NodeOp>();
  if (node && node.getOpType() == opType)
    return node;
  return nullptr;
}

Value mlir::microscale::llm::skipNoOps(Value value) {
  if (!value)
    return value;
  while (auto node = value.getDefiningOp<onnx::NodeOp>()) {
    if (node.getInputs().empty())
      break;
    Value input = node.getInputs()[0];
    bool sameElement = getElementTypeOrSelf(input.getType()) ==
                       getElementTypeOrSelf(node.getResult(0).getType());
    if (node.getOpType() == "Identity" ||
        (node.getOpType() == "Cast" && sameElement)) {
      value = input;
      continue;
    }
    break;
  }
  return value;
}

ElementsAttr mlir::microscale::llm::getConstant(Value value) {
  // torch shares equal initializers through Identity nodes.
  value = skipNoOps(value);
  if (!value)
    return {};
  if (auto constant = value.getDefiningOp<onnx::ConstantOp>())
    return constant.getValue();
  if (auto weight = value.getDefiningOp<WeightOp>())
    return weight.getValue();
  return {};
}

StringRef mlir::microscale::llm::getConstantName(Value value) {
  value = skipNoOps(value);
  if (auto constant = value.getDefiningOp<onnx::ConstantOp>())
    return constant.getName();
  if (auto weight = value.getDefiningOp<WeightOp>())
    return weight.getName();
  return "";
}

/// Raw bytes of a constant, for both inline and resource storage.
static ArrayRef<char> rawData(ElementsAttr attr) {
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr)) {
    if (AsmResourceBlob *blob = resource.getRawHandle().getBlob())
      return blob->getData();
    return {};
  }
  if (auto dense = dyn_cast<DenseElementsAttr>(attr))
    return dense.getRawData();
  return {};
}

std::vector<float> mlir::microscale::llm::readFloats(ElementsAttr attr) {
  auto type = cast<ShapedType>(attr.getType());
  int64_t count = type.getNumElements();
  std::vector<float> values(count);
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    if (dense.getElementType().isF32()) {
      llvm::copy(dense.getValues<float>(), values.begin());
    } else if (isa<FloatType>(dense.getElementType())) {
      for (auto [i, v] : llvm::enumerate(dense.getValues<APFloat>()))
        values[i] = v.convertToDouble();
    } else {
      for (auto [i, v] : llvm::enumerate(dense.getValues<APInt>()))
        values[i] = v.getSExtValue();
    }
    return values;
  }
  ArrayRef<char> bytes = rawData(attr);
  Type element = type.getElementType();
  size_t n = count;
  if (element.isF32() && bytes.size() == n * sizeof(float)) {
    std::memcpy(values.data(), bytes.data(), bytes.size());
  } else if (element.isF64() && bytes.size() == n * sizeof(double)) {
    for (int64_t i = 0; i < count; ++i) {
      double d;
      std::memcpy(&d, bytes.data() + i * sizeof(double), sizeof(double));
      values[i] = d;
    }
  } else if (element.isInteger(64) && bytes.size() == n * 8) {
    for (int64_t i = 0; i < count; ++i) {
      int64_t v;
      std::memcpy(&v, bytes.data() + i * 8, 8);
      values[i] = v;
    }
  }
  return values;
}

std::optional<double> mlir::microscale::llm::getScalar(Value value) {
  ElementsAttr attr = getConstant(skipNoOps(value));
  if (!attr || cast<ShapedType>(attr.getType()).getNumElements() != 1)
    return std::nullopt;
  return readFloats(attr)[0];
}

std::optional<SmallVector<std::optional<int64_t>>>
mlir::microscale::llm::getShapeEntries(Value shape) {
  SmallVector<std::optional<int64_t>> entries;
  if (ElementsAttr attr = getConstant(shape)) {
    if (cast<ShapedType>(attr.getType()).getRank() != 1)
      return std::nullopt;
    for (float v : readFloats(attr))
      entries.push_back(static_cast<int64_t>(v));
    return entries;
  }
  onnx::NodeOp concat = getNode(shape, "Concat");
  if (!concat)
    return std::nullopt;
  for (Value piece : concat.getInputs()) {
    if (ElementsAttr attr = getConstant(piece)) {
      for (float v : readFloats(attr))
        entries.push_back(static_cast<int64_t>(v));
      continue;
    }
    auto type = dyn_cast<RankedTensorType>(piece.getType());
    if (!type || type.getRank() != 1 || type.isDynamicDim(0))
      return std::nullopt;
    entries.append(type.getDimSize(0), std::nullopt);
  }
  return entries;
}

Value mlir::microscale::llm::createWeight(OpBuilder &builder, Location loc,
                                          StringRef name,
                                          ArrayRef<int64_t> shape,
                                          ArrayRef<float> data) {
  auto type = RankedTensorType::get(shape, builder.getF32Type());
  auto blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(
      ArrayRef<char>(reinterpret_cast<const char *>(data.data()),
                     data.size() * sizeof(float)),
      /*align=*/64);
  auto value = DenseResourceElementsAttr::get(type, resourceBlobName(name),
                                              std::move(blob));
  return builder.create<WeightOp>(loc, type, name, value);
}

Value mlir::microscale::llm::createWeight(OpBuilder &builder, Location loc,
                                          StringRef name, ElementsAttr value) {
  return builder.create<WeightOp>(loc, cast<RankedTensorType>(value.getType()),
                                  name, value);
}

RankedTensorType mlir::microscale::llm::activationType(Type like,
                                                       int64_t features) {
  int64_t rank = 3;
  if (auto ranked = dyn_cast<RankedTensorType>(like))
    rank = ranked.getRank();
  SmallVector<int64_t> shape(rank, ShapedType::kDynamic);
  shape.back() = features;
  return RankedTensorType::get(shape, Float32Type::get(like.getContext()));
}

Value mlir::microscale::llm::weightFromConstant(OpBuilder &builder,
                                                Value constant) {
  return createWeight(builder, constant.getLoc(), getConstantName(constant),
                      getConstant(constant));
}
