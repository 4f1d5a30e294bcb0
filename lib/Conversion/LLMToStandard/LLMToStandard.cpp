//===- LLMToStandard.cpp - llm to loops, buffers and kernel ops -*- C++ -*-===//
//
// Part of the Microscale project.
//
// Builds the generated program's `ms_forward(tokens, n, pos) -> logits` from
// a raised llm function by a full dialect conversion, one pattern per op
// (EntryPatterns.cpp, LoopPatterns.cpp, KernelPatterns.cpp). Activations
// are row-major [tokens, features] buffers; `n` (the number of tokens of
// this call) is the only dynamic quantity, so every buffer has a static
// size and microscale-plan-memory can lay them out at compile time.
//
// Before converting, the pass checks what the patterns assume, so a module
// it cannot lower gets an error naming the problem rather than a failed
// legalization.
//
//===----------------------------------------------------------------------===//

#include "LoweringPatterns.h"

#include "microscale/Conversion/Passes.h"
#include "microscale/Dialect/LLM/IR/LLMOps.h"

namespace mlir::microscale {
#define GEN_PASS_DEF_CONVERTLLMTOSTANDARDPASS
#include "microscale/Conversion/Passes.h.inc"
} // namespace mlir::microscale

using namespace mlir;
using namespace mlir::microscale;
using namespace mlir::microscale::llm;

namespace {

struct ConvertLLMToStandardPass
    : public microscale::impl::ConvertLLMToStandardPassBase<
          ConvertLLMToStandardPass> {
  using ConvertLLMToStandardPassBase::ConvertLLMToStandardPassBase;
  void runOnOperation() override;
};

/// Checks a value the patterns will give a buffer or storage.
LogicalResult checkType(const LLMToStandardTypeConverter &converter,
                        Operation *op, Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  if (auto weight = dyn_cast<WeightOp>(op)) {
    // The runtime's quantized kernels read IEEE half or logarithmic scales.
    auto quant = dyn_cast_or_null<QuantAttr>(type.getEncoding());
    if (quant && !quant.getScale().isF16() && !quant.getScaleMax())
      return op->emitError("weight '")
             << weight.getName() << "' has " << quant.getScale()
             << " scales; the quantized kernels take f16 or i8 (logarithmic) "
                "scales";
    if (!converter.convertWeightType(type))
      return op->emitError("weight encoding ")
             << type.getEncoding() << " has no lowering";
    // The generated loops and the runtime kernels compute in f32.
    if (!type.getEncoding() && !type.getElementType().isF32())
      return op->emitError("dense ")
             << type.getElementType() << " weights have no lowering yet";
    return success();
  }
  if (type.hasStaticShape() || !converter.convertActivationType(type))
    return op->emitError("cannot lower activation of type ")
           << type << ": expected [?, ..., features] with static features";
  return success();
}

/// The entry function must be what the patterns expect: llm ops only,
/// token ids in, logits out.
LogicalResult checkLowerable(const LLMToStandardTypeConverter &converter,
                             func::FuncOp source) {
  if (source.isExternal() || !source.getBody().hasOneBlock())
    return source.emitError("the entry function must have a one-block body");
  Block &body = source.getBody().front();
  for (Operation &op : body.without_terminator()) {
    if (!isa<LLMDialect>(op.getDialect()))
      return op.emitError("cannot lower '")
             << op.getName() << "': only llm ops are supported";
    for (Value result : op.getResults())
      if (failed(checkType(converter, &op, result)))
        return failure();
  }
  auto returnOp = dyn_cast<func::ReturnOp>(body.getTerminator());
  if (!returnOp || returnOp.getNumOperands() != 1 ||
      !returnOp.getOperand(0).getDefiningOp<LogitsOp>())
    return source.emitError("the entry function must return llm.logits");
  if (source.getNumArguments() != 1 ||
      !isa<RankedTensorType>(source.getArgument(0).getType()) ||
      !isa<IntegerType>(cast<RankedTensorType>(source.getArgument(0).getType())
                            .getElementType()))
    return source.emitError("the entry function must take the token ids");
  return success();
}

bool hasTensors(TypeRange types) {
  return llvm::any_of(types, [](Type type) { return isa<TensorType>(type); });
}

} // namespace

void ConvertLLMToStandardPass::runOnOperation() {
  ModuleOp module = getOperation();
  MLIRContext *context = &getContext();
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
  LLMToStandardTypeConverter converter(context, maxTokens);
  if (failed(checkLowerable(converter, funcs.front())))
    return signalPassFailure();

  LoweringState state;
  state.contextLength = maxContext ? maxContext : model.getMaxContext();
  RewritePatternSet patterns(context);
  populateEntryLoweringPatterns(converter, patterns, state);
  populateLoopLoweringPatterns(converter, patterns, state);
  populateKernelLoweringPatterns(converter, patterns, state);

  ConversionTarget target(*context);
  target.addLegalOp<ModuleOp>();
  target.addLegalDialect<arith::ArithDialect, kernel::KernelDialect,
                         LLVM::LLVMDialect, math::MathDialect,
                         memref::MemRefDialect, scf::SCFDialect>();
  target.addIllegalDialect<LLMDialect>();
  target.addDynamicallyLegalOp<func::FuncOp>([](func::FuncOp func) {
    return !hasTensors(func.getArgumentTypes()) &&
           !hasTensors(func.getResultTypes());
  });
  target.addDynamicallyLegalOp<func::ReturnOp>(
      [](func::ReturnOp op) { return !hasTensors(op.getOperandTypes()); });
  if (failed(applyFullConversion(module, target, std::move(patterns))))
    return signalPassFailure();

  Builder builder(context);
  module->setAttr("ms.weight_bytes",
                  builder.getI64IntegerAttr(state.weightBytes));
  module->setAttr("ms.max_tokens", builder.getI64IntegerAttr(maxTokens));
  module->setAttr("ms.max_context",
                  builder.getI64IntegerAttr(state.contextLength));
}
