//===- RaiseONNX.h - shared pieces of the onnx-to-llm raising ---*- C++ -*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_LIB_DIALECT_LLM_TRANSFORMS_RAISEONNX_H
#define MICROSCALE_LIB_DIALECT_LLM_TRANSFORMS_RAISEONNX_H

#include "microscale/Dialect/LLM/IR/LLMOps.h"
#include "microscale/Dialect/ONNX/IR/ONNXDialect.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/SmallPtrSet.h"

namespace mlir::microscale::llm {

/// The onnx.node defining `value` if its op type is `opType`, else null.
/// Matchers chain freely: a null `value` gives null.
onnx::NodeOp getNode(Value value, StringRef opType);

/// Skips Identity nodes and Casts that do not change the element type
/// (null stays null).
Value skipNoOps(Value value);

/// The value of a constant (onnx.constant or llm.weight, possibly behind
/// Identity nodes), or null.
ElementsAttr getConstant(Value value);

/// A constant with exactly one element, as a double.
std::optional<double> getScalar(Value value);

/// The float32 contents of a constant.
std::vector<float> readFloats(ElementsAttr attr);

/// The entries of a 1-D shape tensor that are statically known: a constant,
/// or a Concat of constants and unsqueezed scalars (as exporters build
/// Reshape targets from Shape/Gather). Unknown entries are std::nullopt;
/// returns std::nullopt when not even the length is known.
std::optional<SmallVector<std::optional<int64_t>>> getShapeEntries(Value shape);

/// Creates an `llm.weight` holding `data` with `shape`, as a resource blob.
Value createWeight(OpBuilder &builder, Location loc, StringRef name,
                   ArrayRef<int64_t> shape, ArrayRef<float> data);

/// Wraps an existing constant as an `llm.weight` without copying.
Value createWeight(OpBuilder &builder, Location loc, StringRef name,
                   ElementsAttr value);

/// `createWeight` for a constant value (onnx.constant or llm.weight), keeping
/// its name and data.
Value weightFromConstant(OpBuilder &builder, Value constant);

/// The source name of a constant (its `name` attribute), or "".
StringRef getConstantName(Value value);

/// Result type of a raised activation: dynamic leading dimensions and
/// `features` in the last one, with `like`'s rank.
RankedTensorType activationType(Type like, int64_t features);

/// All raising patterns.
void populateRaiseONNXPatterns(RewritePatternSet &patterns);

} // namespace mlir::microscale::llm

#endif // MICROSCALE_LIB_DIALECT_LLM_TRANSFORMS_RAISEONNX_H
