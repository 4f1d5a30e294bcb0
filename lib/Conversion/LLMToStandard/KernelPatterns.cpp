//===- KernelPatterns.cpp - llm ops lowered to kernel ops -------*- C++ -*-===//
//
// Part of the Microscale project.
//
// Projections, attention and the MLP do their heavy work in runtime kernels,
// kept as `kernel` ops here (convert-kernel-to-calls picks the symbol). The
// weight's encoding travels on kernel.linear so the kernel table can choose
// a kernel for it; a quantized weight brings its scales and zero points, a
// sparse one its masks, row offsets and (codes) scales.
//
//===----------------------------------------------------------------------===//

#include "LoweringPatterns.h"

#include "microscale/Dialect/Kernel/IR/KernelOps.h"
#include "microscale/Dialect/LLM/IR/LLMOps.h"
#include "microscale/Quant/Activations.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"

#include <cmath>

using namespace mlir;
using namespace mlir::microscale;
using namespace mlir::microscale::llm;

namespace {

/// y = x @ w^T (+ bias) over `rows` rows of x from `firstRow` on (0 when
/// null), for the weight tensor `weight` (its encoding picks the kernel)
/// whose kernel operands are `storage`. A weight with 8-bit activations gets
/// scratch for as many rows as x holds.
void createLinear(OpBuilder &builder, Location loc, Value rows, Value x,
                  Value weight, const KernelWeight &storage, Value bias,
                  Value y, Value firstRow = {}) {
  auto type = cast<RankedTensorType>(weight.getType());
  int64_t in = type.getDimSize(1);
  Value scratch;
  auto quant = dyn_cast_or_null<kernel::QuantAttr>(storage.encoding);
  if (quant && quant.hasInt8Activations()) {
    int64_t maxRows = cast<MemRefType>(x.getType()).getNumElements() / in;
    scratch = builder.create<memref::AllocOp>(
        loc, MemRefType::get({quant::activationScratchFloats(maxRows, in)},
                             builder.getF32Type()));
  }
  builder.create<kernel::LinearOp>(
      loc, x, storage.storage, storage.scales, storage.zeroPoints,
      storage.indices, storage.offsets, bias, y, scratch, rows, firstRow,
      builder.getI64IntegerAttr(in),
      builder.getI64IntegerAttr(type.getDimSize(0)), storage.encoding);
}

/// `input @ weight^T + bias` over the call's rows.
struct LinearLowering : LLMOpLowering<LinearOp> {
  using LLMOpLowering::LLMOpLowering;

  LogicalResult
  matchAndRewrite(LinearOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value out = allocateResult(op, rewriter);
    KernelWeight weight = getKernelWeight(rewriter, op.getLoc(), op.getWeight(),
                                          adaptor.getWeight());
    createLinear(rewriter, op.getLoc(), getCallArguments(op).n,
                 adaptor.getInput(), op.getWeight(), weight, adaptor.getBias(),
                 out);
    rewriter.replaceOp(op, out);
    return success();
  }
};

/// The same product for the logits, over the call's last `logit_rows` rows
/// only (clamped to [1, n]), into the first rows of the result: generation
/// needs one row, scoring text all of them, and the vocabulary makes this
/// the largest product of a prefill.
struct LogitsLowering : LLMOpLowering<LogitsOp> {
  using LLMOpLowering::LLMOpLowering;

  LogicalResult
  matchAndRewrite(LogitsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value out = allocateResult(op, rewriter);
    LoopBuilder e(rewriter, op.getLoc());
    CallArguments call = getCallArguments(op);
    Value rows = rewriter.create<arith::MinSIOp>(
        e.loc,
        rewriter.create<arith::MaxSIOp>(e.loc, call.logitRows, e.index(1)),
        call.n);
    Value firstRow = rewriter.create<arith::SubIOp>(e.loc, call.n, rows);
    KernelWeight weight =
        getKernelWeight(rewriter, e.loc, op.getWeight(), adaptor.getWeight());
    createLinear(rewriter, e.loc, rows, adaptor.getInput(), op.getWeight(),
                 weight, adaptor.getBias(), out, firstRow);
    rewriter.replaceOp(op, out);
    return success();
  }
};

/// A persistent, uninitialized cache global of `elements` f32 values; the
/// memory planner gives it bytes of its own in the arena.
Value createCache(OpBuilder &builder, Location loc, Operation *user,
                  StringRef name, int64_t elements) {
  return getOrCreateGlobal(builder, loc, user, name,
                           MemRefType::get({elements}, builder.getF32Type()),
                           builder.getUnitAttr(), /*constant=*/false);
}

/// Appends the call's keys and values to the layer's caches at positions
/// pos .. pos + n - 1, then runs the attention kernel.
struct AttentionLowering : LLMOpLowering<AttentionOp> {
  using LLMOpLowering::LLMOpLowering;

  LogicalResult
  matchAndRewrite(AttentionOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value out = allocateResult(op, rewriter);
    LoopBuilder e(rewriter, op.getLoc());
    CallArguments call = getCallArguments(op);
    int64_t kvFeatures = op.getNumKvHeads() * op.getHeadDim();
    int64_t context = state.contextLength;
    std::string suffix = std::to_string(state.kvCacheCount++);
    Value keyCache = createCache(rewriter, e.loc, op, "ms_key_cache_" + suffix,
                                 context * kvFeatures);
    Value valueCache = createCache(
        rewriter, e.loc, op, "ms_value_cache_" + suffix, context * kvFeatures);
    Value keys = adaptor.getKey(), values = adaptor.getValue();
    Value cacheBase = e.mul(call.pos, e.index(kvFeatures));
    e.elementwise(call.n, kvFeatures, [&](Value i) {
      Value dst = e.add(cacheBase, i);
      e.store(e.load(keys, i), keyCache, dst);
      e.store(e.load(values, i), valueCache, dst);
    });
    Value scores = allocateScratch(rewriter, e.loc, op.getNumHeads() * context);
    rewriter.create<kernel::AttentionOp>(
        e.loc, adaptor.getQuery(), keyCache, valueCache, out, scores, call.n,
        call.pos, op.getNumHeadsAttr(), op.getNumKvHeadsAttr(),
        op.getHeadDimAttr(), op.getScaleAttr());
    rewriter.replaceOp(op, out);
    return success();
  }
};

/// The MLP's activation function of one value.
Value activate(LoopBuilder &e, Activation activation, Value v) {
  OpBuilder &b = e.b;
  switch (activation) {
  case Activation::SiLU:
    return e.fdiv(
        v, e.fadd(e.f32(1.0), b.create<math::ExpOp>(
                                  e.loc, b.create<arith::NegFOp>(e.loc, v))));
  case Activation::GELU:
    return e.fmul(
        e.fmul(e.f32(0.5), v),
        e.fadd(e.f32(1.0), b.create<math::ErfOp>(
                               e.loc, e.fmul(v, e.f32(1.0 / std::sqrt(2.0))))));
  case Activation::GELUTanh: {
    Value cube = e.fmul(e.fmul(v, v), v);
    Value inner = e.fmul(e.f32(std::sqrt(2.0 / M_PI)),
                         e.fadd(v, e.fmul(e.f32(0.044715), cube)));
    return e.fmul(e.fmul(e.f32(0.5), v),
                  e.fadd(e.f32(1.0), b.create<math::TanhOp>(e.loc, inner)));
  }
  case Activation::ReLU:
    return b.create<arith::MaximumFOp>(e.loc, v, e.f32(0.0));
  }
  llvm_unreachable("unknown activation");
}

/// up (and gate) projections into scratch buffers, act(gate) * up or act(up)
/// in place, then the down projection.
struct MLPLowering : LLMOpLowering<MLPOp> {
  using LLMOpLowering::LLMOpLowering;

  LogicalResult
  matchAndRewrite(MLPOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value out = allocateResult(op, rewriter);
    LoopBuilder e(rewriter, op.getLoc());
    Value rows = getCallArguments(op).n, x = adaptor.getInput();
    int64_t inner = op.getIntermediateSize();
    int64_t scratchSize = converter().getMaxTokens() * inner;
    Value up = allocateScratch(rewriter, e.loc, scratchSize);
    Value gate =
        op.isGated() ? allocateScratch(rewriter, e.loc, scratchSize) : Value();
    createLinear(rewriter, e.loc, rows, x, op.getUpWeight(),
                 getKernelWeight(rewriter, e.loc, op.getUpWeight(),
                                 adaptor.getUpWeight()),
                 adaptor.getUpBias(), up);
    if (gate)
      createLinear(rewriter, e.loc, rows, x, op.getGateWeight(),
                   getKernelWeight(rewriter, e.loc, op.getGateWeight(),
                                   adaptor.getGateWeight()),
                   adaptor.getGateBias(), gate);
    Activation activation = op.getActivation();
    e.elementwise(rows, inner, [&](Value i) {
      Value activated = activate(e, activation, e.load(gate ? gate : up, i));
      if (gate)
        activated = e.fmul(activated, e.load(up, i));
      e.store(activated, up, i);
    });
    createLinear(rewriter, e.loc, rows, up, op.getDownWeight(),
                 getKernelWeight(rewriter, e.loc, op.getDownWeight(),
                                 adaptor.getDownWeight()),
                 adaptor.getDownBias(), out);
    rewriter.replaceOp(op, out);
    return success();
  }
};

} // namespace

void mlir::microscale::populateKernelLoweringPatterns(
    const LLMToStandardTypeConverter &converter, RewritePatternSet &patterns,
    LoweringState &state) {
  patterns.add<LinearLowering, LogitsLowering, AttentionLowering, MLPLowering>(
      converter, patterns.getContext(), state);
}
