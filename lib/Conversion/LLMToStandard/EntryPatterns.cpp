//===- EntryPatterns.cpp - ms_forward, its return, weights ------*- C++ -*-===//
//
// Part of the Microscale project.
//
// The type converter and the patterns that shape the program around the
// model's ops: the entry function becomes
// `ms_forward(tokens, n, pos, logit_rows)`
// returning a pointer to the logits, and each `llm.weight` constant globals
// sharing the weight's resource blobs (one per storage attribute).
//
//===----------------------------------------------------------------------===//

#include "LoweringPatterns.h"

#include "microscale/Dialect/Kernel/IR/KernelOps.h"
#include "microscale/Dialect/LLM/IR/LLMOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"

using namespace mlir;
using namespace mlir::microscale;

namespace {
constexpr int64_t kWeightAlignment = 64;
} // namespace

//===----------------------------------------------------------------------===//
// Types
//===----------------------------------------------------------------------===//

LLMToStandardTypeConverter::LLMToStandardTypeConverter(MLIRContext *context,
                                                       int64_t maxTokens)
    : context(context), maxTokens(maxTokens) {
  // Tried last: types that are already the program's pass through.
  addConversion([](Type type) { return type; });
  addConversion([this](RankedTensorType type) -> Type {
    if (isa<IntegerType>(type.getElementType()))
      return getTokensType();
    if (type.hasStaticShape())
      return convertWeightType(type);
    return convertActivationType(type);
  });
}

Type LLMToStandardTypeConverter::convertWeightType(
    RankedTensorType type) const {
  Attribute encoding = type.getEncoding();
  // Dense: the values themselves, flattened.
  if (!encoding)
    return MemRefType::get({type.getNumElements()}, type.getElementType());
  // Quantized: the packed codes, flattened; the scales and zero points are
  // globals of their own that the kernel ops take as extra operands.
  if (auto quant = dyn_cast<llm::QuantAttr>(encoding))
    return MemRefType::get({quant.getPackedType(type).getNumElements()},
                           IntegerType::get(context, 8));
  // Sparse (bitmask): the mask bytes, which the logical type sizes; the
  // kept values and row offsets, whose count only the weight knows, are
  // globals of their own.
  auto sparse = dyn_cast<llm::SparseAttr>(encoding);
  if (sparse && sparse.getFormat() == llm::SparseFormat::Bitmask)
    return MemRefType::get({sparse.getMasksType(type).getNumElements()},
                           IntegerType::get(context, 8));
  return nullptr;
}

MemRefType
LLMToStandardTypeConverter::convertActivationType(RankedTensorType type) const {
  if (type.getRank() == 0 || ShapedType::isDynamic(type.getShape().back()) ||
      type.getEncoding())
    return nullptr;
  return MemRefType::get({maxTokens * type.getShape().back()},
                         type.getElementType());
}

MemRefType LLMToStandardTypeConverter::getTokensType() const {
  return MemRefType::get({maxTokens}, IntegerType::get(context, /*width=*/32));
}

//===----------------------------------------------------------------------===//
// Shared helpers
//===----------------------------------------------------------------------===//

int64_t mlir::microscale::lastDim(Value tensor) {
  return cast<RankedTensorType>(tensor.getType()).getShape().back();
}

Value mlir::microscale::getOrCreateGlobal(OpBuilder &builder, Location loc,
                                          Operation *user, StringRef name,
                                          MemRefType type,
                                          Attribute initialValue, bool constant,
                                          IntegerAttr alignment) {
  auto function = user->getParentOfType<func::FuncOp>();
  if (!function->getParentOfType<ModuleOp>().lookupSymbol(name)) {
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPoint(function);
    builder.create<memref::GlobalOp>(loc, name,
                                     builder.getStringAttr("private"), type,
                                     initialValue, constant, alignment);
  }
  return builder.create<memref::GetGlobalOp>(loc, type, name);
}

/// The data of a weight as a flat tensor of its storage type. Resource
/// blobs are shared, not copied.
static ElementsAttr flatten(ElementsAttr value, MemRefType storage) {
  auto flatType =
      RankedTensorType::get(storage.getShape(), storage.getElementType());
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(value))
    return DenseResourceElementsAttr::get(flatType, resource.getRawHandle());
  return cast<DenseElementsAttr>(value).reshape(flatType);
}

Value mlir::microscale::getWeightGlobal(
    OpBuilder &builder, Location loc, llm::WeightOp weight, WeightPart part,
    const LLMToStandardTypeConverter &converter, LoweringState &state) {
  auto [it, first] = state.weightIndices.try_emplace(weight, state.weightCount);
  if (first) {
    ++state.weightCount;
    state.weightBytes += weight.getStorageBytes();
  }
  std::string name = "ms_w_" + std::to_string(it->second);
  bool sparse = isa_and_nonnull<llm::SparseAttr>(weight.getEncoding());
  ElementsAttr data = sparse ? weight.getIndicesAttr() : weight.getValue();
  if (sparse && part == WeightPart::Values) {
    name += "_masks";
  } else if (part == WeightPart::Scales) {
    name += "_scales";
    data = weight.getScalesAttr();
  } else if (part == WeightPart::ZeroPoints) {
    name += "_zero_points";
    data = weight.getZeroPointsAttr();
  } else if (part == WeightPart::KeptValues) {
    name += "_values";
    data = weight.getValue();
  } else if (part == WeightPart::Offsets) {
    name += "_offsets";
    data = weight.getOffsetsAttr();
  }
  auto dataType = cast<ShapedType>(data.getType());
  auto type =
      part == WeightPart::Values
          ? cast<MemRefType>(converter.convertWeightType(weight.getType()))
          : MemRefType::get({dataType.getNumElements()},
                            dataType.getElementType());
  return getOrCreateGlobal(builder, loc, weight, name, type,
                           flatten(data, type), /*constant=*/true,
                           builder.getI64IntegerAttr(kWeightAlignment));
}

KernelWeight mlir::microscale::getKernelWeight(
    OpBuilder &builder, Location loc, Value weight, Value storage,
    const LLMToStandardTypeConverter &converter, LoweringState &state) {
  auto type = cast<RankedTensorType>(weight.getType());
  // Only llm.weight makes static tensors: checkLowerable rejects any other
  // op with one.
  auto op = weight.getDefiningOp<llm::WeightOp>();
  if (auto sparse = dyn_cast_or_null<llm::SparseAttr>(type.getEncoding())) {
    KernelWeight result;
    result.storage = getWeightGlobal(builder, loc, op, WeightPart::KeptValues,
                                     converter, state);
    result.indices = storage;
    result.offsets = getWeightGlobal(builder, loc, op, WeightPart::Offsets,
                                     converter, state);
    if (sparse.getQuant())
      result.scales = getWeightGlobal(builder, loc, op, WeightPart::Scales,
                                      converter, state);
    result.encoding = kernel::SparseAttr::get(builder.getContext());
    return result;
  }
  auto quant = dyn_cast_or_null<llm::QuantAttr>(type.getEncoding());
  if (!quant)
    return {storage, {}, {}, {}, {}, type.getEncoding()};
  KernelWeight result{storage, {}, {}, {}, {}, {}};
  result.scales =
      getWeightGlobal(builder, loc, op, WeightPart::Scales, converter, state);
  if (!quant.isSymmetric())
    result.zeroPoints = getWeightGlobal(
        builder, loc, op, WeightPart::ZeroPoints, converter, state);
  // The kernels take the group size in features (the whole row for 0).
  result.encoding =
      kernel::QuantAttr::get(builder.getContext(), quant.getBits(),
                             quant.getGroupSize(type.getDimSize(1)),
                             quant.getScaleMax(), quant.getActivations());
  return result;
}

CallArguments mlir::microscale::getCallArguments(Operation *op) {
  Block &entry = op->getParentOfType<func::FuncOp>().getBody().front();
  // `n`, `pos` and `logit_rows` arrive as int64_t (the ABI's type on every
  // target); the entry pattern casts each to an index once, at the top of
  // the body.
  auto asIndex = [&](BlockArgument argument) -> Value {
    for (Operation *user : argument.getUsers())
      if (isa<arith::IndexCastOp>(user) && user->getBlock() == &entry)
        return user->getResult(0);
    return argument;
  };
  return {entry.getArgument(0), asIndex(entry.getArgument(1)),
          asIndex(entry.getArgument(2)), asIndex(entry.getArgument(3))};
}

void LoopBuilder::loop(Value lb, Value ub,
                       llvm::function_ref<void(Value)> body) {
  auto forOp = b.create<scf::ForOp>(loc, lb, ub, index(1));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(forOp.getBody());
  body(forOp.getInductionVar());
}

Value LoopBuilder::sum(int64_t ub, llvm::function_ref<Value(Value)> body) {
  auto forOp = b.create<scf::ForOp>(loc, index(0), index(ub), index(1),
                                    ValueRange{f32(0.0)});
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(forOp.getBody());
  Value next =
      fadd(forOp.getRegionIterArgs()[0], body(forOp.getInductionVar()));
  b.create<scf::YieldOp>(loc, next);
  return forOp.getResult(0);
}

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

namespace {

/// The raised entry function `(ids) -> logits` becomes
/// `ms_forward(tokens, n, pos, logit_rows) -> !llvm.ptr`: the ids become the
/// tokens buffer, `n`, `pos` and `logit_rows` are new arguments the other
/// patterns read.
struct EntryFunctionLowering : LLMOpLowering<func::FuncOp> {
  using LLMOpLowering::LLMOpLowering;

  LogicalResult
  matchAndRewrite(func::FuncOp func, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (func.isExternal() || func.getNumArguments() != 1)
      return rewriter.notifyMatchFailure(func, "not an llm entry function");
    // `n`, `pos` and `logit_rows` are int64_t in runtime.h whatever the
    // index width, so 32-bit targets agree with the C declaration.
    Type i64 = rewriter.getI64Type();
    Type tokens = converter().getTokensType();
    auto forward = rewriter.create<func::FuncOp>(
        func.getLoc(), kForwardName,
        rewriter.getFunctionType(
            {tokens, i64, i64, i64},
            {LLVM::LLVMPointerType::get(rewriter.getContext())}));
    TypeConverter::SignatureConversion signature(1);
    signature.addInputs(0, tokens);
    signature.addInputs({i64, i64, i64});
    rewriter.inlineRegionBefore(func.getBody(), forward.getBody(),
                                forward.end());
    Block *entry = rewriter.applySignatureConversion(&forward.getBody().front(),
                                                     signature, &converter());
    if (!entry)
      return failure();
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPointToStart(entry);
    for (unsigned i : {1u, 2u, 3u})
      rewriter.create<arith::IndexCastOp>(
          func.getLoc(), rewriter.getIndexType(), entry->getArgument(i));
    rewriter.eraseOp(func);
    return success();
  }
};

/// The logits come back as a plain pointer: the bare-pointer convention
/// would return a view's allocated, not aligned, pointer.
struct ReturnLowering : LLMOpLowering<func::ReturnOp> {
  using LLMOpLowering::LLMOpLowering;

  LogicalResult
  matchAndRewrite(func::ReturnOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (adaptor.getOperands().size() != 1)
      return rewriter.notifyMatchFailure(op, "expected one result");
    Location loc = op.getLoc();
    Value address = rewriter.create<memref::ExtractAlignedPointerAsIndexOp>(
        loc, adaptor.getOperands()[0]);
    Value address64 = rewriter.create<arith::IndexCastOp>(
        loc, rewriter.getI64Type(), address);
    Value pointer = rewriter.create<LLVM::IntToPtrOp>(
        loc, LLVM::LLVMPointerType::get(rewriter.getContext()), address64);
    rewriter.replaceOpWithNewOp<func::ReturnOp>(op, pointer);
    return success();
  }
};

/// `llm.weight` becomes the constant global `ms_w_<i>` holding its values
/// or packed codes; kernel ops that need a quantized weight's scales and
/// zero points get those globals themselves (getKernelWeight).
struct WeightLowering : LLMOpLowering<llm::WeightOp> {
  using LLMOpLowering::LLMOpLowering;

  LogicalResult
  matchAndRewrite(llm::WeightOp weight, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (!converter().convertWeightType(weight.getType()))
      return rewriter.notifyMatchFailure(weight, "no storage for encoding");
    rewriter.replaceOp(weight,
                       getWeightGlobal(rewriter, weight.getLoc(), weight,
                                       WeightPart::Values, converter(), state));
    return success();
  }
};

} // namespace

void mlir::microscale::populateEntryLoweringPatterns(
    const LLMToStandardTypeConverter &converter, RewritePatternSet &patterns,
    LoweringState &state) {
  patterns.add<EntryFunctionLowering, ReturnLowering, WeightLowering>(
      converter, patterns.getContext(), state);
}
