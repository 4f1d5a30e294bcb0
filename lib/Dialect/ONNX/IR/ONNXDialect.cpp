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
