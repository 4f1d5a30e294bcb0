//===- PruneLayers.cpp - remove whole decoder layers ------------*- C++ -*-===//
//
// Part of the Microscale project.
//
// A decoder layer is an attention block and an MLP, each added to the
// residual stream. Bypassing a layer replaces those additions by the stream
// itself; the blocks, and the norms and weights only they used, then go.
// Which layers to bypass is measured: the calibration loss of the model
// without each layer, on the reference interpreter, where zeroing the
// layer's output projections makes both blocks add nothing.
//
//===----------------------------------------------------------------------===//

#include "microscale/Dialect/LLM/Transforms/Passes.h"
#include "microscale/Dialect/LLM/Transforms/Pruning.h"

#include "llvm/ADT/SetVector.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <map>
#include <numeric>

namespace mlir::microscale::llm {
#define GEN_PASS_DEF_PRUNELAYERSPASS
#include "microscale/Dialect/LLM/Transforms/Passes.h.inc"
} // namespace mlir::microscale::llm

using namespace mlir;
using namespace mlir::microscale;
using namespace mlir::microscale::llm;

namespace {

constexpr StringLiteral kPass = "llm-prune-layers";

/// A decoder layer: its attention block and its MLP (if any).
struct Layer {
  SelfAttentionOp attention;
  MLPOp mlp;
  /// Calibration loss of the model without this layer.
  double loss = 0.0;
};

/// The residual addition `op`'s result feeds, and the stream it adds to.
FailureOr<std::pair<AddOp, Value>> residualOf(Operation *op) {
  Value result = op->getResult(0);
  if (!result.hasOneUse())
    return op->emitOpError() << kPass
                             << ": the block's result must feed one residual "
                                "llm.add only",
           failure();
  auto add = dyn_cast<AddOp>(*result.user_begin());
  if (!add)
    return op->emitOpError()
               << kPass << ": the block's result must feed a residual llm.add",
           failure();
  Value stream = add.getLhs() == result ? add.getRhs() : add.getLhs();
  return std::make_pair(add, stream);
}

struct PruneLayersPass
    : public llm::impl::PruneLayersPassBase<PruneLayersPass> {
  using PruneLayersPassBase::PruneLayersPassBase;

  void runOnOperation() override;

private:
  LogicalResult collectLayers();
  LogicalResult rankLayers();
  /// Layer indices by increasing loss without them (ties: lower first).
  std::vector<int64_t> rankedLayers() const;
  void printTable(ArrayRef<int64_t> removed) const;
  LogicalResult removeLayer(Layer &layer);
  /// Renumbers the remaining layers, erases what only the removed ones
  /// used and updates `#llm.model`.
  void renumberAndClean(ArrayRef<int64_t> removed);

  /// By layer index.
  std::map<int64_t, Layer> layers;
  std::vector<int64_t> ids;
  double baseLoss = 0.0;
};

LogicalResult PruneLayersPass::collectLayers() {
  WalkResult result = getOperation().walk([&](Operation *op) {
    if (isa<AttentionOp>(op)) {
      op->emitOpError() << kPass
                        << ": attention outside an llm.self_attention block "
                           "(run llm-form-blocks first)";
      return WalkResult::interrupt();
    }
    if (auto block = dyn_cast<SelfAttentionOp>(op))
      layers[block.getLayer()].attention = block;
    return WalkResult::advance();
  });
  if (result.wasInterrupted())
    return failure();
  // An MLP belongs to its `layer`, or else to the attention block before it.
  int64_t current = -1;
  result = getOperation().walk([&](Operation *op) {
    if (auto block = dyn_cast<SelfAttentionOp>(op))
      current = block.getLayer();
    auto mlp = dyn_cast<MLPOp>(op);
    if (!mlp)
      return WalkResult::advance();
    int64_t layer =
        mlp.getLayer() ? static_cast<int64_t>(*mlp.getLayer()) : current;
    auto it = layers.find(layer);
    if (it == layers.end() || it->second.mlp) {
      mlp.emitOpError() << kPass << ": cannot tell which layer this MLP is in";
      return WalkResult::interrupt();
    }
    it->second.mlp = mlp;
    return WalkResult::advance();
  });
  return failure(result.wasInterrupted());
}

LogicalResult PruneLayersPass::rankLayers() {
  ModuleOp module = getOperation();
  auto read =
      getPruningCalibrationIds(module, kPass, calibration, calibrationTokens,
                               calibrationWindow, modelDir);
  if (failed(read))
    return failure();
  ids = std::move(*read);
  auto interpreter = reference::Interpreter::create(module);
  if (!interpreter)
    return module.emitError()
               << kPass << ": " << llvm::toString(interpreter.takeError()),
           failure();
  auto measure = [&]() -> FailureOr<double> {
    auto loss = measureCalibrationLoss(**interpreter, ids, calibrationWindow);
    if (!loss)
      return module.emitError()
                 << kPass << ": " << llvm::toString(loss.takeError()),
             failure();
    return *loss;
  };
  FailureOr<double> base = measure();
  if (failed(base))
    return failure();
  baseLoss = *base;
  for (auto &[index, layer] : layers) {
    // Zero output projections (and biases): the blocks add nothing.
    SmallVector<Value> outputs = {layer.attention.getOWeight()};
    if (Value bias = layer.attention.getOBias())
      outputs.push_back(bias);
    if (layer.mlp) {
      outputs.push_back(layer.mlp.getDownWeight());
      if (Value bias = layer.mlp.getDownBias())
        outputs.push_back(bias);
    }
    SmallVector<std::vector<float>> saved;
    for (Value output : outputs) {
      int64_t size = cast<RankedTensorType>(output.getType()).getNumElements();
      auto previous =
          (*interpreter)->exchangeWeight(output, std::vector<float>(size));
      if (!previous)
        return layer.attention.emitOpError()
                   << kPass << ": " << llvm::toString(previous.takeError()),
               failure();
      saved.push_back(std::move(*previous));
    }
    FailureOr<double> loss = measure();
    if (failed(loss))
      return failure();
    layer.loss = *loss;
    for (auto [output, values] : llvm::zip(outputs, saved))
      if (auto restored =
              (*interpreter)->exchangeWeight(output, std::move(values));
          !restored)
        return module.emitError()
                   << kPass << ": " << llvm::toString(restored.takeError()),
               failure();
  }
  return success();
}

std::vector<int64_t> PruneLayersPass::rankedLayers() const {
  std::vector<int64_t> order;
  for (const auto &entry : layers)
    order.push_back(entry.first);
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    double lossA = layers.at(a).loss, lossB = layers.at(b).loss;
    return lossA != lossB ? lossA < lossB : a < b;
  });
  return order;
}

void PruneLayersPass::printTable(ArrayRef<int64_t> removed) const {
  llvm::raw_ostream &os = llvm::errs();
  os << llvm::formatv("{0}: calibration loss without each layer (mean nats "
                      "per token over {1} tokens; the full model: {2:f4})\n",
                      kPass, ids.size(), baseLoss);
  os << llvm::formatv("{0,-5} {1,-6} {2,10} {3,10}  {4}\n", "rank", "layer",
                      "loss", "increase", "choice");
  for (auto [rank, index] : llvm::enumerate(rankedLayers())) {
    double loss = layers.at(index).loss;
    os << llvm::formatv("{0,-5} {1,-6} {2,10:f4} {3,10:f4}  {4}\n", rank + 1,
                        index, loss, loss - baseLoss,
                        llvm::is_contained(removed, index) ? "removed"
                                                           : "kept");
  }
}

LogicalResult PruneLayersPass::removeLayer(Layer &layer) {
  SmallVector<Operation *> blocks = {layer.attention};
  if (layer.mlp)
    blocks.push_back(layer.mlp);
  for (Operation *block : blocks) {
    FailureOr<std::pair<AddOp, Value>> residual = residualOf(block);
    if (failed(residual))
      return failure();
    auto [add, stream] = *residual;
    add.getResult().replaceAllUsesWith(stream);
    add.erase();
    block->erase();
  }
  return success();
}

void PruneLayersPass::renumberAndClean(ArrayRef<int64_t> removed) {
  auto shifted = [&](int64_t layer) {
    return layer -
           llvm::count_if(removed, [&](int64_t r) { return r < layer; });
  };
  ModuleOp module = getOperation();
  Builder builder(module.getContext());
  module.walk([&](Operation *op) {
    if (auto block = dyn_cast<SelfAttentionOp>(op))
      block.setLayerAttr(builder.getI64IntegerAttr(shifted(block.getLayer())));
    if (auto mlp = dyn_cast<MLPOp>(op); mlp && mlp.getLayer())
      mlp.setLayerAttr(builder.getI64IntegerAttr(shifted(*mlp.getLayer())));
  });
  // The norms and weights only the removed blocks read are dead now.
  bool erased = true;
  while (erased) {
    erased = false;
    SmallVector<Operation *> dead;
    module.walk([&](Operation *op) {
      if (isa_and_present<LLMDialect>(op->getDialect()) &&
          isOpTriviallyDead(op))
        dead.push_back(op);
    });
    for (Operation *op : dead)
      op->erase();
    erased = !dead.empty();
  }
  if (auto model = module->getAttrOfType<ModelAttr>(kModelAttrName))
    module->setAttr(kModelAttrName,
                    ModelAttr::get(module.getContext(), model.getArch(),
                                   model.getVocabSize(), model.getHiddenSize(),
                                   model.getNumLayers() - removed.size(),
                                   model.getNumHeads(), model.getNumKvHeads(),
                                   model.getHeadDim(), model.getMaxContext(),
                                   model.getBosId(), model.getEosId(),
                                   model.getTokenizer()));
}

void PruneLayersPass::runOnOperation() {
  ModuleOp module = getOperation();
  if ((count > 0) == !layerList.empty()) {
    module.emitError() << kPass
                       << ": give exactly one of count (positive) and layers";
    return signalPassFailure();
  }
  if (failed(collectLayers()))
    return signalPassFailure();
  std::vector<int64_t> removed(layerList.begin(), layerList.end());
  for (int64_t index : removed)
    if (!layers.count(index)) {
      module.emitError() << kPass << ": there is no layer " << index << " (the "
                         << "model has " << layers.size() << ")";
      return signalPassFailure();
    }
  llvm::sort(removed);
  removed.erase(std::unique(removed.begin(), removed.end()), removed.end());
  int64_t wanted = count > 0 ? count.getValue() : removed.size();
  if (wanted >= static_cast<int64_t>(layers.size())) {
    module.emitError() << kPass << ": removing " << wanted << " of "
                       << layers.size() << " layers leaves none";
    return signalPassFailure();
  }
  if (count > 0 || printRanking) {
    if (calibration.empty()) {
      module.emitError() << kPass
                         << ": ranking layers needs calibration text "
                            "(calibration=FILE or self)";
      return signalPassFailure();
    }
    if (failed(rankLayers()))
      return signalPassFailure();
  }
  if (count > 0) {
    std::vector<int64_t> order = rankedLayers();
    removed.assign(order.begin(), order.begin() + count);
    llvm::sort(removed);
  }
  if (printRanking)
    printTable(removed);
  for (int64_t index : removed)
    if (failed(removeLayer(layers[index])))
      return signalPassFailure();
  renumberAndClean(removed);
}

} // namespace
