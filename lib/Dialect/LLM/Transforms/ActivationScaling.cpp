//===- ActivationScaling.cpp - fold input scales into producers -*- C++ -*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#include "microscale/Dialect/LLM/Transforms/ActivationScaling.h"

using namespace mlir;
using namespace mlir::microscale;
using namespace mlir::microscale::llm;

/// The dense `llm.weight` behind `value` when nothing else uses it.
static WeightOp getExclusiveDenseWeight(Value value) {
  if (!value || !value.hasOneUse())
    return {};
  auto weight = value.getDefiningOp<WeightOp>();
  if (!weight || weight.getEncoding())
    return {};
  return weight;
}

/// The norm producing `input`, when the group's op is its only user.
static std::optional<FoldTarget> foldIntoNorm(Value input) {
  if (!input.hasOneUse())
    return std::nullopt;
  FoldTarget target;
  Operation *producer = input.getDefiningOp();
  if (auto rms = dyn_cast_or_null<RMSNormOp>(producer)) {
    WeightOp gain = getExclusiveDenseWeight(rms.getGain());
    if (!gain)
      return std::nullopt;
    target.vectors.push_back(gain);
    return target;
  }
  if (auto layerNorm = dyn_cast_or_null<LayerNormOp>(producer)) {
    WeightOp gain = getExclusiveDenseWeight(layerNorm.getGain());
    if (!gain)
      return std::nullopt;
    target.vectors.push_back(gain);
    if (Value bias = layerNorm.getBias()) {
      WeightOp biasWeight = getExclusiveDenseWeight(bias);
      if (!biasWeight)
        return std::nullopt;
      target.vectors.push_back(biasWeight);
    }
    return target;
  }
  return std::nullopt;
}

/// A projection (and its bias) whose output rows are the group's input.
static std::optional<FoldTarget> foldIntoRows(Value weight, Value bias) {
  FoldTarget target;
  WeightOp matrix = getExclusiveDenseWeight(weight);
  if (!matrix)
    return std::nullopt;
  target.rowMatrices.push_back(matrix);
  if (bias) {
    WeightOp biasWeight = getExclusiveDenseWeight(bias);
    if (!biasWeight)
      return std::nullopt;
    target.vectors.push_back(biasWeight);
  }
  return target;
}

std::optional<FoldTarget> llm::findFoldTarget(const InputGroup &group) {
  // Scaling a matrix's columns is only exact if the matrix serves this
  // group alone.
  for (WeightOp weight : group.weights)
    if (!weight.getResult().hasOneUse())
      return std::nullopt;
  Operation *user = group.user;
  switch (group.source) {
  case InputSource::OpInput:
    return foldIntoNorm(user->getOperand(0));
  case InputSource::AttentionOutput: {
    auto block = dyn_cast<SelfAttentionOp>(user);
    if (!block)
      return std::nullopt;
    std::optional<FoldTarget> target =
        foldIntoRows(block.getVWeight(), block.getVBias());
    if (target) {
      target->headDim = block.getHeadDim();
      target->queriesPerKvHead = block.getNumHeads() / block.getNumKvHeads();
    }
    return target;
  }
  case InputSource::MLPHidden: {
    // hidden = act(gate) * up is linear in up only when gated.
    auto mlp = dyn_cast<MLPOp>(user);
    if (!mlp || !mlp.isGated())
      return std::nullopt;
    return foldIntoRows(mlp.getUpWeight(), mlp.getUpBias());
  }
  }
  return std::nullopt;
}
