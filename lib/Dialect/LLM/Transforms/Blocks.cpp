//===- Blocks.cpp - form and expand llm.self_attention blocks ---*- C++ -*-===//
//
// Part of the Microscale project.
//
// Raising produces attention as primitive ops: three projections, RoPE on
// queries and keys, `llm.attention` and the output projection. Compression
// wants a head or a layer to be one place to edit, so `llm-form-blocks` folds
// each such chain into `llm.self_attention`; `llm-expand-blocks` undoes it
// for consumers that handle the primitives only. Both are single patterns
// run by the greedy driver.
//
//===----------------------------------------------------------------------===//

#include "microscale/Dialect/LLM/IR/LLMOps.h"
#include "microscale/Dialect/LLM/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::microscale::llm {
#define GEN_PASS_DEF_FORMBLOCKSPASS
#define GEN_PASS_DEF_EXPANDBLOCKSPASS
#include "microscale/Dialect/LLM/Transforms/Passes.h.inc"
} // namespace mlir::microscale::llm

using namespace mlir;
using namespace mlir::microscale;
using namespace mlir::microscale::llm;

namespace {

/// `type` with its last dimension replaced by `features`.
RankedTensorType withFeatures(Type type, int64_t features) {
  auto tensor = cast<RankedTensorType>(type);
  SmallVector<int64_t> shape(tensor.getShape());
  shape.back() = features;
  return RankedTensorType::get(shape, tensor.getElementType());
}

/// One attention operand traced back to its projection: `linear` or
/// `rope(linear)`, each used only on the way to the attention.
struct TracedOperand {
  LinearOp projection;
  RopeOp rope;
};

std::optional<TracedOperand> traceOperand(Value value) {
  TracedOperand traced;
  if ((traced.rope = value.getDefiningOp<RopeOp>())) {
    if (!traced.rope->hasOneUse())
      return std::nullopt;
    value = traced.rope.getInput();
  }
  traced.projection = value.getDefiningOp<LinearOp>();
  if (!traced.projection || !traced.projection->hasOneUse())
    return std::nullopt;
  return traced;
}

/// The parameters of a rope op as a block's `#llm.rope`.
RopeAttr ropeAttrOf(RopeOp rope) {
  return RopeAttr::get(rope.getContext(), rope.getThetaAttr(),
                       rope.getRotaryDim(), rope.getStyle());
}

/// `linear(attention(q, k, v))` with q/k/v projected from one input becomes
/// `llm.self_attention`. The root is the output projection.
struct FormSelfAttention : OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LinearOp output,
                                PatternRewriter &rewriter) const override {
    auto attention = output.getInput().getDefiningOp<AttentionOp>();
    if (!attention || !attention->hasOneUse())
      return rewriter.notifyMatchFailure(output, "input is not an attention");
    std::optional<TracedOperand> q = traceOperand(attention.getQuery());
    std::optional<TracedOperand> k = traceOperand(attention.getKey());
    std::optional<TracedOperand> v = traceOperand(attention.getValue());
    if (!q || !k || !v)
      return rewriter.notifyMatchFailure(output, "q/k/v are not projections");
    Value input = q->projection.getInput();
    if (k->projection.getInput() != input || v->projection.getInput() != input)
      return rewriter.notifyMatchFailure(output, "q/k/v read different inputs");
    RopeAttr rope;
    if (v->rope || bool(q->rope) != bool(k->rope))
      return rewriter.notifyMatchFailure(output, "RoPE not on exactly q, k");
    if (q->rope) {
      rope = ropeAttrOf(q->rope);
      if (rope != ropeAttrOf(k->rope) ||
          q->rope.getHeadDim() != attention.getHeadDim() ||
          k->rope.getHeadDim() != attention.getHeadDim())
        return rewriter.notifyMatchFailure(output, "q and k rotate unlike");
    }

    auto block = rewriter.create<SelfAttentionOp>(
        output.getLoc(), output.getType(), input, q->projection.getWeight(),
        q->projection.getBias(), k->projection.getWeight(),
        k->projection.getBias(), v->projection.getWeight(),
        v->projection.getBias(), output.getWeight(), output.getBias(),
        attention.getNumHeadsAttr(), attention.getNumKvHeadsAttr(),
        attention.getHeadDimAttr(), attention.getScaleAttr(),
        attention.getLayerAttr(), rope);
    rewriter.replaceOp(output, block);
    // Users first: the attention, then the ropes, then the projections.
    rewriter.eraseOp(attention);
    for (RopeOp op : {q->rope, k->rope})
      if (op)
        rewriter.eraseOp(op);
    for (LinearOp op : {q->projection, k->projection, v->projection})
      rewriter.eraseOp(op);
    return success();
  }
};

/// `llm.self_attention` back into linear, rope, attention, linear.
struct ExpandSelfAttention : OpRewritePattern<SelfAttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(SelfAttentionOp block,
                                PatternRewriter &rewriter) const override {
    Location loc = block.getLoc();
    Value input = block.getInput();
    int64_t headDim = block.getHeadDim();
    auto project = [&](Value weight, Value bias, int64_t features) -> Value {
      return rewriter.create<LinearOp>(
          loc, withFeatures(input.getType(), features), input, weight, bias);
    };
    Value q = project(block.getQWeight(), block.getQBias(),
                      block.getNumHeads() * headDim);
    Value k = project(block.getKWeight(), block.getKBias(),
                      block.getNumKvHeads() * headDim);
    Value v = project(block.getVWeight(), block.getVBias(),
                      block.getNumKvHeads() * headDim);
    if (RopeAttr rope = block.getRopeAttr()) {
      auto rotate = [&](Value x) -> Value {
        return rewriter.create<RopeOp>(
            loc, x.getType(), x, block.getHeadDimAttr(),
            rewriter.getI64IntegerAttr(rope.getRotaryDim()), rope.getTheta(),
            RopeStyleAttr::get(rewriter.getContext(), rope.getStyle()));
      };
      q = rotate(q);
      k = rotate(k);
    }
    Value attended = rewriter.create<AttentionOp>(
        loc, q.getType(), q, k, v, block.getNumHeadsAttr(),
        block.getNumKvHeadsAttr(), block.getHeadDimAttr(), block.getScaleAttr(),
        block.getLayerAttr());
    rewriter.replaceOpWithNewOp<LinearOp>(block, block.getType(), attended,
                                          block.getOWeight(), block.getOBias());
    return success();
  }
};

struct FormBlocksPass : public llm::impl::FormBlocksPassBase<FormBlocksPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateFormBlocksPatterns(patterns);
    if (failed(
            applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

struct ExpandBlocksPass
    : public llm::impl::ExpandBlocksPassBase<ExpandBlocksPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateExpandBlocksPatterns(patterns);
    if (failed(
            applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace

void mlir::microscale::llm::populateFormBlocksPatterns(
    RewritePatternSet &patterns) {
  patterns.add<FormSelfAttention>(patterns.getContext());
}

void mlir::microscale::llm::populateExpandBlocksPatterns(
    RewritePatternSet &patterns) {
  patterns.add<ExpandSelfAttention>(patterns.getContext());
}
