//===- LLMToStandard.cpp - llm to loops, buffers and kernel calls -*- C++
//-*-===//
//
// Part of the Microscale project.
//
// Builds the generated program's `ms_forward(tokens, n, pos) -> logits` from
// a raised llm function. Activations are row-major [tokens, features] f32
// buffers viewed out of one arena global; `n` (the number of tokens of this
// call) is the only dynamic quantity, so every buffer has a static size and
// the arena layout is decided here, at compile time. Matrix products and
// attention call the runtime's microkernels (declared in runtime.h); the
// rest is generated as scf loops, one fused loop nest per op.
//
//===----------------------------------------------------------------------===//

#include "microscale/Conversion/MemoryPlan.h"
#include "microscale/Conversion/Passes.h"
#include "microscale/Dialect/LLM/IR/LLMOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

namespace mlir::microscale {
#define GEN_PASS_DEF_CONVERTLLMTOSTANDARDPASS
#include "microscale/Conversion/Passes.h.inc"
} // namespace mlir::microscale

using namespace mlir;
using namespace mlir::microscale;
using namespace mlir::microscale::llm;

namespace {

constexpr int64_t kAlignment = 64;

int64_t lastDim(Value value) {
  return cast<RankedTensorType>(value.getType()).getShape().back();
}

/// Emits loops and scalar arithmetic for the forward function.
class Emitter {
public:
  Emitter(OpBuilder &builder, Location loc) : b(builder), loc(loc) {}

  Value index(int64_t value) {
    return b.create<arith::ConstantIndexOp>(loc, value);
  }
  Value f32(double value) {
    return b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(value));
  }
  Value i64(int64_t value) {
    return b.create<arith::ConstantOp>(loc, b.getI64IntegerAttr(value));
  }
  Value toI64(Value indexValue) {
    return b.create<arith::IndexCastOp>(loc, b.getI64Type(), indexValue);
  }
  Value add(Value a, Value c) { return b.create<arith::AddIOp>(loc, a, c); }
  Value mul(Value a, Value c) { return b.create<arith::MulIOp>(loc, a, c); }
  Value fadd(Value a, Value c) { return b.create<arith::AddFOp>(loc, a, c); }
  Value fsub(Value a, Value c) { return b.create<arith::SubFOp>(loc, a, c); }
  Value fmul(Value a, Value c) { return b.create<arith::MulFOp>(loc, a, c); }
  Value fdiv(Value a, Value c) { return b.create<arith::DivFOp>(loc, a, c); }
  Value load(Value memref, Value i) {
    return b.create<memref::LoadOp>(loc, memref, ValueRange{i});
  }
  void store(Value value, Value memref, Value i) {
    b.create<memref::StoreOp>(loc, value, memref, ValueRange{i});
  }

  /// for (i = lb; i < ub; ++i) body(i)
  void loop(Value lb, Value ub, llvm::function_ref<void(Value)> body) {
    auto forOp = b.create<scf::ForOp>(loc, lb, ub, index(1));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(forOp.getBody());
    body(forOp.getInductionVar());
  }
  void loop(int64_t ub, llvm::function_ref<void(Value)> body) {
    loop(index(0), index(ub), body);
  }
  /// Sum of body(i) over [0, ub), accumulated in order in f32.
  Value sum(int64_t ub, llvm::function_ref<Value(Value)> body) {
    auto forOp = b.create<scf::ForOp>(loc, index(0), index(ub), index(1),
                                      ValueRange{f32(0.0)});
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(forOp.getBody());
    Value next =
        fadd(forOp.getRegionIterArgs()[0], body(forOp.getInductionVar()));
    b.create<scf::YieldOp>(loc, next);
    return forOp.getResult(0);
  }

  /// The address of a buffer's first element, for runtime calls.
  Value pointer(Value memref) {
    Value address =
        b.create<memref::ExtractAlignedPointerAsIndexOp>(loc, memref);
    return b.create<LLVM::IntToPtrOp>(
        loc, LLVM::LLVMPointerType::get(b.getContext()), toI64(address));
  }
  Value nullPointer() {
    return b.create<LLVM::ZeroOp>(loc,
                                  LLVM::LLVMPointerType::get(b.getContext()));
  }

  OpBuilder &b;
  Location loc;
};

/// One activation: a 1-D f32 view of `rows * features` elements.
struct Buffer {
  Value memref;
  int64_t features = 0;
};

struct ConvertLLMToStandardPass
    : public microscale::impl::ConvertLLMToStandardPassBase<
          ConvertLLMToStandardPass> {
  using ConvertLLMToStandardPassBase::ConvertLLMToStandardPassBase;
  void runOnOperation() override;

private:
  LogicalResult lower(func::FuncOp source, ModelAttr model);
  void createWeightGlobal(OpBuilder &moduleBuilder, WeightOp weight);
  func::FuncOp declareKernel(OpBuilder &moduleBuilder, StringRef name,
                             TypeRange inputs);

  llvm::DenseMap<Operation *, memref::GlobalOp> weightGlobals;
  int64_t totalWeightBytes = 0;
};

func::FuncOp ConvertLLMToStandardPass::declareKernel(OpBuilder &moduleBuilder,
                                                     StringRef name,
                                                     TypeRange inputs) {
  ModuleOp module = getOperation();
  if (auto existing = module.lookupSymbol<func::FuncOp>(name))
    return existing;
  auto func = moduleBuilder.create<func::FuncOp>(
      module.getLoc(), name, moduleBuilder.getFunctionType(inputs, {}));
  func.setPrivate();
  return func;
}

/// A constant 1-D global holding a weight's data; resource blobs are shared,
/// not copied.
void ConvertLLMToStandardPass::createWeightGlobal(OpBuilder &moduleBuilder,
                                                  WeightOp weight) {
  memref::GlobalOp &global = weightGlobals[weight];
  {
    auto type = weight.getType();
    auto flatTensor =
        RankedTensorType::get({type.getNumElements()}, type.getElementType());
    ElementsAttr value = weight.getValue();
    ElementsAttr flatValue;
    if (auto resource = dyn_cast<DenseResourceElementsAttr>(value))
      flatValue =
          DenseResourceElementsAttr::get(flatTensor, resource.getRawHandle());
    else
      flatValue = cast<DenseElementsAttr>(value).reshape(flatTensor);
    std::string name = "ms_w_" + std::to_string(weightGlobals.size() - 1);
    global = moduleBuilder.create<memref::GlobalOp>(
        weight.getLoc(), name, moduleBuilder.getStringAttr("private"),
        MemRefType::get({type.getNumElements()}, type.getElementType()),
        flatValue, /*constant=*/true,
        moduleBuilder.getI64IntegerAttr(kAlignment));
    totalWeightBytes +=
        type.getNumElements() * ((type.getElementTypeBitWidth() + 7) / 8);
  }
}

void ConvertLLMToStandardPass::runOnOperation() {
  ModuleOp module = getOperation();
  auto model = module->getAttrOfType<ModelAttr>(kModelAttrName);
  if (!model) {
    module.emitError("module has no #llm.model; raise it first");
    return signalPassFailure();
  }
  SmallVector<func::FuncOp> funcs(module.getOps<func::FuncOp>());
  if (funcs.size() != 1) {
    module.emitError("expected one llm entry function, found ") << funcs.size();
    return signalPassFailure();
  }
  if (maxTokens < 1) {
    module.emitError("max-tokens must be positive");
    return signalPassFailure();
  }
  if (failed(lower(funcs.front(), model)))
    return signalPassFailure();
}

LogicalResult ConvertLLMToStandardPass::lower(func::FuncOp source,
                                              ModelAttr model) {
  ModuleOp module = getOperation();
  MLIRContext *context = &getContext();
  Block &body = source.getBody().front();
  int64_t tokensPerCall = maxTokens;
  int64_t contextLength = maxContext ? maxContext : model.getMaxContext();

  // Every op must be one this lowering knows.
  for (Operation &op : body.without_terminator())
    if (!isa<WeightOp, EmbeddingOp, PositionEmbeddingOp, RMSNormOp, LayerNormOp,
             LinearOp, AddOp, RopeOp, AttentionOp, MLPOp, LogitsOp>(op))
      return op.emitError("cannot lower '")
             << op.getName() << "': only llm ops are supported";
  auto returnOp = cast<func::ReturnOp>(body.getTerminator());
  if (returnOp.getNumOperands() != 1 ||
      !returnOp.getOperand(0).getDefiningOp<LogitsOp>())
    return source.emitError("the entry function must return llm.logits");
  if (source.getNumArguments() != 1)
    return source.emitError("the entry function must take the token ids");

  // Plan the arena: activations by lifetime, then the persistent KV cache.
  llvm::DenseMap<Operation *, int64_t> step;
  for (Operation &op : body)
    step[&op] = step.size();
  int64_t lastStep = step.size();
  SmallVector<BufferRequest> requests;
  llvm::DenseMap<Value, size_t> requestOf;
  llvm::DenseMap<Operation *, SmallVector<size_t>> scratchOf;
  auto bytesFor = [&](int64_t features) {
    return tokensPerCall * features * int64_t(sizeof(float));
  };
  for (Operation &op : body.without_terminator()) {
    if (isa<WeightOp>(op))
      continue;
    Value result = op.getResult(0);
    int64_t last = step[&op];
    for (Operation *user : result.getUsers())
      last = std::max(last, step[user]);
    if (isa<LogitsOp>(op))
      last = lastStep; // Returned: alive until the caller reads it.
    requestOf[result] = requests.size();
    requests.push_back({bytesFor(lastDim(result)), step[&op], last});
    auto addScratch = [&](int64_t bytes) {
      scratchOf[&op].push_back(requests.size());
      requests.push_back({bytes, step[&op], step[&op]});
    };
    if (auto mlp = dyn_cast<MLPOp>(op)) {
      addScratch(bytesFor(mlp.getIntermediateSize()));
      if (mlp.isGated())
        addScratch(bytesFor(mlp.getIntermediateSize()));
    }
    if (auto attention = dyn_cast<AttentionOp>(op))
      addScratch(attention.getNumHeads() * contextLength *
                 int64_t(sizeof(float)));
  }
  MemoryPlan plan = planMemory(requests, kAlignment);
  int64_t cacheOffset = plan.totalBytes;
  int64_t arenaSize = cacheOffset;
  llvm::DenseMap<Operation *, std::pair<int64_t, int64_t>> cacheOffsets;
  for (Operation &op : body)
    if (auto attention = dyn_cast<AttentionOp>(op)) {
      int64_t bytes = contextLength * attention.getNumKvHeads() *
                      attention.getHeadDim() * int64_t(sizeof(float));
      bytes = (bytes + kAlignment - 1) / kAlignment * kAlignment;
      cacheOffsets[&op] = {arenaSize, arenaSize + bytes};
      arenaSize += 2 * bytes;
    }

  // Module-level declarations.
  OpBuilder moduleBuilder(context);
  moduleBuilder.setInsertionPoint(source);
  auto arenaType = MemRefType::get({arenaSize}, moduleBuilder.getI8Type());
  moduleBuilder.create<memref::GlobalOp>(
      module.getLoc(), "ms_arena", moduleBuilder.getStringAttr("private"),
      arenaType, UnitAttr::get(context), /*constant=*/false,
      moduleBuilder.getI64IntegerAttr(kAlignment));
  Type ptr = LLVM::LLVMPointerType::get(context);
  Type i64 = moduleBuilder.getI64Type(), f32 = moduleBuilder.getF32Type();
  func::FuncOp linearKernel = declareKernel(
      moduleBuilder, "ms_linear_f32", {ptr, i64, i64, ptr, i64, ptr, ptr});
  func::FuncOp attentionKernel =
      declareKernel(moduleBuilder, "ms_attention_f32",
                    {ptr, ptr, ptr, i64, i64, i64, i64, i64, f32, ptr, ptr});
  for (Operation &op : body)
    if (auto weight = dyn_cast<WeightOp>(op))
      createWeightGlobal(moduleBuilder, weight);

  auto tokensType =
      MemRefType::get({tokensPerCall}, moduleBuilder.getI32Type());
  // The logits come back as a plain pointer into the arena: the bare-pointer
  // convention would return a view's allocated, not aligned, pointer.
  auto forward = moduleBuilder.create<func::FuncOp>(
      source.getLoc(), "ms_forward",
      moduleBuilder.getFunctionType({tokensType, moduleBuilder.getIndexType(),
                                     moduleBuilder.getIndexType()},
                                    {ptr}));
  Block *entry = forward.addEntryBlock();
  Value tokens = entry->getArgument(0), n = entry->getArgument(1),
        pos = entry->getArgument(2);
  OpBuilder b = OpBuilder::atBlockBegin(entry);
  Emitter e(b, source.getLoc());
  Value arena = b.create<memref::GetGlobalOp>(e.loc, arenaType, "ms_arena");
  auto view = [&](int64_t offset, int64_t elements) -> Value {
    return b.create<memref::ViewOp>(e.loc, MemRefType::get({elements}, f32),
                                    arena, e.index(offset), ValueRange{});
  };
  auto weightOf = [&](Value v) -> Value {
    memref::GlobalOp global = weightGlobals.lookup(v.getDefiningOp());
    return b.create<memref::GetGlobalOp>(e.loc, global.getType(),
                                         global.getSymName());
  };
  // theta^(-2i / rotary) for i < rotary / 2, one constant table per shape.
  llvm::StringMap<memref::GlobalOp> ropeTables;
  auto ropeFrequencies = [&](double theta, int64_t rotary) -> Value {
    std::string name = llvm::formatv("ms_rope_{0}_{1}", int64_t(theta), rotary);
    memref::GlobalOp &global = ropeTables[name];
    if (!global) {
      SmallVector<float> values;
      for (int64_t i = 0; i < rotary / 2; ++i)
        values.push_back(static_cast<float>(
            1.0 / std::pow(theta, double(2 * i) / double(rotary))));
      auto tensorType = RankedTensorType::get({rotary / 2}, f32);
      global = moduleBuilder.create<memref::GlobalOp>(
          module.getLoc(), name, moduleBuilder.getStringAttr("private"),
          MemRefType::get({rotary / 2}, f32),
          DenseElementsAttr::get(tensorType, ArrayRef<float>(values)),
          /*constant=*/true, IntegerAttr());
    }
    return b.create<memref::GetGlobalOp>(e.loc, global.getType(),
                                         global.getSymName());
  };
  llvm::DenseMap<Value, Buffer> buffers;
  auto bufferOf = [&](Value v) { return buffers.lookup(v); };
  auto scratch = [&](Operation *op, unsigned i, int64_t elements) {
    return view(plan.offsets[scratchOf[op][i]], elements);
  };
  Value nI64 = e.toI64(n), posI64 = e.toI64(pos);
  auto callLinear = [&](Value x, int64_t in, Value w, int64_t out, Value bias,
                        Value y) {
    b.create<func::CallOp>(
        e.loc, linearKernel,
        ValueRange{e.pointer(x), nI64, e.i64(in), e.pointer(w), e.i64(out),
                   bias ? e.pointer(bias) : e.nullPointer(), e.pointer(y)});
  };
  // Applies `fn` to each element of rows [0, n) of a features-wide buffer.
  auto elementwise = [&](int64_t features, llvm::function_ref<void(Value)> fn) {
    e.loop(e.index(0), e.mul(n, e.index(features)), fn);
  };

  for (Operation &op : body.without_terminator()) {
    if (isa<WeightOp>(op))
      continue;
    Value result = op.getResult(0);
    int64_t features = lastDim(result);
    Value out = view(plan.offsets[requestOf[result]], tokensPerCall * features);
    buffers[result] = {out, features};

    if (auto emb = dyn_cast<EmbeddingOp>(op)) {
      Value table = weightOf(emb.getTable());
      e.loop(e.index(0), n, [&](Value r) {
        Value id = b.create<arith::IndexCastOp>(e.loc, b.getIndexType(),
                                                e.load(tokens, r));
        Value src = e.mul(id, e.index(features));
        Value dst = e.mul(r, e.index(features));
        e.loop(features, [&](Value c) {
          e.store(e.load(table, e.add(src, c)), out, e.add(dst, c));
        });
      });
    } else if (auto posEmb = dyn_cast<PositionEmbeddingOp>(op)) {
      Value table = weightOf(posEmb.getTable());
      e.loop(e.index(0), n, [&](Value r) {
        Value src = e.mul(e.add(pos, r), e.index(features));
        Value dst = e.mul(r, e.index(features));
        e.loop(features, [&](Value c) {
          e.store(e.load(table, e.add(src, c)), out, e.add(dst, c));
        });
      });
    } else if (auto norm = dyn_cast<RMSNormOp>(op)) {
      Value x = bufferOf(norm.getInput()).memref;
      Value gain = weightOf(norm.getGain());
      double eps = norm.getEpsilon().convertToDouble();
      e.loop(e.index(0), n, [&](Value r) {
        Value base = e.mul(r, e.index(features));
        Value squares = e.sum(features, [&](Value c) {
          Value v = e.load(x, e.add(base, c));
          return e.fmul(v, v);
        });
        Value mean = e.fdiv(squares, e.f32(features));
        Value inv =
            e.fdiv(e.f32(1.0),
                   b.create<math::SqrtOp>(e.loc, e.fadd(mean, e.f32(eps))));
        e.loop(features, [&](Value c) {
          Value i = e.add(base, c);
          e.store(e.fmul(e.fmul(e.load(x, i), inv), e.load(gain, c)), out, i);
        });
      });
    } else if (auto norm = dyn_cast<LayerNormOp>(op)) {
      Value x = bufferOf(norm.getInput()).memref;
      Value gain = weightOf(norm.getGain());
      Value bias = norm.getBias() ? weightOf(norm.getBias()) : Value();
      double eps = norm.getEpsilon().convertToDouble();
      e.loop(e.index(0), n, [&](Value r) {
        Value base = e.mul(r, e.index(features));
        Value mean = e.fdiv(
            e.sum(features, [&](Value c) { return e.load(x, e.add(base, c)); }),
            e.f32(features));
        Value variance =
            e.fdiv(e.sum(features,
                         [&](Value c) {
                           Value d = e.fsub(e.load(x, e.add(base, c)), mean);
                           return e.fmul(d, d);
                         }),
                   e.f32(features));
        Value inv =
            e.fdiv(e.f32(1.0),
                   b.create<math::SqrtOp>(e.loc, e.fadd(variance, e.f32(eps))));
        e.loop(features, [&](Value c) {
          Value i = e.add(base, c);
          Value v =
              e.fmul(e.fmul(e.fsub(e.load(x, i), mean), inv), e.load(gain, c));
          if (bias)
            v = e.fadd(v, e.load(bias, c));
          e.store(v, out, i);
        });
      });
    } else if (auto linear = dyn_cast<LinearOp>(op)) {
      callLinear(bufferOf(linear.getInput()).memref, linear.getInFeatures(),
                 weightOf(linear.getWeight()), linear.getOutFeatures(),
                 linear.getBias() ? weightOf(linear.getBias()) : Value(), out);
    } else if (auto logits = dyn_cast<LogitsOp>(op)) {
      auto weightType = cast<RankedTensorType>(logits.getWeight().getType());
      callLinear(bufferOf(logits.getInput()).memref, weightType.getDimSize(1),
                 weightOf(logits.getWeight()), weightType.getDimSize(0),
                 logits.getBias() ? weightOf(logits.getBias()) : Value(), out);
    } else if (auto addOp = dyn_cast<AddOp>(op)) {
      Value lhs = bufferOf(addOp.getLhs()).memref;
      Value rhs = bufferOf(addOp.getRhs()).memref;
      elementwise(features, [&](Value i) {
        e.store(e.fadd(e.load(lhs, i), e.load(rhs, i)), out, i);
      });
    } else if (auto rope = dyn_cast<RopeOp>(op)) {
      Value x = bufferOf(rope.getInput()).memref;
      int64_t headDim = rope.getHeadDim(), rotary = rope.getRotaryDim();
      int64_t half = rotary / 2, heads = features / headDim;
      double theta = rope.getTheta().convertToDouble();
      bool interleaved = rope.getStyle() == RopeStyle::Interleaved;
      // Copy first so dimensions past rotary_dim pass through.
      elementwise(features, [&](Value i) { e.store(e.load(x, i), out, i); });
      Value freqs = ropeFrequencies(theta, rotary);
      e.loop(e.index(0), n, [&](Value r) {
        Value position =
            b.create<arith::UIToFPOp>(e.loc, f32, e.toI64(e.add(pos, r)));
        Value rowBase = e.mul(r, e.index(features));
        e.loop(half, [&](Value i) {
          // Exporters hold the frequencies and angles in float32 too.
          Value angle = e.fmul(position, e.load(freqs, i));
          Value cos = b.create<math::CosOp>(e.loc, angle);
          Value sin = b.create<math::SinOp>(e.loc, angle);
          Value first = interleaved ? e.mul(i, e.index(2)) : i;
          Value second =
              interleaved ? e.add(first, e.index(1)) : e.add(i, e.index(half));
          e.loop(heads, [&](Value h) {
            Value headBase = e.add(rowBase, e.mul(h, e.index(headDim)));
            Value ia = e.add(headBase, first);
            Value ib = e.add(headBase, second);
            Value a = e.load(x, ia), bv = e.load(x, ib);
            e.store(e.fsub(e.fmul(a, cos), e.fmul(bv, sin)), out, ia);
            e.store(e.fadd(e.fmul(bv, cos), e.fmul(a, sin)), out, ib);
          });
        });
      });
    } else if (auto attention = dyn_cast<AttentionOp>(op)) {
      int64_t kvFeatures = attention.getNumKvHeads() * attention.getHeadDim();
      auto [keyOffset, valueOffset] = cacheOffsets[&op];
      Value keyCache = view(keyOffset, contextLength * kvFeatures);
      Value valueCache = view(valueOffset, contextLength * kvFeatures);
      // Append this call's keys and values at positions pos .. pos + n - 1.
      Value keys = bufferOf(attention.getKey()).memref;
      Value values = bufferOf(attention.getValue()).memref;
      Value cacheBase = e.mul(pos, e.index(kvFeatures));
      elementwise(kvFeatures, [&](Value i) {
        Value dst = e.add(cacheBase, i);
        e.store(e.load(keys, i), keyCache, dst);
        e.store(e.load(values, i), valueCache, dst);
      });
      Value scores = scratch(&op, 0, attention.getNumHeads() * contextLength);
      b.create<func::CallOp>(
          e.loc, attentionKernel,
          ValueRange{e.pointer(bufferOf(attention.getQuery()).memref),
                     e.pointer(keyCache), e.pointer(valueCache), nI64, posI64,
                     e.i64(attention.getNumHeads()),
                     e.i64(attention.getNumKvHeads()),
                     e.i64(attention.getHeadDim()),
                     e.f32(attention.getScale().convertToDouble()),
                     e.pointer(out), e.pointer(scores)});
    } else if (auto mlp = dyn_cast<MLPOp>(op)) {
      Value x = bufferOf(mlp.getInput()).memref;
      int64_t hidden = lastDim(mlp.getInput());
      int64_t inner = mlp.getIntermediateSize();
      Value up = scratch(&op, 0, tokensPerCall * inner);
      callLinear(x, hidden, weightOf(mlp.getUpWeight()), inner,
                 mlp.getUpBias() ? weightOf(mlp.getUpBias()) : Value(), up);
      Value gate;
      if (mlp.isGated()) {
        gate = scratch(&op, 1, tokensPerCall * inner);
        callLinear(x, hidden, weightOf(mlp.getGateWeight()), inner,
                   mlp.getGateBias() ? weightOf(mlp.getGateBias()) : Value(),
                   gate);
      }
      Activation activation = mlp.getActivation();
      // act(gate) * up, or act(up), in place.
      elementwise(inner, [&](Value i) {
        Value v = e.load(gate ? gate : up, i);
        Value activated;
        switch (activation) {
        case Activation::SiLU:
          activated =
              e.fdiv(v, e.fadd(e.f32(1.0),
                               b.create<math::ExpOp>(
                                   e.loc, b.create<arith::NegFOp>(e.loc, v))));
          break;
        case Activation::GELU:
          activated = e.fmul(
              e.fmul(e.f32(0.5), v),
              e.fadd(e.f32(1.0),
                     b.create<math::ErfOp>(
                         e.loc, e.fmul(v, e.f32(1.0 / std::sqrt(2.0))))));
          break;
        case Activation::GELUTanh: {
          Value cube = e.fmul(e.fmul(v, v), v);
          Value inner = e.fmul(e.f32(std::sqrt(2.0 / M_PI)),
                               e.fadd(v, e.fmul(e.f32(0.044715), cube)));
          activated =
              e.fmul(e.fmul(e.f32(0.5), v),
                     e.fadd(e.f32(1.0), b.create<math::TanhOp>(e.loc, inner)));
          break;
        }
        case Activation::ReLU:
          activated = b.create<arith::MaximumFOp>(e.loc, v, e.f32(0.0));
          break;
        }
        if (gate)
          activated = e.fmul(activated, e.load(up, i));
        e.store(activated, up, i);
      });
      callLinear(up, inner, weightOf(mlp.getDownWeight()), hidden,
                 mlp.getDownBias() ? weightOf(mlp.getDownBias()) : Value(),
                 out);
    }
  }
  Value logitsBuffer = bufferOf(returnOp.getOperand(0)).memref;
  b.create<func::ReturnOp>(e.loc, e.pointer(logitsBuffer));

  source.erase();
  module->setAttr("ms.arena_bytes", moduleBuilder.getI64IntegerAttr(arenaSize));
  module->setAttr("ms.weight_bytes",
                  moduleBuilder.getI64IntegerAttr(totalWeightBytes));
  module->setAttr("ms.max_tokens",
                  moduleBuilder.getI64IntegerAttr(tokensPerCall));
  module->setAttr("ms.max_context",
                  moduleBuilder.getI64IntegerAttr(contextLength));
  arenaBytes = arenaSize;
  weightBytes = totalWeightBytes;
  return success();
}

} // namespace
