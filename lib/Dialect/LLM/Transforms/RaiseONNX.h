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
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SmallPtrSet.h"

#include <string>

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

/// The exact values of an integer constant (any width, bool included), or
/// std::nullopt for anything else. Unlike `readFloats`, large values such as
/// INT64_MAX survive.
std::optional<SmallVector<int64_t>> readInts(ElementsAttr attr);

/// The value of a one-element integer constant, or std::nullopt.
std::optional<int64_t> getIntScalar(Value value);

/// `dimOf(source, axis)`: a dimension the caller knows though the type does
/// not (for example head_dim of a freshly split tensor).
using KnownDim = llvm::function_ref<std::optional<int64_t>(Value, int64_t)>;

/// Folds the small integer computations exporters build from shapes
/// (constants, Shape+Gather, Cast, Unsqueeze/Squeeze of one element, and
/// +, -, *, / with overflow checked) to a value, or std::nullopt.
std::optional<int64_t> foldIndex(Value value, KnownDim dimOf = {});

/// If `value` is dimension `axis` of `source` read as Shape+Gather (behind
/// Unsqueeze, Squeeze and Cast), returns {source, axis} with `axis`
/// normalized.
std::optional<std::pair<Value, int64_t>> matchShapeDim(Value value);

/// The one-element piece of a Concat shape that gives entry `i`, or null.
Value shapePiece(Value shape, unsigned i);

/// True if entry `i` of a shape is dimension `axis` of some tensor, read
/// with Shape+Gather.
bool isShapeDimEntry(Value shape, unsigned i, int64_t axis);

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

/// The first constant a matcher found not to mean what its pattern assumes.
/// Matchers call `fail` and return false; the pattern records the mismatch
/// if it then does not apply.
struct ConstantMismatch {
  Operation *culprit = nullptr;
  std::string message;

  /// Records `why` about `op` unless a mismatch is already recorded; returns
  /// false.
  bool fail(Operation *op, const Twine &why);
  explicit operator bool() const { return culprit != nullptr; }
};

/// Subgraphs a pattern recognized by structure but refused because of a
/// constant, by the node the pattern was rooted at. When raising leaves that
/// root behind, the pass reports the constant's node and the pattern rather
/// than a generic "not recognized".
class RaiseRejections {
public:
  void record(Operation *root, StringRef pattern,
              const ConstantMismatch &mismatch);
  /// Emits one error for each rejection whose root is still in `scope`;
  /// failure if there was any.
  LogicalResult report(Operation *scope) const;

private:
  struct Entry {
    std::string rootName;
    std::string pattern;
    Location culpritLoc;
    std::string culprit;
    std::string message;
  };
  llvm::MapVector<Operation *, Entry> entries;
};

/// All raising patterns; `rejections` (optional) collects why a recognized
/// subgraph was refused.
void populateRaiseONNXPatterns(RewritePatternSet &patterns,
                               RaiseRejections *rejections = nullptr);

} // namespace mlir::microscale::llm

#endif // MICROSCALE_LIB_DIALECT_LLM_TRANSFORMS_RAISEONNX_H
