//===- LLMModelVerifier.cpp - #llm.model checked against the IR -*- C++ -*-===//
//
// Part of the Microscale project.
//
// The model's facts are recorded once in `#llm.model` for the stages that
// need them without walking the IR (memory planning, the runtime), and this
// verifier keeps that record honest: it runs whenever the module is
// verified, so a pass that prunes a layer or heads and forgets the facts is
// caught right after it runs.
//
// Dialect attribute verifiers run before the ops inside the module are
// verified, so this reads op attributes defensively and leaves malformed ops
// to their own verifiers.
//
//===----------------------------------------------------------------------===//

#include "microscale/Dialect/LLM/IR/LLMOps.h"

#include "mlir/IR/BuiltinOps.h"

using namespace mlir;
using namespace mlir::microscale::llm;

namespace {

/// The static `[rows, columns]` of a 2-D tensor value, or std::nullopt.
std::optional<std::pair<int64_t, int64_t>> matrixShape(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type || type.getRank() != 2 || !type.hasStaticShape())
    return std::nullopt;
  return std::make_pair(type.getDimSize(0), type.getDimSize(1));
}

/// An integer attribute of `op`, or std::nullopt when missing.
std::optional<int64_t> intAttr(Operation *op, StringRef name) {
  if (auto attr = op->getAttrOfType<IntegerAttr>(name))
    return attr.getInt();
  return std::nullopt;
}

class ModelChecker {
public:
  ModelChecker(ModuleOp module, ModelAttr model)
      : module(module), model(model) {}

  LogicalResult check() {
    if (failed(checkSelfConsistent()))
      return failure();
    bool hasComputeOps = false;
    WalkResult result = module.walk([&](Operation *op) {
      if (!isa_and_present<LLMDialect>(op->getDialect()) || isa<WeightOp>(op))
        return WalkResult::advance();
      hasComputeOps = true;
      return succeeded(checkOp(op)) ? WalkResult::advance()
                                    : WalkResult::interrupt();
    });
    if (result.wasInterrupted())
      return failure();
    return hasComputeOps ? checkLayers() : success();
  }

private:
  InFlightDiagnostic error(Operation *at) {
    InFlightDiagnostic diag = module.emitError("#llm.model does not match ");
    if (at)
      diag.attachNote(at->getLoc()) << "see " << at->getName();
    return diag;
  }

  LogicalResult checkSelfConsistent();
  LogicalResult checkOp(Operation *op);
  LogicalResult checkTable(Operation *op, Value table, bool isPositions);
  LogicalResult checkLayers();

  ModuleOp module;
  ModelAttr model;
  /// Attention units by layer, and the largest head counts among them.
  llvm::DenseMap<int64_t, Operation *> units;
  int64_t maxHeads = 0, maxKvHeads = 0;
};

LogicalResult ModelChecker::checkSelfConsistent() {
  auto positive = [&](StringRef name, int64_t value) -> LogicalResult {
    if (value > 0)
      return success();
    return module.emitError("#llm.model ")
           << name << " must be positive, got " << value;
  };
  if (failed(positive("vocab_size", model.getVocabSize())) ||
      failed(positive("hidden_size", model.getHiddenSize())) ||
      failed(positive("num_layers", model.getNumLayers())) ||
      failed(positive("num_heads", model.getNumHeads())) ||
      failed(positive("num_kv_heads", model.getNumKvHeads())) ||
      failed(positive("head_dim", model.getHeadDim())) ||
      failed(positive("max_context", model.getMaxContext())))
    return failure();
  // Each attention unit keeps its heads a multiple of its kv heads; the
  // largest counts over head-pruned layers need not divide each other.
  if (model.getNumKvHeads() > model.getNumHeads())
    return module.emitError("#llm.model num_kv_heads (")
           << model.getNumKvHeads() << ") must not exceed num_heads ("
           << model.getNumHeads() << ")";
  for (auto [name, id] : {std::make_pair("bos_id", model.getBosId()),
                          std::make_pair("eos_id", model.getEosId())})
    if (id < -1 || id >= model.getVocabSize())
      return module.emitError("#llm.model ")
             << name << " " << id
             << " is outside [-1, vocab_size = " << model.getVocabSize() << ")";
  return success();
}

LogicalResult ModelChecker::checkOp(Operation *op) {
  if (auto embedding = dyn_cast<EmbeddingOp>(op))
    return checkTable(op, embedding.getTable(), /*isPositions=*/false);
  if (auto positions = dyn_cast<PositionEmbeddingOp>(op))
    return checkTable(op, positions.getTable(), /*isPositions=*/true);
  if (auto logits = dyn_cast<LogitsOp>(op)) {
    auto shape = matrixShape(logits.getWeight());
    if (shape && (shape->first != model.getVocabSize() ||
                  shape->second != model.getHiddenSize()))
      return error(op) << "the logits weight: it is [" << shape->first << ", "
                       << shape->second
                       << "], expected [vocab_size = " << model.getVocabSize()
                       << ", hidden_size = " << model.getHiddenSize() << "]";
    return success();
  }
  if (isa<MLPOp>(op)) {
    std::optional<int64_t> layer = intAttr(op, "layer");
    if (layer && *layer >= model.getNumLayers())
      return error(op) << "an llm.mlp: its layer " << *layer
                       << " is not below num_layers = " << model.getNumLayers();
    return success();
  }
  if (!isa<AttentionOp, SelfAttentionOp>(op))
    return success();
  std::optional<int64_t> layer = intAttr(op, "layer"),
                         heads = intAttr(op, "num_heads"),
                         kvHeads = intAttr(op, "num_kv_heads"),
                         headDim = intAttr(op, "head_dim");
  if (!layer || !heads || !kvHeads || !headDim)
    return success(); // The op's own verifier reports it.
  if (*headDim != model.getHeadDim())
    return error(op) << "layer " << *layer << ": head_dim " << *headDim
                     << ", but the model says " << model.getHeadDim();
  auto [it, inserted] = units.try_emplace(*layer, op);
  if (!inserted)
    return error(op) << "two attention units claim layer (KV-cache slot) "
                     << *layer;
  maxHeads = std::max(maxHeads, *heads);
  maxKvHeads = std::max(maxKvHeads, *kvHeads);
  return success();
}

LogicalResult ModelChecker::checkTable(Operation *op, Value table,
                                       bool isPositions) {
  auto shape = matrixShape(table);
  if (!shape)
    return success();
  auto [rows, hidden] = *shape;
  if (hidden != model.getHiddenSize())
    return error(op) << (isPositions ? "the position" : "the token")
                     << " embedding table: it has " << hidden
                     << " columns, but hidden_size is "
                     << model.getHiddenSize();
  if (isPositions && rows < model.getMaxContext())
    return error(op) << "the learned position table: max_context "
                     << model.getMaxContext() << " exceeds its " << rows
                     << " rows, so later positions would read past it";
  if (!isPositions && rows < model.getVocabSize())
    return error(op) << "the token embedding table: it has " << rows
                     << " rows, fewer than vocab_size = "
                     << model.getVocabSize();
  return success();
}

LogicalResult ModelChecker::checkLayers() {
  int64_t numLayers = model.getNumLayers();
  if (static_cast<int64_t>(units.size()) != numLayers)
    return error(nullptr) << "the module: num_layers is " << numLayers
                          << " but it has " << units.size()
                          << " attention units";
  for (auto [layer, op] : units)
    if (layer >= numLayers)
      return error(op) << "layer " << layer
                       << " is not below num_layers = " << numLayers;
  if (maxHeads != model.getNumHeads() || maxKvHeads != model.getNumKvHeads())
    return error(nullptr) << "the module: its attention units have at most "
                          << maxHeads << " heads and " << maxKvHeads
                          << " kv heads, but the model says "
                          << model.getNumHeads() << " and "
                          << model.getNumKvHeads();
  return success();
}

} // namespace

LogicalResult LLMDialect::verifyOperationAttribute(Operation *op,
                                                   NamedAttribute attr) {
  if (attr.getName() != kModelAttrName)
    return success();
  auto model = dyn_cast<ModelAttr>(attr.getValue());
  if (!model)
    return op->emitError("'")
           << kModelAttrName << "' must be a #llm.model attribute";
  auto module = dyn_cast<ModuleOp>(op);
  if (!module)
    return op->emitError("'") << kModelAttrName << "' belongs on the module";
  return ModelChecker(module, model).check();
}
