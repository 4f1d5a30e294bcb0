//===- LoopPatterns.cpp - llm ops lowered to generated loops ----*- C++ -*-===//
//
// Part of the Microscale project.
//
// Embeddings, norms, residual adds and RoPE become one fused loop nest each
// over the call's `n` rows: memory-bound work that gains nothing from a
// runtime kernel and that LLVM vectorizes well. A quantized embedding table
// is the exception: its rows are unpacked by the runtime's dequantization
// kernel, one call per token.
//
//===----------------------------------------------------------------------===//

#include "LoweringPatterns.h"

#include "microscale/Dialect/Kernel/IR/KernelOps.h"
#include "microscale/Dialect/LLM/IR/LLMOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace mlir;
using namespace mlir::microscale;
using namespace mlir::microscale::llm;

namespace {

/// out[r, :] = table[sourceRow(r), :] for r < n.
void copyRows(LoopBuilder &e, Value table, Value out, int64_t features, Value n,
              llvm::function_ref<Value(Value)> sourceRow) {
  e.loop(e.index(0), n, [&](Value r) {
    Value src = e.mul(sourceRow(r), e.index(features));
    Value dst = e.mul(r, e.index(features));
    e.loop(features, [&](Value c) {
      e.store(e.load(table, e.add(src, c)), out, e.add(dst, c));
    });
  });
}

struct EmbeddingLowering : LLMOpLowering<EmbeddingOp> {
  using LLMOpLowering::LLMOpLowering;

  LogicalResult
  matchAndRewrite(EmbeddingOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value out = allocateResult(op, rewriter);
    LoopBuilder e(rewriter, op.getLoc());
    Value tokens = adaptor.getIds(), n = getCallArguments(op).n;
    int64_t features = lastDim(op.getResult());
    auto tokenRow = [&](Value r) -> Value {
      return rewriter.create<arith::IndexCastOp>(e.loc, rewriter.getIndexType(),
                                                 e.load(tokens, r));
    };
    KernelWeight table =
        getKernelWeight(rewriter, e.loc, op.getTable(), adaptor.getTable());
    if (auto quant = dyn_cast_or_null<kernel::QuantAttr>(table.encoding)) {
      e.loop(e.index(0), n, [&](Value r) {
        rewriter.create<kernel::DequantizeRowOp>(
            e.loc, table.storage, table.scales, table.zeroPoints, tokenRow(r),
            out, r, rewriter.getI64IntegerAttr(features), quant);
      });
    } else {
      copyRows(e, table.storage, out, features, n, tokenRow);
    }
    rewriter.replaceOp(op, out);
    return success();
  }
};

struct PositionEmbeddingLowering : LLMOpLowering<PositionEmbeddingOp> {
  using LLMOpLowering::LLMOpLowering;

  LogicalResult
  matchAndRewrite(PositionEmbeddingOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value out = allocateResult(op, rewriter);
    LoopBuilder e(rewriter, op.getLoc());
    CallArguments call = getCallArguments(op);
    copyRows(e, adaptor.getTable(), out, lastDim(op.getResult()), call.n,
             [&](Value r) { return e.add(call.pos, r); });
    rewriter.replaceOp(op, out);
    return success();
  }
};

/// 1 / sqrt(meanSquare + eps).
Value inverseRoot(LoopBuilder &e, Value meanSquare, double eps) {
  return e.fdiv(e.f32(1.0), e.b.create<math::SqrtOp>(
                                e.loc, e.fadd(meanSquare, e.f32(eps))));
}

struct RMSNormLowering : LLMOpLowering<RMSNormOp> {
  using LLMOpLowering::LLMOpLowering;

  LogicalResult
  matchAndRewrite(RMSNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value out = allocateResult(op, rewriter);
    LoopBuilder e(rewriter, op.getLoc());
    Value x = adaptor.getInput(), gain = adaptor.getGain();
    int64_t features = lastDim(op.getResult());
    double eps = op.getEpsilon().convertToDouble();
    e.loop(e.index(0), getCallArguments(op).n, [&](Value r) {
      Value base = e.mul(r, e.index(features));
      Value squares = e.sum(features, [&](Value c) {
        Value v = e.load(x, e.add(base, c));
        return e.fmul(v, v);
      });
      Value inv = inverseRoot(e, e.fdiv(squares, e.f32(features)), eps);
      e.loop(features, [&](Value c) {
        Value i = e.add(base, c);
        e.store(e.fmul(e.fmul(e.load(x, i), inv), e.load(gain, c)), out, i);
      });
    });
    rewriter.replaceOp(op, out);
    return success();
  }
};

struct LayerNormLowering : LLMOpLowering<LayerNormOp> {
  using LLMOpLowering::LLMOpLowering;

  LogicalResult
  matchAndRewrite(LayerNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value out = allocateResult(op, rewriter);
    LoopBuilder e(rewriter, op.getLoc());
    Value x = adaptor.getInput(), gain = adaptor.getGain();
    Value bias = adaptor.getBias();
    int64_t features = lastDim(op.getResult());
    double eps = op.getEpsilon().convertToDouble();
    e.loop(e.index(0), getCallArguments(op).n, [&](Value r) {
      Value base = e.mul(r, e.index(features));
      Value total =
          e.sum(features, [&](Value c) { return e.load(x, e.add(base, c)); });
      Value mean = e.fdiv(total, e.f32(features));
      Value squares = e.sum(features, [&](Value c) {
        Value d = e.fsub(e.load(x, e.add(base, c)), mean);
        return e.fmul(d, d);
      });
      Value inv = inverseRoot(e, e.fdiv(squares, e.f32(features)), eps);
      e.loop(features, [&](Value c) {
        Value i = e.add(base, c);
        Value v =
            e.fmul(e.fmul(e.fsub(e.load(x, i), mean), inv), e.load(gain, c));
        if (bias)
          v = e.fadd(v, e.load(bias, c));
        e.store(v, out, i);
      });
    });
    rewriter.replaceOp(op, out);
    return success();
  }
};

struct AddLowering : LLMOpLowering<AddOp> {
  using LLMOpLowering::LLMOpLowering;

  LogicalResult
  matchAndRewrite(AddOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value out = allocateResult(op, rewriter);
    LoopBuilder e(rewriter, op.getLoc());
    Value lhs = adaptor.getLhs(), rhs = adaptor.getRhs();
    e.elementwise(getCallArguments(op).n, lastDim(op.getResult()),
                  [&](Value i) {
                    e.store(e.fadd(e.load(lhs, i), e.load(rhs, i)), out, i);
                  });
    rewriter.replaceOp(op, out);
    return success();
  }
};

/// The constant table theta^(-2i / rotary) for i < rotary / 2, one global per
/// (theta, rotary) shared by every rope op.
Value ropeFrequencies(OpBuilder &builder, Location loc, Operation *user,
                      double theta, int64_t rotary) {
  std::string name = llvm::formatv("ms_rope_{0}_{1}", int64_t(theta), rotary);
  SmallVector<float> values;
  for (int64_t i = 0; i < rotary / 2; ++i)
    values.push_back(static_cast<float>(
        1.0 / std::pow(theta, double(2 * i) / double(rotary))));
  auto tensorType = RankedTensorType::get({rotary / 2}, builder.getF32Type());
  return getOrCreateGlobal(
      builder, loc, user, name,
      MemRefType::get({rotary / 2}, builder.getF32Type()),
      DenseElementsAttr::get(tensorType, ArrayRef<float>(values)),
      /*constant=*/true);
}

struct RopeLowering : LLMOpLowering<RopeOp> {
  using LLMOpLowering::LLMOpLowering;

  LogicalResult
  matchAndRewrite(RopeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value out = allocateResult(op, rewriter);
    LoopBuilder e(rewriter, op.getLoc());
    Value x = adaptor.getInput();
    CallArguments call = getCallArguments(op);
    int64_t features = lastDim(op.getResult()), rotary = op.getRotaryDim();
    // Copy first so dimensions past rotary_dim pass through.
    e.elementwise(call.n, features,
                  [&](Value i) { e.store(e.load(x, i), out, i); });
    Value freqs = ropeFrequencies(rewriter, e.loc, op,
                                  op.getTheta().convertToDouble(), rotary);
    e.loop(e.index(0), call.n, [&](Value r) {
      Value position = rewriter.create<arith::UIToFPOp>(
          e.loc, rewriter.getF32Type(),
          rewriter.create<arith::IndexCastOp>(e.loc, rewriter.getI64Type(),
                                              e.add(call.pos, r)));
      Value rowBase = e.mul(r, e.index(features));
      e.loop(rotary / 2, [&](Value i) {
        // Exporters hold the frequencies and angles in float32 too.
        Value angle = e.fmul(position, e.load(freqs, i));
        rotatePair(e, op, x, out, rowBase, i,
                   rewriter.create<math::CosOp>(e.loc, angle),
                   rewriter.create<math::SinOp>(e.loc, angle));
      });
    });
    rewriter.replaceOp(op, out);
    return success();
  }

  /// Rotates pair `i` of every head of one row by the angle (cos, sin).
  static void rotatePair(LoopBuilder &e, RopeOp op, Value x, Value out,
                         Value rowBase, Value i, Value cos, Value sin) {
    int64_t headDim = op.getHeadDim(), half = op.getRotaryDim() / 2;
    bool interleaved = op.getStyle() == RopeStyle::Interleaved;
    Value first = interleaved ? e.mul(i, e.index(2)) : i;
    Value second =
        interleaved ? e.add(first, e.index(1)) : e.add(i, e.index(half));
    e.loop(lastDim(op.getResult()) / headDim, [&](Value h) {
      Value headBase = e.add(rowBase, e.mul(h, e.index(headDim)));
      Value ia = e.add(headBase, first), ib = e.add(headBase, second);
      Value a = e.load(x, ia), b = e.load(x, ib);
      e.store(e.fsub(e.fmul(a, cos), e.fmul(b, sin)), out, ia);
      e.store(e.fadd(e.fmul(b, cos), e.fmul(a, sin)), out, ib);
    });
  }
};

} // namespace

void mlir::microscale::populateLoopLoweringPatterns(
    const LLMToStandardTypeConverter &converter, RewritePatternSet &patterns,
    LoweringState &state) {
  patterns.add<EmbeddingLowering, PositionEmbeddingLowering, RMSNormLowering,
               LayerNormLowering, AddLowering, RopeLowering>(
      converter, patterns.getContext(), state);
}
