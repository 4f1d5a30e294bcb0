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

namespace onnx {
/// The kinds of ONNX attribute (AttributeProto.type) the supported ops take.
enum class AttributeKind { Int, Float, String, Ints, Floats, Tensor };

/// ONNX's name of a kind: "INT", "FLOATS", ...
llvm::StringRef stringifyAttributeKind(AttributeKind kind);

/// The kind the ONNX specification gives attribute `name` of op `opType`, or
/// std::nullopt when `opType` has no such attribute. The one table of the
/// attributes Microscale reads: the importer checks every attribute of a
/// file against it, and onnx.node verifies its attributes with it, so code
/// reading an attribute can rely on its kind.
std::optional<AttributeKind> expectedAttributeKind(llvm::StringRef opType,
                                                   llvm::StringRef name);

/// Whether `value`, an attribute as the importer converts it, has `kind`.
/// An empty list is both INTS and FLOATS.
bool hasAttributeKind(Attribute value, AttributeKind kind);

/// Checks every attribute in `attributes` of an `opType` node against
/// expectedAttributeKind; on failure, a message naming the attribute.
std::optional<std::string> checkAttributeKinds(llvm::StringRef opType,
                                               DictionaryAttr attributes);
} // namespace onnx
} // namespace mlir::microscale

#endif // MICROSCALE_DIALECT_ONNX_IR_ONNXDIALECT_H
