//===- PruneMLP.cpp - remove intermediate channels of MLPs ------*- C++ -*-===//
//
// Part of the Microscale project.
//
// An MLP channel is one row of up (and gate) and one column of down, all
// inside one llm.mlp. Channels are chosen per MLP from the down
// projection's input statistics (optimal brain surgeon, one channel at a
// time) or by weight magnitude, and the down projection's kept columns are
// refit so that the block's output matches the unpruned one.
//
//===----------------------------------------------------------------------===//

#include "microscale/Dialect/LLM/Transforms/Passes.h"
#include "microscale/Dialect/LLM/Transforms/Pruning.h"
#include "microscale/Prune/Prune.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace mlir::microscale::llm {
#define GEN_PASS_DEF_PRUNEMLPPASS
#include "microscale/Dialect/LLM/Transforms/Passes.h.inc"
} // namespace mlir::microscale::llm

using namespace mlir;
using namespace mlir::microscale;
using namespace mlir::microscale::llm;

namespace {

constexpr StringLiteral kPass = "llm-prune-mlp";

/// The `count` channels of least `costs`, ties to the lower index.
std::vector<int64_t> cheapest(const std::vector<double> &costs, int64_t count) {
  std::vector<int64_t> order(costs.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return costs[a] != costs[b] ? costs[a] < costs[b] : a < b;
  });
  order.resize(count);
  return order;
}

struct PruneMLPPass : public llm::impl::PruneMLPPassBase<PruneMLPPass> {
  using PruneMLPPassBase::PruneMLPPassBase;

  void runOnOperation() override;

private:
  LogicalResult parseOptions();
  /// The channels of `op` to remove.
  std::vector<int64_t> chooseRemoved(MLPOp op, ArrayRef<float> up,
                                     ArrayRef<float> gate, ArrayRef<float> down,
                                     int64_t count, const InputGram *gram);
  /// Prunes `op`; with `target` (its down weight in `original`, the float
  /// model) the refit aims at the float model's output.
  LogicalResult prune(MLPOp op, const InputGram *gram, ModuleOp original,
                      Value target);

  std::vector<int64_t> ids;
};

LogicalResult PruneMLPPass::parseOptions() {
  ModuleOp module = getOperation();
  if (!(fraction > 0.0 && fraction < 1.0))
    return module.emitError() << kPass << ": fraction must be in (0, 1), got "
                              << fraction.getValue();
  if (importance != "activation" && importance != "magnitude")
    return module.emitError()
           << kPass << ": importance must be activation or magnitude, got '"
           << importance << "'";
  if (calibration.empty() && importance == "activation")
    return module.emitError()
           << kPass << ": importance=activation is measured on calibration "
           << "text (calibration=FILE or self)";
  if (dampening < 0)
    return module.emitError() << kPass << ": dampening must not be negative";
  return success();
}

std::vector<int64_t> PruneMLPPass::chooseRemoved(MLPOp op, ArrayRef<float> up,
                                                 ArrayRef<float> gate,
                                                 ArrayRef<float> down,
                                                 int64_t count,
                                                 const InputGram *gram) {
  const int64_t inner = op.getIntermediateSize();
  const int64_t hidden = static_cast<int64_t>(down.size()) / inner;
  if (importance == "activation" && gram) {
    std::vector<double> hessian = gram->hessian();
    if (refit)
      return prune::greedyColumnRemoval(down, hidden, inner, hessian, count,
                                        dampening);
    return cheapest(prune::groupRemovalErrors(down, hidden, inner, hessian, 1,
                                              /*compensated=*/false, 0.0),
                    count);
  }
  // Magnitude: the channel's weights in all three projections.
  std::vector<double> norms(inner, 0.0);
  const int64_t cols = static_cast<int64_t>(up.size()) / inner;
  for (int64_t c = 0; c < inner; ++c)
    for (int64_t i = 0; i < cols; ++i) {
      norms[c] += up[c * cols + i] * up[c * cols + i];
      if (!gate.empty())
        norms[c] += gate[c * cols + i] * gate[c * cols + i];
    }
  for (int64_t r = 0; r < hidden; ++r)
    for (int64_t c = 0; c < inner; ++c)
      norms[c] += down[r * inner + c] * down[r * inner + c];
  return cheapest(norms, count);
}

LogicalResult PruneMLPPass::prune(MLPOp op, const InputGram *gram,
                                  ModuleOp original, Value target) {
  const int64_t inner = op.getIntermediateSize();
  const int64_t count =
      std::min<int64_t>(std::llround(fraction * inner), inner - 1);
  if (count <= 0)
    return success();
  FailureOr<std::vector<float>> up =
      readPrunableWeight(op, op.getUpWeight(), kPass);
  if (failed(up))
    return failure();
  std::vector<float> gate;
  if (Value gateWeight = op.getGateWeight()) {
    FailureOr<std::vector<float>> read =
        readPrunableWeight(op, gateWeight, kPass);
    if (failed(read))
      return failure();
    gate = std::move(*read);
  }
  FailureOr<std::vector<float>> down =
      readPrunableWeight(op, op.getDownWeight(), kPass);
  if (failed(down))
    return failure();
  std::vector<float> downBias;
  if (Value bias = op.getDownBias()) {
    FailureOr<std::vector<float>> read = readPrunableWeight(op, bias, kPass);
    if (failed(read))
      return failure();
    downBias = std::move(*read);
  }
  const int64_t hidden = static_cast<int64_t>(down->size()) / inner;

  std::vector<int64_t> removed =
      chooseRemoved(op, *up, gate, *down, count, gram);
  std::vector<bool> isRemoved(inner, false);
  for (int64_t c : removed)
    isRemoved[c] = true;
  std::vector<int64_t> kept;
  for (int64_t c = 0; c < inner; ++c)
    if (!isRemoved[c])
      kept.push_back(c);

  // What the refit toward the float model needs, measured while this MLP
  // is still whole.
  std::optional<TargetStatistics> toward;
  if (target) {
    auto measured =
        measureTowardTarget(getOperation(), op.getDownWeight(), original,
                            target, kept, kPass, ids, calibrationWindow);
    if (failed(measured))
      return failure();
    toward = std::move(*measured);
  }

  // Rows of up and gate (and their biases), then down's refit columns.
  auto sliceRows = [&](Value value) -> LogicalResult {
    if (!value)
      return success();
    FailureOr<std::vector<float>> values = readPrunableWeight(op, value, kPass);
    if (failed(values))
      return failure();
    auto type = cast<RankedTensorType>(value.getType());
    int64_t cols = type.getRank() == 2 ? type.getDimSize(1) : 1;
    SmallVector<int64_t> shape(type.getShape());
    shape[0] = kept.size();
    OpOperand *operand =
        llvm::find_if(op->getOpOperands(),
                      [&](OpOperand &use) { return use.get() == value; });
    replacePrunedWeight(*operand, shape,
                        prune::selectRows(*values, cols, kept));
    return success();
  };
  if (failed(sliceRows(op.getUpWeight())) ||
      failed(sliceRows(op.getUpBias())) ||
      failed(sliceRows(op.getGateWeight())) ||
      failed(sliceRows(op.getGateBias())))
    return failure();
  // Down's kept columns, refit with its bias (a new one when the refit
  // wins and there was none), toward the float model's output when the
  // MLPs go in sequence.
  RepairedProjection repaired;
  if (target) {
    repaired = repairTowardTarget(*down, downBias, hidden, inner, *toward, kept,
                                  refit, dampening);
  } else {
    repaired = repairProjection(*down, downBias, hidden, inner, gram, kept,
                                refit, dampening);
  }
  if (repaired.refit)
    setPrunedBias(op.getDownBias(),
                  op.getDownWeight().getDefiningOp<WeightOp>(), repaired.bias,
                  [&](Value bias) { op.getDownBiasMutable().assign(bias); });
  replacePrunedWeight(op.getDownWeightMutable(),
                      {hidden, static_cast<int64_t>(kept.size())},
                      repaired.weights);
  return success();
}

void PruneMLPPass::runOnOperation() {
  if (failed(parseOptions()))
    return signalPassFailure();
  ModuleOp module = getOperation();
  SmallVector<MLPOp> mlps;
  module.walk([&](MLPOp op) { mlps.push_back(op); });
  if (mlps.empty())
    return;
  std::vector<InputGram> grams;
  if (!calibration.empty() && (importance == "activation" || refit)) {
    auto read =
        getPruningCalibrationIds(module, kPass, calibration, calibrationTokens,
                                 calibrationWindow, modelDir);
    if (failed(read))
      return signalPassFailure();
    ids = std::move(*read);
    SmallVector<Value> downs;
    for (MLPOp op : mlps)
      downs.push_back(op.getDownWeight());
    auto measured =
        measureInputGrams(module, kPass, downs, ids, calibrationWindow);
    if (failed(measured))
      return signalPassFailure();
    grams = std::move(*measured);
  }
  SmallVector<Value> targets(mlps.size());
  OwningOpRef<ModuleOp> original;
  if (sequential && refit && !ids.empty()) {
    original = module.clone();
    size_t index = 0;
    original->walk([&](MLPOp op) { targets[index++] = op.getDownWeight(); });
  }
  for (auto [index, op] : llvm::enumerate(mlps)) {
    const InputGram *gram = nullptr;
    if (index < grams.size() && grams[index].tokens > 0)
      gram = &grams[index];
    if (failed(prune(op, gram, original.get(), targets[index])))
      return signalPassFailure();
  }
}

} // namespace
