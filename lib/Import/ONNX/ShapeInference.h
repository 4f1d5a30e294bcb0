//===- ShapeInference.h - result types of ONNX nodes ------------*- C++ -*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_LIB_IMPORT_ONNX_SHAPEINFERENCE_H
#define MICROSCALE_LIB_IMPORT_ONNX_SHAPEINFERENCE_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/Support/Error.h"

namespace mlir::microscale::onnx_import {

/// What shape inference sees of one node input: its type and, when it is a
/// constant, its value (so shape-typed inputs such as Reshape's target can
/// give static dimensions).
struct InferenceInput {
  Type type;                  // NoneType for an absent optional input.
  DenseElementsAttr constant; // Null unless the input is a small constant.
};

/// Infers the result types of an ONNX node of `opType` with ONNX attributes
/// `attributes`. Dimensions that depend on runtime values are dynamic.
/// Returns an error string on inconsistent shapes or an unsupported op.
llvm::Expected<llvm::SmallVector<Type>>
inferResultTypes(llvm::StringRef opType, DictionaryAttr attributes,
                 llvm::ArrayRef<InferenceInput> inputs, unsigned numOutputs,
                 int64_t opset);

/// Checks a tensor type against the import limits: rank, non-negative
/// static dimensions, and their element count (computed without overflow).
/// On failure, a message saying which.
std::optional<std::string> checkTensorLimits(Type type);

/// True for the ONNX op types the importer knows: exactly those that
/// inferResultTypes has a rule for.
bool isSupportedOpType(llvm::StringRef opType);

} // namespace mlir::microscale::onnx_import

#endif // MICROSCALE_LIB_IMPORT_ONNX_SHAPEINFERENCE_H
