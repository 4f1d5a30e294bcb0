//===- ONNXDialect.cpp - onnx import dialect --------------------*- C++ -*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#include "microscale/Dialect/ONNX/IR/ONNXDialect.h"

#include "mlir/IR/DialectImplementation.h"

using namespace mlir;
using namespace mlir::microscale::onnx;

#include "microscale/Dialect/ONNX/IR/ONNXOpsDialect.cpp.inc"

void ONNXDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "microscale/Dialect/ONNX/IR/ONNXOps.cpp.inc"
      >();
}

int64_t NodeOp::getIntAttr(StringRef attrName, int64_t defaultValue) {
  if (auto attr = llvm::dyn_cast_or_null<IntegerAttr>(getOnnxAttr(attrName)))
    return attr.getInt();
  return defaultValue;
}

double NodeOp::getFloatAttr(StringRef attrName, double defaultValue) {
  if (auto attr = llvm::dyn_cast_or_null<FloatAttr>(getOnnxAttr(attrName)))
    return attr.getValueAsDouble();
  return defaultValue;
}

std::optional<llvm::SmallVector<int64_t>>
NodeOp::getIntsAttr(StringRef attrName) {
  auto list = llvm::dyn_cast_or_null<ArrayAttr>(getOnnxAttr(attrName));
  if (!list)
    return std::nullopt;
  // The verifier has checked the kind of every INTS attribute.
  return llvm::to_vector(llvm::map_range(
      list, [](Attribute entry) { return cast<IntegerAttr>(entry).getInt(); }));
}

LogicalResult NodeOp::verify() {
  if (std::optional<std::string> message =
          checkAttributeKinds(getOpType(), getOnnxAttrs()))
    return emitOpError() << getOpType() << ": " << *message;
  return success();
}

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

LogicalResult ConstantOp::verify() {
  if (cast<TypedAttr>(getValue()).getType() != getType())
    return emitOpError("value type ")
           << cast<TypedAttr>(getValue()).getType()
           << " does not match result type " << getType();
  return success();
}

#define GET_OP_CLASSES
#include "microscale/Dialect/ONNX/IR/ONNXOps.cpp.inc"
