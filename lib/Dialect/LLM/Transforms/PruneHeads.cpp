//===- PruneHeads.cpp - remove query heads of attention blocks --*- C++ -*-===//
//
// Part of the Microscale project.
//
// A query head is rows of Q, columns of O and, once every query head of a kv
// group is gone, rows of K and V: all inside one llm.self_attention. The
// pass scores each head (by the calibration loss without it, by the output
// error its removal leaves, or by weight magnitude), picks the heads to
// remove under grouped-query attention's equal-group constraint
// (microscale/Prune), slices the projections and refits O's kept columns on
// calibration statistics so that the block still produces what the
// unpruned one did.
//
//===----------------------------------------------------------------------===//

#include "microscale/Dialect/LLM/Transforms/Passes.h"
#include "microscale/Dialect/LLM/Transforms/Pruning.h"
#include "microscale/Prune/Prune.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <limits>

namespace mlir::microscale::llm {
#define GEN_PASS_DEF_PRUNEHEADSPASS
#include "microscale/Dialect/LLM/Transforms/Passes.h.inc"
} // namespace mlir::microscale::llm

using namespace mlir;
using namespace mlir::microscale;
using namespace mlir::microscale::llm;

namespace {

constexpr StringLiteral kPass = "llm-prune-heads";

/// One attention block, its float projections and what its heads are worth.
struct Unit {
  SelfAttentionOp op;
  int64_t layer = 0, heads = 0, kvHeads = 0, headDim = 0, hidden = 0;
  std::vector<float> q, o, oBias;
  /// O's input statistics: with the constant column (null without
  /// calibration), and H alone.
  const InputGram *gram = nullptr;
  std::vector<double> hessian;
  /// Per query head: what removing it costs (higher: more important).
  std::vector<double> costs;
  /// Measured: for each number of heads removed, the heads kept and the
  /// loss increase (infinity where the kv groups allow no such shape).
  std::vector<std::vector<int64_t>> shapeKept;
  std::vector<double> shapeCosts;
  std::vector<int64_t> kept;

  int64_t width() const { return heads * headDim; }
};

/// The columns of every head but `removed`.
std::vector<int64_t> columnsWithout(const Unit &unit, int64_t removed) {
  std::vector<int64_t> heads;
  for (int64_t h = 0; h < unit.heads; ++h)
    if (h != removed)
      heads.push_back(h);
  return prune::expandGroups(heads, unit.headDim);
}

struct PruneHeadsPass : public llm::impl::PruneHeadsPassBase<PruneHeadsPass> {
  using PruneHeadsPassBase::PruneHeadsPassBase;

  void runOnOperation() override;

private:
  LogicalResult parseOptions();
  LogicalResult collectUnits();
  LogicalResult calibrate();
  LogicalResult scoreByLoss();
  /// The measured cost of each layer's shapes (global scope).
  LogicalResult measureShapes(reference::Interpreter &interpreter,
                              llvm::function_ref<FailureOr<double>()> measure);
  void score();
  /// O with `kept` columns repaired, the others zero (full width): the
  /// model without the other heads, for the interpreter.
  std::vector<float> repairedFullWidth(const Unit &unit,
                                       ArrayRef<int64_t> kept) const;
  void select();
  /// Rewrites `unit`'s block; O is refit toward `target` when given, else
  /// on the float model's statistics.
  LogicalResult rewrite(Unit &unit, const TargetStatistics *target);
  /// Rewrites every block, refitting layer by layer toward the float model
  /// with `sequential`.
  LogicalResult rewriteAll();
  void printTable() const;

  std::vector<Unit> units;
  std::vector<int64_t> ids;
  std::vector<InputGram> grams;
};

LogicalResult PruneHeadsPass::parseOptions() {
  ModuleOp module = getOperation();
  if ((fraction > 0) == (count > 0))
    return module.emitError() << kPass
                              << ": give exactly one of fraction and count "
                                 "(positive)";
  if (fraction >= 1.0)
    return module.emitError() << kPass << ": fraction must be below 1, got "
                              << fraction.getValue();
  if (scope != "global" && scope != "layer")
    return module.emitError()
           << kPass << ": scope must be global or layer, got '" << scope << "'";
  if (importance != "loss" && importance != "activation" &&
      importance != "magnitude")
    return module.emitError()
           << kPass << ": importance must be loss, activation or magnitude, "
           << "got '" << importance << "'";
  if (calibration.empty() && importance != "magnitude")
    return module.emitError()
           << kPass << ": importance=" << importance
           << " is measured on calibration text (calibration=FILE or self)";
  if (dampening < 0)
    return module.emitError() << kPass << ": dampening must not be negative";
  return success();
}

LogicalResult PruneHeadsPass::collectUnits() {
  WalkResult result = getOperation().walk([&](Operation *op) {
    if (isa<AttentionOp>(op)) {
      op->emitOpError() << kPass
                        << ": attention outside an llm.self_attention block "
                           "(run llm-form-blocks first)";
      return WalkResult::interrupt();
    }
    auto block = dyn_cast<SelfAttentionOp>(op);
    if (!block)
      return WalkResult::advance();
    Unit unit;
    unit.op = block;
    unit.layer = block.getLayer();
    unit.heads = block.getNumHeads();
    unit.kvHeads = block.getNumKvHeads();
    unit.headDim = block.getHeadDim();
    unit.hidden =
        cast<RankedTensorType>(block.getQWeight().getType()).getDimSize(1);
    // K and V are checked here, read when they are sliced.
    for (Value weight : {block.getKWeight(), block.getVWeight()})
      if (failed(readPrunableWeight(block, weight, kPass)))
        return WalkResult::interrupt();
    FailureOr<std::vector<float>> q =
        readPrunableWeight(block, block.getQWeight(), kPass);
    if (failed(q))
      return WalkResult::interrupt();
    FailureOr<std::vector<float>> o =
        readPrunableWeight(block, block.getOWeight(), kPass);
    if (failed(o))
      return WalkResult::interrupt();
    unit.q = std::move(*q);
    unit.o = std::move(*o);
    if (Value bias = block.getOBias()) {
      FailureOr<std::vector<float>> read =
          readPrunableWeight(block, bias, kPass);
      if (failed(read))
        return WalkResult::interrupt();
      unit.oBias = std::move(*read);
    }
    units.push_back(std::move(unit));
    return WalkResult::advance();
  });
  return failure(result.wasInterrupted());
}

LogicalResult PruneHeadsPass::calibrate() {
  ModuleOp module = getOperation();
  auto read =
      getPruningCalibrationIds(module, kPass, calibration, calibrationTokens,
                               calibrationWindow, modelDir);
  if (failed(read))
    return failure();
  ids = std::move(*read);
  SmallVector<Value> outputs;
  for (Unit &unit : units)
    outputs.push_back(unit.op.getOWeight());
  auto measured =
      measureInputGrams(module, kPass, outputs, ids, calibrationWindow);
  if (failed(measured))
    return failure();
  grams = std::move(*measured);
  for (auto [unit, gram] : llvm::zip(units, grams)) {
    if (gram.tokens == 0)
      continue;
    unit.gram = &gram;
    unit.hessian = gram.hessian();
  }
  return success();
}

std::vector<float>
PruneHeadsPass::repairedFullWidth(const Unit &unit,
                                  ArrayRef<int64_t> kept) const {
  // Without the bias column: the interpreter swaps O only.
  std::vector<float> repaired =
      unit.gram ? prune::pruneColumns(unit.o, unit.hidden, unit.width(),
                                      unit.hessian, kept, refit, dampening)
                      .weights
                : prune::selectColumns(unit.o, unit.hidden, unit.width(), kept);
  std::vector<float> full(unit.o.size(), 0.0f);
  const int64_t k = kept.size();
  for (int64_t r = 0; r < unit.hidden; ++r)
    for (int64_t j = 0; j < k; ++j)
      full[r * unit.width() + kept[j]] = repaired[r * k + j];
  return full;
}

LogicalResult PruneHeadsPass::scoreByLoss() {
  ModuleOp module = getOperation();
  auto interpreter = reference::Interpreter::create(module);
  if (!interpreter)
    return module.emitError()
               << kPass << ": " << llvm::toString(interpreter.takeError()),
           failure();
  // The loss increase is measured as the KL divergence from the float
  // model: its expectation on the float model's text, with less noise.
  auto reference =
      measureLogProbabilities(**interpreter, ids, calibrationWindow);
  if (!reference)
    return module.emitError()
               << kPass << ": " << llvm::toString(reference.takeError()),
           failure();
  auto measure = [&]() -> FailureOr<double> {
    auto loss =
        measureDivergence(**interpreter, ids, calibrationWindow, *reference);
    if (!loss)
      return module.emitError()
                 << kPass << ": " << llvm::toString(loss.takeError()),
             failure();
    return *loss;
  };
  for (Unit &unit : units) {
    Value o = unit.op.getOWeight();
    for (int64_t h = 0; h < unit.heads; ++h) {
      auto previous =
          (*interpreter)
              ->exchangeWeight(
                  o, repairedFullWidth(unit, columnsWithout(unit, h)));
      if (!previous)
        return unit.op.emitOpError()
                   << kPass << ": " << llvm::toString(previous.takeError()),
               failure();
      FailureOr<double> loss = measure();
      if (failed(loss))
        return failure();
      unit.costs.push_back(*loss);
      if (auto restored = (*interpreter)->exchangeWeight(o, *previous);
          !restored)
        return unit.op.emitOpError()
                   << kPass << ": " << llvm::toString(restored.takeError()),
               failure();
    }
  }
  return scope == "global" ? measureShapes(**interpreter, measure) : success();
}

LogicalResult
PruneHeadsPass::measureShapes(reference::Interpreter &interpreter,
                              llvm::function_ref<FailureOr<double>()> measure) {
  // Heads of one layer interact (they share O and its refit), so the
  // additive per-head costs only propose each shape's heads; the cost of
  // the shape is measured. Across layers the costs are taken to add up.
  for (Unit &unit : units) {
    unit.shapeKept = prune::cheapestKeptHeads(
        {unit.kvHeads, unit.heads / unit.kvHeads, unit.costs});
    unit.shapeCosts.assign(unit.shapeKept.size(),
                           std::numeric_limits<double>::infinity());
    unit.shapeCosts[0] = 0.0;
    Value o = unit.op.getOWeight();
    for (size_t removed = 1; removed < unit.shapeKept.size(); ++removed) {
      if (unit.shapeKept[removed].empty())
        continue;
      auto previous = interpreter.exchangeWeight(
          o,
          repairedFullWidth(unit, prune::expandGroups(unit.shapeKept[removed],
                                                      unit.headDim)));
      if (!previous)
        return unit.op.emitOpError()
                   << kPass << ": " << llvm::toString(previous.takeError()),
               failure();
      FailureOr<double> loss = measure();
      if (failed(loss))
        return failure();
      unit.shapeCosts[removed] = *loss;
      if (auto restored = interpreter.exchangeWeight(o, *previous); !restored)
        return unit.op.emitOpError()
                   << kPass << ": " << llvm::toString(restored.takeError()),
               failure();
    }
  }
  return success();
}

void PruneHeadsPass::score() {
  for (Unit &unit : units) {
    if (importance == "activation" && unit.gram) {
      unit.costs = prune::groupRemovalErrors(unit.o, unit.hidden, unit.width(),
                                             unit.hessian, unit.headDim,
                                             /*compensated=*/refit, dampening);
      continue;
    }
    // Magnitude (also the fallback of a block calibration never reached):
    // the squared norm of the head's query rows and output columns.
    unit.costs.assign(unit.heads, 0.0);
    for (int64_t i = 0; i < unit.width() * unit.hidden; ++i) {
      int64_t head = i / (unit.headDim * unit.hidden);
      unit.costs[head] += unit.q[i] * unit.q[i];
    }
    for (int64_t i = 0; i < unit.width() * unit.hidden; ++i) {
      int64_t head = (i % unit.width()) / unit.headDim;
      unit.costs[head] += unit.o[i] * unit.o[i];
    }
  }
}

void PruneHeadsPass::select() {
  std::vector<prune::LayerHeads> layers;
  int64_t total = 0;
  for (const Unit &unit : units) {
    layers.push_back({unit.kvHeads, unit.heads / unit.kvHeads, unit.costs});
    total += unit.heads;
  }
  prune::HeadSelection selection;
  int64_t wanted =
      count > 0 ? count.getValue() : std::llround(fraction * total);
  if (scope == "global" && importance == "loss") {
    std::vector<std::vector<double>> costs;
    for (const Unit &unit : units)
      costs.push_back(unit.shapeCosts);
    std::vector<int64_t> removals = prune::allocateRemovals(costs, wanted);
    for (auto [unit, removed] : llvm::zip(units, removals))
      selection.push_back(unit.shapeKept[removed]);
  } else if (scope == "global") {
    selection = prune::selectHeadsGlobally(layers, wanted);
  } else {
    std::vector<int64_t> perLayer;
    for (const Unit &unit : units)
      perLayer.push_back(count > 0 ? count.getValue()
                                   : std::llround(fraction * unit.heads));
    selection = prune::selectHeadsPerLayer(layers, perLayer);
  }
  for (size_t i = 0; i < units.size(); ++i)
    units[i].kept = std::move(selection[i]);
}

LogicalResult PruneHeadsPass::rewriteAll() {
  ModuleOp module = getOperation();
  bool towardTarget = sequential && refit && !ids.empty();
  OwningOpRef<ModuleOp> original;
  SmallVector<Value> originalOutputs;
  if (towardTarget) {
    original = module.clone();
    original->walk([&](SelfAttentionOp op) {
      originalOutputs.push_back(op.getOWeight());
    });
  }
  for (auto [index, unit] : llvm::enumerate(units)) {
    if (static_cast<int64_t>(unit.kept.size()) == unit.heads)
      continue;
    std::optional<TargetStatistics> target;
    if (towardTarget) {
      auto measured = measureTowardTarget(
          module, unit.op.getOWeight(), *original, originalOutputs[index],
          prune::expandGroups(unit.kept, unit.headDim), kPass, ids,
          calibrationWindow);
      if (failed(measured))
        return failure();
      target = std::move(*measured);
    }
    if (failed(rewrite(unit, target ? &*target : nullptr)))
      return failure();
  }
  return success();
}

LogicalResult PruneHeadsPass::rewrite(Unit &unit,
                                      const TargetStatistics *target) {
  SelfAttentionOp op = unit.op;
  const int64_t perGroup = unit.heads / unit.kvHeads;
  std::vector<int64_t> keptGroups;
  for (int64_t head : unit.kept)
    if (keptGroups.empty() || keptGroups.back() != head / perGroup)
      keptGroups.push_back(head / perGroup);
  std::vector<int64_t> queryRows = prune::expandGroups(unit.kept, unit.headDim);
  std::vector<int64_t> kvRows = prune::expandGroups(keptGroups, unit.headDim);

  // Rows of Q, K, V and their biases.
  auto sliceRows = [&](Value value, ArrayRef<int64_t> rows) -> LogicalResult {
    if (!value)
      return success();
    FailureOr<std::vector<float>> values = readPrunableWeight(op, value, kPass);
    if (failed(values))
      return failure();
    auto type = cast<RankedTensorType>(value.getType());
    int64_t cols = type.getRank() == 2 ? type.getDimSize(1) : 1;
    SmallVector<int64_t> shape(type.getShape());
    shape[0] = rows.size();
    OpOperand *operand =
        llvm::find_if(op->getOpOperands(),
                      [&](OpOperand &use) { return use.get() == value; });
    replacePrunedWeight(*operand, shape,
                        prune::selectRows(*values, cols, rows));
    return success();
  };
  if (failed(sliceRows(op.getQWeight(), queryRows)) ||
      failed(sliceRows(op.getQBias(), queryRows)) ||
      failed(sliceRows(op.getKWeight(), kvRows)) ||
      failed(sliceRows(op.getKBias(), kvRows)) ||
      failed(sliceRows(op.getVWeight(), kvRows)) ||
      failed(sliceRows(op.getVBias(), kvRows)))
    return failure();

  // Columns of O, refit with its bias on the calibration statistics; a
  // block without a bias gets one when the refit wins.
  RepairedProjection o =
      target ? repairTowardTarget(unit.o, unit.oBias, unit.hidden, unit.width(),
                                  *target, queryRows, refit, dampening)
             : repairProjection(unit.o, unit.oBias, unit.hidden, unit.width(),
                                unit.gram, queryRows, refit, dampening);
  auto oWeight = op.getOWeight().getDefiningOp<WeightOp>();
  if (o.refit)
    setPrunedBias(op.getOBias(), oWeight, o.bias,
                  [&](Value bias) { op.getOBiasMutable().assign(bias); });
  replacePrunedWeight(op.getOWeightMutable(),
                      {unit.hidden, static_cast<int64_t>(queryRows.size())},
                      o.weights);
  OpBuilder builder(op);
  op.setNumHeadsAttr(builder.getI64IntegerAttr(unit.kept.size()));
  op.setNumKvHeadsAttr(builder.getI64IntegerAttr(keptGroups.size()));
  return success();
}

void PruneHeadsPass::printTable() const {
  llvm::raw_ostream &os = llvm::errs();
  os << kPass << ": importance = ";
  if (importance == "loss")
    os << llvm::formatv("loss increase without the head (mean KL divergence "
                        "from the float model, nats/token over {0} "
                        "calibration tokens)",
                        ids.size());
  else if (importance == "activation")
    os << "output error of the block without the head";
  else
    os << "squared weight norm of the head";
  os << "\n";
  os << llvm::formatv("{0,-6} {1,-5} {2,-8} {3,14}  {4}\n", "layer", "head",
                      "kv group", "importance", "choice");
  for (const Unit &unit : units)
    for (int64_t h = 0; h < unit.heads; ++h) {
      bool kept = llvm::is_contained(unit.kept, h);
      os << llvm::formatv("{0,-6} {1,-5} {2,-8} {3,14:e3}  {4}\n", unit.layer,
                          h, h / (unit.heads / unit.kvHeads), unit.costs[h],
                          kept ? "kept" : "removed");
    }
  if (units.empty() || units.front().shapeCosts.empty())
    return;
  os << kPass << ": measured loss increase of each layer's shapes (the "
     << "heads the per-head costs propose for each count)\n";
  os << llvm::formatv("{0,-6} {1,-8} {2,14}  {3}\n", "layer", "removed",
                      "loss increase", "choice");
  for (const Unit &unit : units)
    for (size_t removed = 1; removed < unit.shapeCosts.size(); ++removed)
      if (!unit.shapeKept[removed].empty())
        os << llvm::formatv(
            "{0,-6} {1,-8} {2,14:e3}  {3}\n", unit.layer, removed,
            unit.shapeCosts[removed],
            unit.heads - static_cast<int64_t>(unit.kept.size()) ==
                    static_cast<int64_t>(removed)
                ? "chosen"
                : "");
}

void PruneHeadsPass::runOnOperation() {
  if (failed(parseOptions()) || failed(collectUnits()))
    return signalPassFailure();
  if (units.empty())
    return;
  bool measure = !calibration.empty() && (importance != "magnitude" || refit);
  if (measure && failed(calibrate()))
    return signalPassFailure();
  if (importance == "loss") {
    if (failed(scoreByLoss()))
      return signalPassFailure();
  } else {
    score();
  }
  select();
  if (printRanking)
    printTable();
  if (failed(rewriteAll()))
    return signalPassFailure();
  updateModelHeads(getOperation());
}

} // namespace
