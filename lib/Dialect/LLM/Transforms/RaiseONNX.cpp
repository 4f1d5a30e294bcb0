//===- RaiseONNX.cpp - raise onnx-level graphs to the llm dialect -*- C++
//-*-===//
//
// Part of the Microscale project.
//
// Runs the raising patterns to a fixed point, then gives the entry function
// the llm calling convention: `(input_ids) -> logits`. Past key/value inputs
// and present outputs disappear because `llm.attention` owns the KV cache;
// attention_mask and position_ids disappear because positions are implicit
// (the raised model serves one unpadded sequence). Finally the pass records
// the model's facts in `#llm.model`.
//
//===----------------------------------------------------------------------===//

#include "RaiseONNX.h"
#include "microscale/Dialect/LLM/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

namespace mlir::microscale::llm {
#define GEN_PASS_DEF_RAISEONNXPASS
#include "microscale/Dialect/LLM/Transforms/Passes.h.inc"
} // namespace mlir::microscale::llm

using namespace mlir;
using namespace mlir::microscale;
using namespace mlir::microscale::llm;

namespace {

/// Erases side-effect-free ops whose results are unused, until none is left.
void eraseDeadOps(Block &block) {
  bool changed = true;
  while (changed) {
    changed = false;
    for (Operation &op : llvm::make_early_inc_range(llvm::reverse(block)))
      if (isOpTriviallyDead(&op)) {
        op.erase();
        changed = true;
      }
  }
}

StringRef nameOf(FunctionOpInterface func, unsigned index, bool isResult) {
  StringAttr name =
      isResult ? func.getResultAttrOfType<StringAttr>(index, "onnx.name")
               : func.getArgAttrOfType<StringAttr>(index, "onnx.name");
  return name ? name.getValue() : StringRef();
}

/// Largest context a precomputed square causal mask allows, or 0.
int64_t inferMaxContext(func::FuncOp func) {
  int64_t maxContext = 0;
  func.walk([&](onnx::ConstantOp op) {
    auto type = op.getType();
    if (type.getRank() == 4 && type.getDimSize(0) == 1 &&
        type.getDimSize(1) == 1 && type.getDimSize(2) == type.getDimSize(3) &&
        type.getDimSize(2) > 1)
      maxContext = std::max(maxContext, type.getDimSize(2));
  });
  return maxContext;
}

/// Reports the onnx-level node that raising left, if any: the one nearest to
/// the raised part (whose result feeds an llm op or the output, the root of
/// what was missed), else the last one.
LogicalResult reportUnraisedNode(func::FuncOp func) {
  auto feedsRaised = [](Operation *node) {
    return llvm::any_of(node->getUsers(), [](Operation *user) {
      return !isa<onnx::NodeOp>(user);
    });
  };
  onnx::NodeOp leftover;
  func.walk([&](onnx::NodeOp node) {
    if (!leftover || (feedsRaised(node) && !feedsRaised(leftover)))
      leftover = node;
  });
  if (!leftover)
    return success();
  std::string users;
  for (Operation *user : leftover->getUsers()) {
    if (auto node = dyn_cast<onnx::NodeOp>(user))
      users = "node '" + node.getName().str() + "' (" + node.getOpType().str() +
              ")";
    else
      users = user->getName().getStringRef().str();
    break;
  }
  return leftover.emitError("node '")
         << leftover.getName() << "' (" << leftover.getOpType()
         << ") is not part of any recognized subgraph (embedding, norm, "
            "projection, rotary embedding, attention, MLP, residual)"
         << (users.empty() ? "" : "; it feeds " + users);
}

struct RaiseONNXPass : public llm::impl::RaiseONNXPassBase<RaiseONNXPass> {
  using RaiseONNXPassBase::RaiseONNXPassBase;

  void runOnOperation() override;
  LogicalResult finalize(func::FuncOp func);
  LogicalResult recordModel(func::FuncOp func, EmbeddingOp embedding,
                            LogitsOp logits);

  int64_t maxContextFromGraph = 0;
  /// Subgraphs refused because of a constant, reported when they stay.
  RaiseRejections rejections;
};

void RaiseONNXPass::runOnOperation() {
  ModuleOp module = getOperation();
  SmallVector<func::FuncOp> funcs(module.getOps<func::FuncOp>());
  if (allowPartial) {
    // Only the patterns: what they leave is kept for inspection.
    for (func::FuncOp func : funcs) {
      RewritePatternSet patterns(&getContext());
      populateRaiseONNXPatterns(patterns);
      if (failed(applyPatternsAndFoldGreedily(func, std::move(patterns))))
        return signalPassFailure();
    }
    return;
  }
  if (funcs.size() != 1) {
    module.emitError("expected one entry function, found ") << funcs.size();
    return signalPassFailure();
  }
  func::FuncOp func = funcs.front();
  int64_t graphMaxContext = inferMaxContext(func);

  RewritePatternSet patterns(&getContext());
  populateRaiseONNXPatterns(patterns, &rejections);
  GreedyRewriteConfig config;
  config.maxIterations = 32;
  if (failed(applyPatternsAndFoldGreedily(func, std::move(patterns), config))) {
    func.emitError("raising did not converge");
    return signalPassFailure();
  }
  if (graphMaxContext)
    maxContextFromGraph = graphMaxContext;
  if (failed(finalize(func)))
    return signalPassFailure();
}

LogicalResult RaiseONNXPass::finalize(func::FuncOp func) {
  MLIRContext *context = &getContext();
  Block &body = func.getBody().front();
  auto returnOp = cast<func::ReturnOp>(body.getTerminator());
  OpBuilder builder(returnOp);

  // The logits output: named "logits", else the first output.
  unsigned logitsIndex = 0;
  for (unsigned i = 0; i < func.getNumResults(); ++i)
    if (nameOf(func, i, true) == "logits")
      logitsIndex = i;
  if (func.getNumResults() == 0)
    return func.emitError("the graph has no outputs");
  // Exporters may end with a float->float Cast of the logits.
  Value logits = skipNoOps(returnOp.getOperand(logitsIndex));

  // Raised token embedding: its table may be the tied classifier.
  EmbeddingOp embedding;
  func.walk([&](EmbeddingOp op) {
    if (!embedding)
      embedding = op;
  });
  if (!embedding) {
    (void)rejections.report(func);
    return func.emitError("no token embedding was recognized (a Gather from "
                          "a constant [vocab, hidden] table by input ids)");
  }

  if (auto linear = logits.getDefiningOp<LinearOp>()) {
    Value weight = linear.getWeight();
    bool tied = false;
    Value table = embedding.getTable();
    if (weight.getType() == table.getType()) {
      tied = weight == table ||
             readFloats(getConstant(weight)) == readFloats(getConstant(table));
      if (tied)
        weight = table; // Keep one copy of the shared matrix.
    }
    builder.setInsertionPoint(linear);
    auto logitsOp = builder.create<LogitsOp>(
        linear.getLoc(), linear.getType(), linear.getInput(), weight,
        linear.getBias(), tied ? builder.getUnitAttr() : UnitAttr());
    linear.getResult().replaceAllUsesWith(logitsOp.getResult());
    linear.erase();
    logits = logitsOp;
  } else if (!logits.getDefiningOp<LogitsOp>()) {
    Operation *producer = logits.getDefiningOp();
    auto node = dyn_cast_or_null<onnx::NodeOp>(producer);
    return func.emitError("output '")
           << nameOf(func, logitsIndex, true)
           << "' is not a projection of the final hidden state"
           << (node ? " (produced by node '" + node.getName().str() + "' (" +
                          node.getOpType().str() + "))"
                    : std::string());
  }

  // Keep only the logits output; present.* values were KV-cache plumbing.
  builder.setInsertionPoint(returnOp);
  builder.create<func::ReturnOp>(returnOp.getLoc(), logits);
  returnOp.erase();
  eraseDeadOps(body);

  // Learned positions index by the token sequence, not by position inputs.
  Value inputIds = embedding.getIds();
  if (!isa<BlockArgument>(inputIds))
    return embedding.emitError("token ids must be a graph input");
  func.walk(
      [&](PositionEmbeddingOp op) { op.getIdsMutable().assign(inputIds); });
  eraseDeadOps(body);

  // Anything left at the onnx level was not recognized: first what a
  // pattern refused because of a constant, naming the pattern.
  if (failed(rejections.report(func)) || failed(reportUnraisedNode(func)))
    return failure();

  // The llm signature: token ids in, logits out.
  auto idsArg = cast<BlockArgument>(inputIds);
  llvm::BitVector eraseArgs(func.getNumArguments());
  for (BlockArgument arg : func.getArguments()) {
    if (arg == idsArg)
      continue;
    if (!arg.use_empty())
      return func.emitError("graph input '")
             << nameOf(func, arg.getArgNumber(), false)
             << "' is still used after raising";
    if (arg.use_empty())
      eraseArgs.set(arg.getArgNumber());
  }
  func.eraseArguments(eraseArgs);
  llvm::BitVector eraseResults(func.getNumResults());
  for (unsigned i = 0; i < func.getNumResults(); ++i)
    if (i != logitsIndex)
      eraseResults.set(i);
  func.eraseResults(eraseResults);
  func.setType(
      FunctionType::get(context, func.getArgumentTypes(), {logits.getType()}));
  return recordModel(func, embedding, logits.getDefiningOp<LogitsOp>());
}

/// Numbers the layers and records the model's facts in `#llm.model`.
LogicalResult RaiseONNXPass::recordModel(func::FuncOp func,
                                         EmbeddingOp embedding,
                                         LogitsOp logitsOp) {
  MLIRContext *context = &getContext();
  // Layers are numbered in program order; each attention owns one KV-cache
  // slot, and an MLP belongs to the layer of the attention before it.
  int64_t layer = 0;
  AttentionOp firstAttention;
  func.walk([&](Operation *op) {
    if (auto attention = dyn_cast<AttentionOp>(op)) {
      attention.setLayer(layer++);
      if (!firstAttention)
        firstAttention = attention;
    }
    if (auto mlp = dyn_cast<MLPOp>(op); mlp && layer > 0)
      mlp.setLayer(layer - 1);
  });
  if (!firstAttention)
    return func.emitError("no attention block was recognized");

  auto tableType = cast<RankedTensorType>(embedding.getTable().getType());
  bool llamaStyle = false;
  func.walk([&](RopeOp) { llamaStyle = true; });
  // A learned position table bounds the context; so does a precomputed mask.
  func.walk([&](PositionEmbeddingOp op) {
    maxContextFromGraph =
        cast<RankedTensorType>(op.getTable().getType()).getDimSize(0);
  });
  int64_t maxContextValue = maxContext            ? maxContext
                            : maxContextFromGraph ? maxContextFromGraph
                                                  : 2048;
  bool sentencePiece = StringRef(tokenizer).ends_with(".model");
  int64_t vocab =
      cast<RankedTensorType>(logitsOp.getWeight().getType()).getDimSize(0);
  auto model = ModelAttr::get(
      context, llamaStyle ? "llama" : "gpt2", vocab, tableType.getDimSize(1),
      layer, firstAttention.getNumHeads(), firstAttention.getNumKvHeads(),
      firstAttention.getHeadDim(), maxContextValue,
      // SentencePiece Llama vocabularies use <s> = 1 and </s> = 2; GPT-2's
      // byte-level BPE has no BOS and ends text with its last id.
      sentencePiece ? 1 : -1, sentencePiece ? 2 : vocab - 1, tokenizer);
  ModuleOp module = getOperation();
  module->setAttr(kModelAttrName, model);
  for (StringRef attr : {"onnx.opset", "onnx.producer"})
    module->removeAttr(attr);
  return success();
}

} // namespace

//===----------------------------------------------------------------------===//
// The raise pipeline
//===----------------------------------------------------------------------===//

void mlir::microscale::llm::buildRaisePipeline(
    OpPassManager &pm, const RaiseONNXPassOptions &options) {
  pm.addPass(createRaiseONNXPass(options));
  pm.addPass(createFormBlocksPass());
}
