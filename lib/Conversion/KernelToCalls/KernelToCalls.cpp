//===- KernelToCalls.cpp - kernel ops to runtime calls ----------*- C++ -*-===//
//
// Part of the Microscale project.
//
// Each kernel op becomes a call to the runtime function the kernel table
// lists for its op, element type, weight element type and weight encoding.
// The table is runtime/include/microscale/kernels.def: each entry names its
// C parameters, and each op offers its operands and attributes under those
// names (`operandsOf`), so a new kernel whose parameters an op already
// offers is a table entry and nothing else. A `#kernel.quant` weight looks
// up the encoding `quant<bits>` first (a kernel specialized for the width),
// then `quant` (any width, told `bits`).
//
//===----------------------------------------------------------------------===//

#include "microscale/Conversion/Passes.h"
#include "microscale/Dialect/Kernel/IR/KernelOps.h"

#include "mlir/Transforms/DialectConversion.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"

namespace mlir::microscale {
#define GEN_PASS_DEF_CONVERTKERNELTOCALLSPASS
#include "microscale/Conversion/Passes.h.inc"
} // namespace mlir::microscale

using namespace mlir;
using namespace mlir::microscale;

namespace {

enum class ArgKind { Pointer, I64, F32 };

struct KernelArg {
  ArgKind kind;
  StringRef name;
};

/// One entry of kernels.def.
struct KernelEntry {
  StringRef symbol;
  StringRef op;
  StringRef elementType;
  StringRef weightType;
  StringRef encoding;
  SmallVector<KernelArg, 12> args;
};

ArrayRef<KernelEntry> getKernelTable() {
#define MS_ARG_PTR(type, name)                                                 \
  KernelArg { ArgKind::Pointer, #name }
#define MS_ARG_CONST_PTR(type, name)                                           \
  KernelArg { ArgKind::Pointer, #name }
#define MS_ARG_I64(name)                                                       \
  KernelArg { ArgKind::I64, #name }
#define MS_ARG_F32(name)                                                       \
  KernelArg { ArgKind::F32, #name }
#define MS_KERNEL(symbol, op, element, weight, encoding, ...)                  \
  KernelEntry{#symbol, #op, #element, #weight, #encoding, {__VA_ARGS__}},
  static const KernelEntry table[] = {
#include "microscale/kernels.def"
  };
  return table;
}

std::string typeName(Type type) {
  std::string name;
  llvm::raw_string_ostream(name) << type;
  return name;
}

/// What a kernel op offers a kernel's parameter: a buffer or index value,
/// an attribute, or nothing (an absent optional buffer: a null pointer). A
/// buffer may be offered from its row `row` on (rows of `rowSize` values).
struct KernelOperand {
  Value value;
  Attribute attribute;
  Value row = {};
  int64_t rowSize = 0;
};

/// The op's key into the kernel table; `encodings` are tried in order.
struct KernelKey {
  StringRef op;
  std::string elementType;
  std::string weightType;
  SmallVector<std::string, 2> encodings;
};

/// The table's names for a weight encoding, most specific first. A product
/// with 8-bit activations (`activations`) needs an `_a8` kernel; a row
/// lookup has no activations.
SmallVector<std::string, 2> encodingNames(Attribute encoding,
                                          bool activations) {
  if (!encoding)
    return {"dense"};
  if (auto quant = dyn_cast<kernel::QuantAttr>(encoding)) {
    std::string suffix = activations && quant.hasInt8Activations() ? "_a8" : "";
    return {"quant" + std::to_string(quant.getBits()) + suffix,
            "quant" + suffix};
  }
  if (isa<kernel::SparseAttr>(encoding))
    return {"sparse"};
  return {encoding.getAbstractAttribute().getName().str()};
}

KernelKey keyOf(kernel::LinearOp op) {
  return {"linear", typeName(op.getInput().getType().getElementType()),
          typeName(op.getWeight().getType().getElementType()),
          encodingNames(op.getWeightEncodingAttr(), /*activations=*/true)};
}

KernelKey keyOf(kernel::DequantizeRowOp op) {
  return {"dequantize_row", typeName(op.getOutput().getType().getElementType()),
          typeName(op.getWeight().getType().getElementType()),
          encodingNames(op.getWeightEncodingAttr(), /*activations=*/false)};
}

KernelKey keyOf(kernel::AttentionOp op) {
  return {"attention",
          typeName(op.getQuery().getType().getElementType()),
          "none",
          {"dense"}};
}

/// The code width and group size of a quantized weight.
void addQuantOperands(llvm::StringMap<KernelOperand> &operands,
                      kernel::QuantAttr quant) {
  Builder b(quant.getContext());
  operands["bits"] = {{}, b.getI64IntegerAttr(quant.getBits())};
  operands["group"] = {{}, b.getI64IntegerAttr(quant.getGroup())};
  // 0 tells the kernels the scales are half floats.
  FloatAttr scaleMax = quant.getScaleMax();
  operands["scale_max"] = {{}, scaleMax ? scaleMax : b.getF32FloatAttr(0.0f)};
}

llvm::StringMap<KernelOperand> operandsOf(kernel::LinearOp op) {
  llvm::StringMap<KernelOperand> operands = {
      {"x", {op.getInput(), {}, op.getInputRow(), int64_t(op.getInFeatures())}},
      {"rows", {op.getRows(), {}}},
      {"in", {{}, op.getInFeaturesAttr()}},
      {"w", {op.getWeight(), {}}},
      {"out", {{}, op.getOutFeaturesAttr()}},
      {"bias", {op.getBias(), {}}},
      {"y", {op.getOutput(), {}}},
      {"scratch", {op.getScratch(), {}}}};
  if (auto quant =
          dyn_cast_or_null<kernel::QuantAttr>(op.getWeightEncodingAttr())) {
    operands["scales"] = {op.getScales(), {}};
    operands["zero_points"] = {op.getZeroPoints(), {}};
    addQuantOperands(operands, quant);
  }
  if (isa_and_nonnull<kernel::SparseAttr>(op.getWeightEncodingAttr())) {
    operands["indices"] = {op.getIndices(), {}};
    operands["offsets"] = {op.getOffsets(), {}};
    operands["scales"] = {op.getScales(), {}};
  }
  return operands;
}

llvm::StringMap<KernelOperand> operandsOf(kernel::DequantizeRowOp op) {
  llvm::StringMap<KernelOperand> operands = {
      {"w", {op.getWeight(), {}}},
      {"scales", {op.getScales(), {}}},
      {"zero_points", {op.getZeroPoints(), {}}},
      {"in", {{}, op.getInFeaturesAttr()}},
      {"row", {op.getRow(), {}}},
      {"y",
       {op.getOutput(),
        {},
        op.getOutputRow(),
        static_cast<int64_t>(op.getInFeatures())}}};
  addQuantOperands(operands, op.getWeightEncoding());
  return operands;
}

llvm::StringMap<KernelOperand> operandsOf(kernel::AttentionOp op) {
  return {{"q", {op.getQuery(), {}}},
          {"k_cache", {op.getKeyCache(), {}}},
          {"v_cache", {op.getValueCache(), {}}},
          {"n", {op.getRows(), {}}},
          {"pos", {op.getPosition(), {}}},
          {"num_heads", {{}, op.getNumHeadsAttr()}},
          {"num_kv_heads", {{}, op.getNumKvHeadsAttr()}},
          {"head_dim", {{}, op.getHeadDimAttr()}},
          {"scale", {{}, op.getScaleAttr()}},
          {"out", {op.getOutput(), {}}},
          {"scratch", {op.getScratch(), {}}}};
}

/// Whether `operand` can be passed as a parameter of `kind`.
bool fits(ArgKind kind, const KernelOperand &operand) {
  switch (kind) {
  case ArgKind::Pointer:
    return !operand.attribute &&
           (!operand.value || isa<MemRefType>(operand.value.getType()));
  case ArgKind::I64:
    return (operand.value && operand.value.getType().isIndex()) ||
           isa_and_nonnull<IntegerAttr>(operand.attribute);
  case ArgKind::F32:
    return isa_and_nonnull<FloatAttr>(operand.attribute);
  }
  llvm_unreachable("unknown argument kind");
}

/// The table entry for `op`, or an error saying why there is none.
template <typename KernelOp>
FailureOr<const KernelEntry *> lookupKernel(KernelOp op) {
  KernelKey key = keyOf(op);
  for (StringRef encoding : key.encodings) {
    for (const KernelEntry &entry : getKernelTable()) {
      if (entry.op != key.op || entry.elementType != key.elementType ||
          entry.weightType != key.weightType || entry.encoding != encoding)
        continue;
      llvm::StringMap<KernelOperand> operands = operandsOf(op);
      for (const KernelArg &arg : entry.args) {
        auto it = operands.find(arg.name);
        if (it == operands.end() || !fits(arg.kind, it->second))
          return op.emitError("runtime kernel '")
                 << entry.symbol << "' takes '" << arg.name << "', which "
                 << op->getName() << " does not provide in that form";
      }
      return &entry;
    }
  }
  return op.emitError("no runtime kernel for ")
         << op->getName() << " with element type " << key.elementType
         << ", weight type " << key.weightType << " and weight encoding "
         << llvm::join(key.encodings, " or ")
         << " (see runtime/include/microscale/kernels.def)";
}

/// The address of `operand`'s buffer (from its row `row` on) as an i64.
Value addressOf(OpBuilder &b, Location loc, const KernelOperand &operand) {
  Value address =
      b.create<memref::ExtractAlignedPointerAsIndexOp>(loc, operand.value);
  if (operand.row) {
    auto type = cast<MemRefType>(operand.value.getType());
    int64_t rowBytes =
        operand.rowSize * ((type.getElementTypeBitWidth() + 7) / 8);
    address = b.create<arith::AddIOp>(
        loc, address,
        b.create<arith::MulIOp>(
            loc, operand.row, b.create<arith::ConstantIndexOp>(loc, rowBytes)));
  }
  return b.create<arith::IndexCastOp>(loc, b.getI64Type(), address);
}

/// `operand` as a parameter of `kind`: buffers by their aligned address,
/// integers as explicit i64 whatever the target's index width.
Value materialize(OpBuilder &b, Location loc, ArgKind kind,
                  const KernelOperand &operand) {
  Type ptr = LLVM::LLVMPointerType::get(b.getContext());
  switch (kind) {
  case ArgKind::Pointer:
    if (!operand.value)
      return b.create<LLVM::ZeroOp>(loc, ptr);
    return b.create<LLVM::IntToPtrOp>(loc, ptr, addressOf(b, loc, operand));
  case ArgKind::I64:
    if (operand.value)
      return b.create<arith::IndexCastOp>(loc, b.getI64Type(), operand.value);
    return b.create<arith::ConstantOp>(
        loc,
        b.getI64IntegerAttr(cast<IntegerAttr>(operand.attribute).getInt()));
  case ArgKind::F32:
    return b.create<arith::ConstantOp>(
        loc, b.getF32FloatAttr(
                 cast<FloatAttr>(operand.attribute).getValueAsDouble()));
  }
  llvm_unreachable("unknown argument kind");
}

/// The private declaration of the kernel's runtime function.
func::FuncOp declareKernel(OpBuilder &b, Operation *user,
                           const KernelEntry &entry) {
  auto module = user->getParentOfType<ModuleOp>();
  if (auto existing = module.lookupSymbol<func::FuncOp>(entry.symbol))
    return existing;
  SmallVector<Type> inputs;
  for (const KernelArg &arg : entry.args) {
    switch (arg.kind) {
    case ArgKind::Pointer:
      inputs.push_back(LLVM::LLVMPointerType::get(b.getContext()));
      break;
    case ArgKind::I64:
      inputs.push_back(b.getI64Type());
      break;
    case ArgKind::F32:
      inputs.push_back(b.getF32Type());
      break;
    }
  }
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(user->getParentOfType<func::FuncOp>());
  auto func = b.create<func::FuncOp>(module.getLoc(), entry.symbol,
                                     b.getFunctionType(inputs, {}));
  func.setPrivate();
  return func;
}

template <typename KernelOp>
struct KernelCallLowering : OpConversionPattern<KernelOp> {
  using OpConversionPattern<KernelOp>::OpConversionPattern;

  LogicalResult
  matchAndRewrite(KernelOp op, typename KernelOp::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    FailureOr<const KernelEntry *> entry = lookupKernel(op);
    if (failed(entry))
      return failure();
    llvm::StringMap<KernelOperand> operands = operandsOf(op);
    SmallVector<Value> arguments;
    for (const KernelArg &arg : (*entry)->args)
      arguments.push_back(
          materialize(rewriter, op.getLoc(), arg.kind, operands[arg.name]));
    rewriter.replaceOpWithNewOp<func::CallOp>(
        op, declareKernel(rewriter, op, **entry), arguments);
    return success();
  }
};

struct ConvertKernelToCallsPass
    : public microscale::impl::ConvertKernelToCallsPassBase<
          ConvertKernelToCallsPass> {
  using ConvertKernelToCallsPassBase::ConvertKernelToCallsPassBase;

  void runOnOperation() override {
    MLIRContext *context = &getContext();
    // Report every op without a kernel, once, before converting any.
    bool missing = false;
    getOperation().walk([&](Operation *op) {
      if (auto linear = dyn_cast<kernel::LinearOp>(op))
        missing |= failed(lookupKernel(linear));
      else if (auto dequantize = dyn_cast<kernel::DequantizeRowOp>(op))
        missing |= failed(lookupKernel(dequantize));
      else if (auto attention = dyn_cast<kernel::AttentionOp>(op))
        missing |= failed(lookupKernel(attention));
    });
    if (missing)
      return signalPassFailure();
    RewritePatternSet patterns(context);
    patterns.add<KernelCallLowering<kernel::LinearOp>,
                 KernelCallLowering<kernel::DequantizeRowOp>,
                 KernelCallLowering<kernel::AttentionOp>>(context);
    ConversionTarget target(*context);
    target.addIllegalDialect<kernel::KernelDialect>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
