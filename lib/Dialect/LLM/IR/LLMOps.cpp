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
  if (isa_and_present<SparseAttr>(tensorType(getTable()).getEncoding()))
    return emitOpError("the table may be dense or #llm.quant, not sparse");
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

/// Checks rotary parameters (shared by llm.rope and llm.self_attention).
static LogicalResult verifyRopeParams(Operation *op, int64_t headDim,
                                      int64_t rotaryDim, double theta) {
  if (headDim <= 0 || headDim % 2)
    return op->emitOpError("head_dim must be positive and even, got ")
           << headDim;
  if (rotaryDim <= 0 || rotaryDim % 2 || rotaryDim > headDim)
    return op->emitOpError("rotary_dim must be even and in (0, head_dim], got ")
           << rotaryDim;
  if (theta <= 1.0)
    return op->emitOpError("theta must be > 1");
  return success();
}

/// Checks head counts and the KV-cache slot (shared by llm.attention and
/// llm.self_attention).
static LogicalResult verifyHeads(Operation *op, int64_t heads, int64_t kvHeads,
                                 int64_t headDim, int64_t layer) {
  if (heads <= 0 || kvHeads <= 0 || headDim <= 0)
    return op->emitOpError(
        "num_heads, num_kv_heads and head_dim must be positive");
  if (heads % kvHeads)
    return op->emitOpError("num_heads (")
           << heads << ") must be a multiple of num_kv_heads (" << kvHeads
           << ")";
  if (layer < 0)
    return op->emitOpError("layer must be non-negative");
  return success();
}

LogicalResult RopeOp::verify() {
  int64_t headDim = getHeadDim();
  if (failed(verifyRopeParams(*this, headDim, getRotaryDim(),
                              getTheta().convertToDouble())))
    return failure();
  int64_t features = lastDim(getInput());
  if (!ShapedType::isDynamic(features) && features % headDim)
    return emitOpError("input features ")
           << features << " are not a multiple of head_dim " << headDim;
  return success();
}

LogicalResult AttentionOp::verify() {
  int64_t heads = getNumHeads(), kvHeads = getNumKvHeads(),
          headDim = getHeadDim();
  if (failed(verifyHeads(*this, heads, kvHeads, headDim, getLayer())))
    return failure();
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
  if (getLayer() && *getLayer() < 0)
    return emitOpError("layer must be non-negative");
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

//===----------------------------------------------------------------------===//
// SelfAttentionOp
//===----------------------------------------------------------------------===//

LogicalResult SelfAttentionOp::verify() {
  int64_t heads = getNumHeads(), kvHeads = getNumKvHeads(),
          headDim = getHeadDim();
  if (failed(verifyHeads(*this, heads, kvHeads, headDim, getLayer())))
    return failure();
  if (RopeAttr rope = getRopeAttr()) {
    if (!rope.getTheta().getType().isF64())
      return emitOpError("rope theta must be an f64 attribute");
    if (failed(verifyRopeParams(*this, headDim, rope.getRotaryDim(),
                                rope.getTheta().getValueAsDouble())))
      return failure();
  }
  // Each projection: its input width, then its output width.
  struct Projection {
    Value weight, bias;
    StringRef name;
    int64_t outFeatures;
  } projections[] = {{getQWeight(), getQBias(), "q", heads * headDim},
                     {getKWeight(), getKBias(), "k", kvHeads * headDim},
                     {getVWeight(), getVBias(), "v", kvHeads * headDim}};
  for (const Projection &p : projections) {
    if (failed(verifyProjection(*this, getInput(), p.weight, p.bias, p.name)))
      return failure();
    if (!compatible(tensorType(p.weight).getDimSize(0), p.outFeatures))
      return emitOpError() << p.name << " weight has "
                           << tensorType(p.weight).getDimSize(0)
                           << " rows, expected " << p.outFeatures
                           << " (heads * head_dim)";
  }
  auto oType = tensorType(getOWeight());
  if (oType.getRank() != 2 || !compatible(oType.getDimSize(1), heads * headDim))
    return emitOpError("o weight must be [hidden, ")
           << heads * headDim << "], got " << oType;
  if (getOBias() &&
      failed(verifyVector(*this, getOBias(), oType.getDimSize(0), "o bias")))
    return failure();
  return verifyFeatureMap(*this, getInput(), getResult(), oType.getDimSize(0),
                          "the o weight");
}

//===----------------------------------------------------------------------===//
// WeightUserOpInterface
//===----------------------------------------------------------------------===//

namespace {
/// Collects the present weight operands of an op with their roles.
class WeightUseList {
public:
  WeightUseList &add(OpOperand &operand, WeightRole role) {
    uses.push_back({&operand, role});
    return *this;
  }
  /// An optional operand: added only when present.
  WeightUseList &add(MutableOperandRange range, WeightRole role) {
    if (!range.empty())
      uses.push_back({&range[0], role});
    return *this;
  }
  operator SmallVector<WeightUse>() { return std::move(uses); }

private:
  SmallVector<WeightUse> uses;
};

/// A norm belongs to the layer of the blocks that read it (none when they
/// disagree or have no layer, as for the final norm before the logits).
std::optional<int64_t> layerOfUsers(Operation *op) {
  std::optional<int64_t> layer;
  for (Operation *user : op->getUsers()) {
    std::optional<int64_t> userLayer;
    if (auto block = dyn_cast<SelfAttentionOp>(user))
      userLayer = block.getLayer();
    else if (auto mlp = dyn_cast<MLPOp>(user))
      userLayer = mlp.getLayer();
    if (!userLayer || (layer && layer != userLayer))
      return std::nullopt;
    layer = userLayer;
  }
  return layer;
}
} // namespace

bool mlir::microscale::llm::isLayerMatrixRole(WeightRole role) {
  switch (role) {
  case WeightRole::Linear:
  case WeightRole::QueryProj:
  case WeightRole::KeyProj:
  case WeightRole::ValueProj:
  case WeightRole::OutputProj:
  case WeightRole::UpProj:
  case WeightRole::GateProj:
  case WeightRole::DownProj:
    return true;
  default:
    return false;
  }
}

bool mlir::microscale::llm::isQuantizableRole(WeightRole role) {
  return isLayerMatrixRole(role) || role == WeightRole::TokenEmbedding ||
         role == WeightRole::Logits;
}

bool mlir::microscale::llm::isBiasRole(WeightRole role) {
  switch (role) {
  case WeightRole::NormBias:
  case WeightRole::LinearBias:
  case WeightRole::QueryBias:
  case WeightRole::KeyBias:
  case WeightRole::ValueBias:
  case WeightRole::OutputBias:
  case WeightRole::UpBias:
  case WeightRole::GateBias:
  case WeightRole::DownBias:
  case WeightRole::LogitsBias:
    return true;
  default:
    return false;
  }
}

SmallVector<WeightUse> EmbeddingOp::getWeightUses() {
  return WeightUseList().add(getTableMutable(), WeightRole::TokenEmbedding);
}

SmallVector<WeightUse> PositionEmbeddingOp::getWeightUses() {
  return WeightUseList().add(getTableMutable(), WeightRole::PositionEmbedding);
}

SmallVector<WeightUse> RMSNormOp::getWeightUses() {
  return WeightUseList().add(getGainMutable(), WeightRole::NormGain);
}
std::optional<int64_t> RMSNormOp::getWeightLayer() {
  return layerOfUsers(*this);
}

SmallVector<WeightUse> LayerNormOp::getWeightUses() {
  return WeightUseList()
      .add(getGainMutable(), WeightRole::NormGain)
      .add(getBiasMutable(), WeightRole::NormBias);
}
std::optional<int64_t> LayerNormOp::getWeightLayer() {
  return layerOfUsers(*this);
}

SmallVector<WeightUse> LinearOp::getWeightUses() {
  return WeightUseList()
      .add(getWeightMutable(), WeightRole::Linear)
      .add(getBiasMutable(), WeightRole::LinearBias);
}

SmallVector<WeightUse> MLPOp::getWeightUses() {
  return WeightUseList()
      .add(getUpWeightMutable(), WeightRole::UpProj)
      .add(getUpBiasMutable(), WeightRole::UpBias)
      .add(getGateWeightMutable(), WeightRole::GateProj)
      .add(getGateBiasMutable(), WeightRole::GateBias)
      .add(getDownWeightMutable(), WeightRole::DownProj)
      .add(getDownBiasMutable(), WeightRole::DownBias);
}
std::optional<int64_t> MLPOp::getWeightLayer() { return getLayer(); }

SmallVector<WeightUse> SelfAttentionOp::getWeightUses() {
  return WeightUseList()
      .add(getQWeightMutable(), WeightRole::QueryProj)
      .add(getQBiasMutable(), WeightRole::QueryBias)
      .add(getKWeightMutable(), WeightRole::KeyProj)
      .add(getKBiasMutable(), WeightRole::KeyBias)
      .add(getVWeightMutable(), WeightRole::ValueProj)
      .add(getVBiasMutable(), WeightRole::ValueBias)
      .add(getOWeightMutable(), WeightRole::OutputProj)
      .add(getOBiasMutable(), WeightRole::OutputBias);
}
std::optional<int64_t> SelfAttentionOp::getWeightLayer() { return getLayer(); }

SmallVector<WeightUse> LogitsOp::getWeightUses() {
  return WeightUseList()
      .add(getWeightMutable(), WeightRole::Logits)
      .add(getBiasMutable(), WeightRole::LogitsBias);
}

SmallVector<WeightRef> mlir::microscale::llm::collectWeights(Operation *root) {
  return findWeights(root, {}, std::nullopt);
}

SmallVector<WeightRef>
mlir::microscale::llm::findWeights(Operation *root, ArrayRef<WeightRole> roles,
                                   std::optional<int64_t> layer) {
  SmallVector<WeightRef> found;
  root->walk([&](WeightUserOpInterface user) {
    if (layer && user.getWeightLayer() != layer)
      return;
    for (const WeightUse &use : user.getWeightUses())
      if (roles.empty() || llvm::is_contained(roles, use.role))
        found.push_back({user, use});
  });
  return found;
}

#include "microscale/Dialect/LLM/IR/LLMInterfaces.cpp.inc"

#define GET_OP_CLASSES
#include "microscale/Dialect/LLM/IR/LLMOps.cpp.inc"
