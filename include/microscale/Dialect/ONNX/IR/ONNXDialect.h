//===- ONNXDialect.h - onnx import dialect ----------------------*- C++ -*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_DIALECT_ONNX_IR_ONNXDIALECT_H
#define MICROSCALE_DIALECT_ONNX_IR_ONNXDIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/StringExtras.h"

#include "microscale/Dialect/ONNX/IR/ONNXOpsDialect.h.inc"

#define GET_OP_CLASSES
#include "microscale/Dialect/ONNX/IR/ONNXOps.h.inc"

namespace mlir::microscale {
/// A resource blob key for a tensor name: MLIR's textual form only accepts
/// identifier characters, and ONNX names contain '::', '/' and ':'.
inline std::string resourceBlobName(llvm::StringRef tensorName) {
  std::string key = tensorName.empty() ? "tensor" : tensorName.str();
  for (char &c : key)
    if (!llvm::isAlnum(c) && c != '_' && c != '.')
      c = '_';
  return key;
}
} // namespace mlir::microscale

#endif // MICROSCALE_DIALECT_ONNX_IR_ONNXDIALECT_H
