//===- LoweringPatterns.h - llm op lowering patterns ------------*- C++ -*-===//
//
// Part of the Microscale project.
//
// Shared by the pattern files of convert-llm-to-standard: the state the
// patterns share, a base class giving each pattern its buffers, and a small
// builder for the loop nests the patterns generate.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_LIB_CONVERSION_LLMTOSTANDARD_LOWERINGPATTERNS_H
#define MICROSCALE_LIB_CONVERSION_LLMTOSTANDARD_LOWERINGPATTERNS_H

#include "microscale/Conversion/LLMToStandard/LLMToStandard.h"
#include "microscale/Dialect/LLM/IR/LLMOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Transforms/DialectConversion.h"
#include "llvm/ADT/DenseMap.h"

namespace mlir::microscale {

/// The name of the generated entry point (runtime.h).
inline constexpr llvm::StringLiteral kForwardName = "ms_forward";

/// What the patterns share: sizes from the pass options and the module
/// globals they create.
struct LoweringState {
  int64_t contextLength = 0;
  int64_t weightCount = 0;
  int64_t weightBytes = 0;
  int64_t kvCacheCount = 0;
  /// The `i` of each weight's globals `ms_w_<i>...`, given at first use.
  llvm::DenseMap<Operation *, int64_t> weightIndices;
};

/// The dynamic quantities of a call: ms_forward's arguments.
struct CallArguments {
  Value tokens;    // memref<max_tokens x i32>
  Value n;         // index: tokens in this call
  Value pos;       // index: position of the first one
  Value logitRows; // index: the last tokens whose logits are computed
};

/// The arguments of the ms_forward function enclosing `op`, which the entry
/// function's pattern created before any op inside it is converted.
CallArguments getCallArguments(Operation *op);

/// The size of the last dimension of a tensor value.
int64_t lastDim(Value tensor);

/// Declares the private module global `name` of `type` (before the function
/// enclosing `user`, unless a global of that name exists) and returns a
/// `memref.get_global` of it at the builder's insertion point. Weights,
/// constant tables and KV caches are all such globals.
Value getOrCreateGlobal(OpBuilder &builder, Location loc, Operation *user,
                        StringRef name, MemRefType type, Attribute initialValue,
                        bool constant, IntegerAttr alignment = {});

/// The parts of a weight's storage, each a global of its own. `Values` is
/// the part of the converter's type for the weight: the dense values, the
/// packed codes, or a sparse weight's mask bytes; a sparse weight's kept
/// values (or codes) are `KeptValues`.
enum class WeightPart { Values, Scales, ZeroPoints, KeptValues, Offsets };

/// A `memref.get_global` of one part of `weight`'s storage: `ms_w_<i>` (the
/// dense values or the packed codes), `ms_w_<i>_masks` (a sparse weight's
/// `Values`), `ms_w_<i>_scales`, `ms_w_<i>_zero_points`, `ms_w_<i>_values`,
/// `ms_w_<i>_offsets`; each a flat, read-only global sharing the weight's
/// blob. The first use of a weight
/// gives it its `i` and adds its storage bytes to `state.weightBytes`, so a
/// weight used twice (tied logits) counts once.
Value getWeightGlobal(OpBuilder &builder, Location loc, llm::WeightOp weight,
                      WeightPart part,
                      const LLMToStandardTypeConverter &converter,
                      LoweringState &state);

/// A weight operand as kernel ops take it.
struct KernelWeight {
  Value storage;      // the dense values, packed codes or kept values
  Value scales;       // #llm.quant, and #llm.sparse with codes
  Value zeroPoints;   // asymmetric #llm.quant only
  Value indices;      // #llm.sparse: the mask bytes
  Value offsets;      // #llm.sparse: the row offsets
  Attribute encoding; // #kernel.quant or #kernel.sparse, null when dense
};

/// The kernel operands of the weight operand `weight` (a value of the
/// source IR) whose converted value is `storage`.
KernelWeight getKernelWeight(OpBuilder &builder, Location loc, Value weight,
                             Value storage,
                             const LLMToStandardTypeConverter &converter,
                             LoweringState &state);

/// Base of the lowering of one op: gives access to the converter and the
/// shared state, and allocates result buffers.
template <typename SourceOp>
class LLMOpLowering : public OpConversionPattern<SourceOp> {
public:
  LLMOpLowering(const LLMToStandardTypeConverter &converter,
                MLIRContext *context, LoweringState &state)
      : OpConversionPattern<SourceOp>(converter, context), state(state) {}

protected:
  const LLMToStandardTypeConverter &converter() const {
    return *static_cast<const LLMToStandardTypeConverter *>(
        this->getTypeConverter());
  }
  /// A fresh buffer for the op's (single) result; the memory planner places
  /// it.
  Value allocateResult(SourceOp op, OpBuilder &builder) const {
    auto type = converter().convertActivationType(
        cast<RankedTensorType>(op->getResult(0).getType()));
    return builder.create<memref::AllocOp>(op.getLoc(), type);
  }
  /// See mlir::microscale::getKernelWeight.
  KernelWeight getKernelWeight(OpBuilder &builder, Location loc, Value weight,
                               Value storage) const {
    return microscale::getKernelWeight(builder, loc, weight, storage,
                                       converter(), state);
  }
  /// A fresh f32 buffer of `elements` values, for scratch.
  Value allocateScratch(OpBuilder &builder, Location loc,
                        int64_t elements) const {
    return builder.create<memref::AllocOp>(
        loc, MemRefType::get({elements}, builder.getF32Type()));
  }

  LoweringState &state;
};

/// Builds loops and scalar arithmetic at one location.
class LoopBuilder {
public:
  LoopBuilder(OpBuilder &builder, Location loc) : b(builder), loc(loc) {}

  Value index(int64_t value) {
    return b.create<arith::ConstantIndexOp>(loc, value);
  }
  Value f32(double value) {
    return b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(value));
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
  void loop(Value lb, Value ub, llvm::function_ref<void(Value)> body);
  void loop(int64_t ub, llvm::function_ref<void(Value)> body) {
    loop(index(0), index(ub), body);
  }
  /// Sum of body(i) over [0, ub), accumulated in order in f32.
  Value sum(int64_t ub, llvm::function_ref<Value(Value)> body);
  /// Applies `body` to each element index of rows [0, rows) of a buffer of
  /// `features`-wide rows.
  void elementwise(Value rows, int64_t features,
                   llvm::function_ref<void(Value)> body) {
    loop(index(0), mul(rows, index(features)), body);
  }

  OpBuilder &b;
  Location loc;
};

/// The entry function, its return, and weights.
void populateEntryLoweringPatterns(const LLMToStandardTypeConverter &converter,
                                   RewritePatternSet &patterns,
                                   LoweringState &state);
/// Embeddings, norms, residual adds and RoPE: generated loops.
void populateLoopLoweringPatterns(const LLMToStandardTypeConverter &converter,
                                  RewritePatternSet &patterns,
                                  LoweringState &state);
/// Projections, attention and the MLP: kernel ops plus glue loops.
void populateKernelLoweringPatterns(const LLMToStandardTypeConverter &converter,
                                    RewritePatternSet &patterns,
                                    LoweringState &state);

} // namespace mlir::microscale

#endif // MICROSCALE_LIB_CONVERSION_LLMTOSTANDARD_LOWERINGPATTERNS_H
