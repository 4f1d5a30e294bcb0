//===- PruneWeights.cpp - unstructured and N:M weight sparsity --*- C++ -*-===//
//
// Part of the Microscale project.
//
// Zeroes single weights of the linears' matrices (microscale/Prune/
// Sparsity.h does the choosing). The calibrated methods read each matrix's
// input statistics on calibration text, measured on the reference
// interpreter; with `sequential` a layer's statistics come from the model
// whose earlier layers are already pruned, so that each layer compensates
// what the layers before it lost. The weights stay dense: the shapes do not
// change, only values become zero.
//
//===----------------------------------------------------------------------===//

#include "microscale/Dialect/LLM/IR/WeightData.h"
#include "microscale/Dialect/LLM/Transforms/Passes.h"
#include "microscale/Dialect/LLM/Transforms/Pruning.h"
#include "microscale/Prune/Sparsity.h"

#include "llvm/ADT/MapVector.h"
#include "llvm/Support/Format.h"

#include <cmath>
#include <map>

namespace mlir::microscale::llm {
#define GEN_PASS_DEF_PRUNEWEIGHTSPASS
#include "microscale/Dialect/LLM/Transforms/Passes.h.inc"
} // namespace mlir::microscale::llm

using namespace mlir;
using namespace mlir::microscale;
using namespace mlir::microscale::llm;

namespace {

constexpr StringLiteral kPass = "llm-prune-weights";

/// A share as people write it (0.25, not 2.500000e-01).
std::string formatShare(double value) {
  std::string text;
  llvm::raw_string_ostream(text) << llvm::format("%g", value);
  return text;
}

struct PruneWeightsPass
    : public llm::impl::PruneWeightsPassBase<PruneWeightsPass> {
  using PruneWeightsPassBase::PruneWeightsPassBase;

  void runOnOperation() override;

private:
  LogicalResult parseOptions();
  /// The matrices to prune, in program order; errors name a weight that
  /// cannot be pruned.
  LogicalResult planWeights();
  bool calibrated() const {
    return sparsity.method != prune::SparsityMethod::Magnitude;
  }
  /// Prunes `weight` from the statistics of its input (null for
  /// magnitude) and returns its new values.
  FailureOr<std::vector<float>>
  pruneWeight(WeightOp weight, const quant::InputStatistics *stats);
  /// Replaces every planned weight by its pruned values.
  void commit();
  /// Each matrix from the float model's statistics.
  LogicalResult pruneOneShot(std::vector<InputGroup> &groups);
  /// Layer by layer, each from statistics of the model pruned so far.
  LogicalResult pruneSequentially(std::vector<InputGroup> &groups);

  prune::SparsityOptions sparsity;
  std::vector<int64_t> ids;
  /// Planned weights and, once pruned, their values.
  llvm::MapVector<Operation *, std::vector<float>> plan;
};

LogicalResult PruneWeightsPass::parseOptions() {
  ModuleOp module = getOperation();
  std::optional<prune::SparsityMethod> parsedMethod =
      prune::parseSparsityMethod(method);
  if (!parsedMethod)
    return module.emitError()
           << kPass << ": method must be magnitude, wanda or sparsegpt, got '"
           << method << "'";
  sparsity.method = *parsedMethod;
  if (!pattern.empty()) {
    auto parsed = prune::parseNMPattern(pattern);
    if (!parsed)
      return module.emitError()
             << kPass << ": " << llvm::toString(parsed.takeError());
    sparsity.pattern = *parsed;
    if (fraction != 0.0 &&
        std::fabs(fraction - sparsity.pattern.sparsity()) > 1e-9)
      return module.emitError()
             << kPass << ": fraction " << formatShare(fraction)
             << " does not match pattern " << pattern << ", which prunes "
             << formatShare(sparsity.pattern.sparsity())
             << " (give one or the other)";
  } else if (!(fraction > 0.0 && fraction < 1.0)) {
    return module.emitError() << kPass << ": fraction must be in (0, 1), got "
                              << formatShare(fraction);
  }
  sparsity.fraction = fraction;
  if (scope != "row" && scope != "matrix")
    return module.emitError()
           << kPass << ": scope must be row or matrix, got '" << scope << "'";
  sparsity.scope =
      scope == "row" ? prune::SparsityScope::Row : prune::SparsityScope::Matrix;
  if (weights != "linears" && weights != "all")
    return module.emitError()
           << kPass << ": weights must be linears or all, got '" << weights
           << "'";
  if (dampening < 0)
    return module.emitError() << kPass << ": dampening must not be negative";
  if (blockSize < 1)
    return module.emitError() << kPass << ": block-size must be positive";
  sparsity.dampening = dampening;
  sparsity.blockSize = blockSize;
  if (calibrated() && calibration.empty())
    return module.emitError()
           << kPass << ": method=" << method
           << " weighs weights by their inputs on calibration text "
              "(calibration=FILE or self); method=magnitude needs none";
  return success();
}

LogicalResult PruneWeightsPass::planWeights() {
  for (WeightRef ref : findWeights(getOperation(), {}, std::nullopt)) {
    WeightRole role = ref.use.role;
    if (!isLayerMatrixRole(role) &&
        !(weights == "all" && role == WeightRole::Logits))
      continue;
    WeightOp weight = getWeightOp(ref.use);
    if (!weight)
      return ref.user->emitOpError()
             << kPass << ": a weight operand is not an llm.weight";
    if (plan.count(weight))
      continue;
    if (Attribute encoding = weight.getEncoding())
      return ref.user->emitOpError()
             << kPass << ": weight '" << weight.getName() << "' is "
             << (isa<QuantAttr>(encoding) ? "quantized" : "sparse") << " ("
             << encoding
             << "); pruning runs on float weights, before quantization";
    RankedTensorType type = weight.getType();
    if (type.getRank() != 2 || !type.hasStaticShape())
      return weight.emitOpError()
             << kPass << ": '" << weight.getName()
             << "' is not a static 2-D matrix (" << type << ")";
    plan.insert({weight, {}});
  }
  return success();
}

FailureOr<std::vector<float>>
PruneWeightsPass::pruneWeight(WeightOp weight,
                              const quant::InputStatistics *stats) {
  auto values = readWeightValues(weight);
  if (!values)
    return weight.emitOpError()
               << kPass << ": " << llvm::toString(values.takeError()),
           failure();
  RankedTensorType type = weight.getType();
  const int64_t rows = type.getDimSize(0), cols = type.getDimSize(1);
  if (calibrated()) {
    if (!stats || stats->tokens == 0)
      return weight.emitOpError() << kPass << ": no calibration token reached '"
                                  << weight.getName() << "'",
             failure();
    if (llvm::Error error = quant::verifyStatistics(*stats, cols))
      return weight.emitOpError() << kPass << ": '" << weight.getName()
                                  << "': " << llvm::toString(std::move(error)),
             failure();
  }
  return prune::sparsify(*values, rows, cols, sparsity, stats).weights;
}

void PruneWeightsPass::commit() {
  for (auto &[op, values] : plan) {
    auto weight = cast<WeightOp>(op);
    WeightOp pruned =
        createPrunedWeight(weight, weight.getType().getShape(), values);
    weight.replaceAllUsesWith(pruned.getResult());
    weight.erase();
  }
}

LogicalResult PruneWeightsPass::pruneOneShot(std::vector<InputGroup> &groups) {
  ModuleOp module = getOperation();
  if (calibrated())
    if (llvm::Error error =
            collectInputStatistics(module, ids, calibrationWindow, groups))
      return module.emitError()
             << kPass << ": calibration: " << llvm::toString(std::move(error));
  llvm::DenseMap<Operation *, const quant::InputStatistics *> statsOf;
  for (InputGroup &group : groups)
    for (WeightOp weight : group.weights)
      statsOf.try_emplace(weight, &group.stats);
  for (auto &[op, values] : plan) {
    FailureOr<std::vector<float>> pruned =
        pruneWeight(cast<WeightOp>(op), statsOf.lookup(op));
    if (failed(pruned))
      return failure();
    values = std::move(*pruned);
  }
  return success();
}

LogicalResult
PruneWeightsPass::pruneSequentially(std::vector<InputGroup> &groups) {
  ModuleOp module = getOperation();
  auto interpreter = reference::Interpreter::create(module);
  if (!interpreter)
    return module.emitError()
           << kPass << ": " << llvm::toString(interpreter.takeError());
  // Stages: one per layer in order, then the matrices outside the layers.
  std::map<int64_t, SmallVector<InputGroup *>> stages;
  for (InputGroup &group : groups) {
    std::optional<int64_t> layer =
        cast<WeightUserOpInterface>(group.user).getWeightLayer();
    stages[layer.value_or(std::numeric_limits<int64_t>::max())].push_back(
        &group);
  }
  const int64_t window = std::min<int64_t>(
      std::max<int64_t>(1, calibrationWindow), (*interpreter)->maxContext());
  for (auto &[layer, stage] : stages) {
    // The stage's inputs in the model pruned so far: the first matrix of a
    // group stands for the group.
    llvm::DenseMap<Value, InputGroup *> leaders;
    for (InputGroup *group : stage) {
      group->stats = quant::InputStatistics();
      leaders.try_emplace(group->weights.front().getResult(), group);
    }
    (*interpreter)
        ->setLinearObserver(
            [&](Value weight, ArrayRef<float> input, int64_t rows, int64_t in) {
              if (InputGroup *group = leaders.lookup(weight)) {
                group->stats.cols = in;
                quant::accumulateStatistics(group->stats, input, rows);
              }
            });
    for (size_t first = 0; first < ids.size(); first += window) {
      (*interpreter)->reset();
      auto logits =
          (*interpreter)
              ->forward(ArrayRef<int64_t>(ids).slice(
                  first, std::min<size_t>(window, ids.size() - first)));
      if (!logits)
        return module.emitError()
               << kPass
               << ": calibration: " << llvm::toString(logits.takeError());
    }
    for (InputGroup *group : stage)
      for (WeightOp weight : group->weights) {
        auto it = plan.find(weight);
        if (it == plan.end() || !it->second.empty())
          continue;
        FailureOr<std::vector<float>> pruned =
            pruneWeight(weight, &group->stats);
        if (failed(pruned))
          return failure();
        it->second = *pruned;
        auto exchanged =
            (*interpreter)
                ->exchangeWeight(weight.getResult(), std::move(*pruned));
        if (!exchanged)
          return module.emitError()
                 << kPass << ": " << llvm::toString(exchanged.takeError());
      }
  }
  // A planned matrix no group reads (none in a well-formed model) is an
  // error, as in one-shot pruning.
  for (auto &[op, values] : plan)
    if (values.empty())
      return op->emitOpError() << kPass << ": no calibration token reached '"
                               << cast<WeightOp>(op).getName() << "'";
  return success();
}

void PruneWeightsPass::runOnOperation() {
  if (failed(parseOptions()) || failed(planWeights()))
    return signalPassFailure();
  if (plan.empty())
    return;
  ModuleOp module = getOperation();
  std::vector<InputGroup> groups;
  if (calibrated()) {
    auto read =
        getPruningCalibrationIds(module, kPass, calibration, calibrationTokens,
                                 calibrationWindow, modelDir);
    if (failed(read))
      return signalPassFailure();
    ids = std::move(*read);
    groups = findInputGroups(module);
  }
  if (calibrated() && sequential ? failed(pruneSequentially(groups))
                                 : failed(pruneOneShot(groups)))
    return signalPassFailure();
  commit();
}

} // namespace
