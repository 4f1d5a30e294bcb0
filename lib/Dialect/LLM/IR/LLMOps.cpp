//===- LLMOps.cpp - llm dialect operations ----------------------*- C++ -*-===//
//
// Part of the Microscale project.
//
// Verifiers check what can be checked statically: ranks always, sizes when
// both sides are static. Raised modules keep batch and sequence dynamic.
//
//===----------------------------------------------------------------------===//

#include "microscale/Dialect/LLM/IR/LLMOps.h"

#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace mlir::microscale::llm;

namespace {
RankedTensorType tensorType(Value value) {
  return cast<RankedTensorType>(value.getType());
}

int64_t lastDim(Value value) {
  auto type = tensorType(value);
  return type.getRank() == 0 ? ShapedType::kDynamic
                             : type.getDimSize(type.getRank() - 1);
}

/// True when two sizes may be equal (either is dynamic or they match).
bool compatible(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

/// Checks that `result` has `input`'s leading dimensions and last dimension
/// `features`.
LogicalResult verifyFeatureMap(Operation *op, Value input, Value result,
                               int64_t features, StringRef what) {
  auto inType = tensorType(input), outType = tensorType(result);
  if (inType.getRank() < 1)
    return op->emitOpError("input must have rank >= 1");
  if (outType.getRank() != inType.getRank())
    return op->emitOpError("result rank ")
           << outType.getRank() << " differs from input rank "
           << inType.getRank();
  for (int64_t i = 0; i + 1 < inType.getRank(); ++i)
    if (!compatible(inType.getDimSize(i), outType.getDimSize(i)))
      return op->emitOpError("result dimension ")
             << i << " (" << outType.getDimSize(i)
             << ") differs from input dimension (" << inType.getDimSize(i)
             << ")";
  if (!compatible(lastDim(result), features))
    return op->emitOpError("result has ") << lastDim(result) << " features but "
                                          << what << " gives " << features;
  return success();
}

LogicalResult verifyVector(Operation *op, Value vector, int64_t size,
                           StringRef what) {
  auto type = tensorType(vector);
  if (type.getRank() != 1)
    return op->emitOpError() << what << " must be a vector, got " << type;
  if (!compatible(type.getDimSize(0), size))
    return op->emitOpError()
           << what << " has " << type.getDimSize(0)
           << " elements but the input has " << size << " features";
  return success();
}

/// Checks a `[out, in]` weight against the input and an optional bias.
LogicalResult verifyProjection(Operation *op, Value input, Value weight,
                               Value bias, StringRef what) {
  auto weightType = tensorType(weight);
  if (weightType.getRank() != 2)
    return op->emitOpError()
           << what << " weight must be 2-D [out, in], got " << weightType;
  if (!compatible(weightType.getDimSize(1), lastDim(input)))
    return op->emitOpError()
           << what << " weight expects " << weightType.getDimSize(1)
           << " input features but the input has " << lastDim(input);
  if (bias)
    return verifyVector(op, bias, weightType.getDimSize(0),
                        (what + " bias").str());
  return success();
}
} // namespace

//===----------------------------------------------------------------------===//
// WeightOp
//===----------------------------------------------------------------------===//

OpFoldResult WeightOp::fold(FoldAdaptor) { return getValue(); }

LogicalResult WeightOp::verify() {
  if (cast<TypedAttr>(getValue()).getType() != getType())
    return emitOpError("value type ")
           << cast<TypedAttr>(getValue()).getType()
           << " does not match result type " << getType();
  return success();
}

//===----------------------------------------------------------------------===//
// Embeddings
//===----------------------------------------------------------------------===//

static LogicalResult verifyTableLookup(Operation *op, Value table, Value ids,
                                       Value result) {
  auto tableType = tensorType(table);
  if (tableType.getRank() != 2)
    return op->emitOpError("table must be 2-D [rows, hidden], got ")
           << tableType;
  auto idsType = tensorType(ids), resultType = tensorType(result);
  if (resultType.getRank() != idsType.getRank() + 1)
    return op->emitOpError("result rank must be ids rank + 1");
  for (int64_t i = 0; i < idsType.getRank(); ++i)
    if (!compatible(idsType.getDimSize(i), resultType.getDimSize(i)))
      return op->emitOpError("result dimension ")
             << i << " differs from ids dimension";
  if (!compatible(lastDim(result), tableType.getDimSize(1)))
    return op->emitOpError("result has ")
           << lastDim(result) << " features but the table has "
           << tableType.getDimSize(1);
  return success();
}

LogicalResult EmbeddingOp::verify() {
  return verifyTableLookup(*this, getTable(), getIds(), getResult());
}

LogicalResult PositionEmbeddingOp::verify() {
  return verifyTableLookup(*this, getTable(), getIds(), getResult());
}

//===----------------------------------------------------------------------===//
// Normalization
//===----------------------------------------------------------------------===//

LogicalResult RMSNormOp::verify() {
  if (getEpsilon().convertToDouble() < 0)
    return emitOpError("epsilon must be non-negative");
  if (failed(verifyVector(*this, getGain(), lastDim(getInput()), "gain")))
    return failure();
  return verifyFeatureMap(*this, getInput(), getResult(), lastDim(getInput()),
                          "the input");
}

LogicalResult LayerNormOp::verify() {
  if (getEpsilon().convertToDouble() < 0)
    return emitOpError("epsilon must be non-negative");
  if (failed(verifyVector(*this, getGain(), lastDim(getInput()), "gain")))
    return failure();
  if (getBias() &&
      failed(verifyVector(*this, getBias(), lastDim(getInput()), "bias")))
    return failure();
  return verifyFeatureMap(*this, getInput(), getResult(), lastDim(getInput()),
                          "the input");
}

//===----------------------------------------------------------------------===//
// LinearOp
//===----------------------------------------------------------------------===//

int64_t LinearOp::getInFeatures() {
  return tensorType(getWeight()).getDimSize(1);
}
int64_t LinearOp::getOutFeatures() {
  return tensorType(getWeight()).getDimSize(0);
}

LogicalResult LinearOp::verify() {
  if (failed(verifyProjection(*this, getInput(), getWeight(), getBias(),
                              "linear")))
    return failure();
  return verifyFeatureMap(*this, getInput(), getResult(), getOutFeatures(),
                          "the weight");
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

LogicalResult RopeOp::verify() {
  int64_t headDim = getHeadDim(), rotaryDim = getRotaryDim();
  if (headDim <= 0 || headDim % 2)
    return emitOpError("head_dim must be positive and even, got ") << headDim;
  if (rotaryDim <= 0 || rotaryDim % 2 || rotaryDim > headDim)
    return emitOpError("rotary_dim must be even and in (0, head_dim], got ")
           << rotaryDim;
  if (getTheta().convertToDouble() <= 1.0)
    return emitOpError("theta must be > 1");
  int64_t features = lastDim(getInput());
  if (!ShapedType::isDynamic(features) && features % headDim)
    return emitOpError("input features ")
           << features << " are not a multiple of head_dim " << headDim;
  return success();
}

LogicalResult AttentionOp::verify() {
  int64_t heads = getNumHeads(), kvHeads = getNumKvHeads(),
          headDim = getHeadDim();
  if (heads <= 0 || kvHeads <= 0 || headDim <= 0)
    return emitOpError("num_heads, num_kv_heads and head_dim must be positive");
  if (heads % kvHeads)
    return emitOpError("num_heads (")
           << heads << ") must be a multiple of num_kv_heads (" << kvHeads
           << ")";
  if (getLayer() < 0)
    return emitOpError("layer must be non-negative");
  if (!compatible(lastDim(getQuery()), heads * headDim))
    return emitOpError("query has ")
           << lastDim(getQuery())
           << " features, expected num_heads * head_dim = " << heads * headDim;
  for (Value kv : {getKey(), getValue()})
    if (!compatible(lastDim(kv), kvHeads * headDim))
      return emitOpError("key/value has ")
             << lastDim(kv) << " features, expected num_kv_heads * head_dim = "
             << kvHeads * headDim;
  if (tensorType(getKey()) != tensorType(getValue()))
    return emitOpError("key and value types differ");
  return verifyFeatureMap(*this, getQuery(), getResult(), heads * headDim,
                          "num_heads * head_dim");
}

//===----------------------------------------------------------------------===//
// MLPOp
//===----------------------------------------------------------------------===//

int64_t MLPOp::getIntermediateSize() {
  return tensorType(getUpWeight()).getDimSize(0);
}

LogicalResult MLPOp::verify() {
  if (failed(verifyProjection(*this, getInput(), getUpWeight(), getUpBias(),
                              "up")))
    return failure();
  if (getGateBias() && !getGateWeight())
    return emitOpError("gate bias without a gate weight");
  if (getGateWeight()) {
    if (failed(verifyProjection(*this, getInput(), getGateWeight(),
                                getGateBias(), "gate")))
      return failure();
    if (tensorType(getGateWeight()).getShape() !=
        tensorType(getUpWeight()).getShape())
      return emitOpError("gate and up weights differ in shape");
  }
  auto downType = tensorType(getDownWeight());
  if (downType.getRank() != 2 ||
      !compatible(downType.getDimSize(1), getIntermediateSize()))
    return emitOpError("down weight must be [hidden, ")
           << getIntermediateSize() << "], got " << downType;
  if (getDownBias() &&
      failed(verifyVector(*this, getDownBias(), downType.getDimSize(0),
                          "down bias")))
    return failure();
  return verifyFeatureMap(*this, getInput(), getResult(),
                          downType.getDimSize(0), "the down weight");
}

//===----------------------------------------------------------------------===//
// LogitsOp
//===----------------------------------------------------------------------===//

LogicalResult LogitsOp::verify() {
  if (failed(verifyProjection(*this, getInput(), getWeight(), getBias(),
                              "logits")))
    return failure();
  return verifyFeatureMap(*this, getInput(), getResult(),
                          tensorType(getWeight()).getDimSize(0), "the weight");
}

#define GET_OP_CLASSES
#include "microscale/Dialect/LLM/IR/LLMOps.cpp.inc"
