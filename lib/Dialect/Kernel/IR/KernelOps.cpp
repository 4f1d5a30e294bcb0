//===- KernelOps.cpp - kernel dialect ---------------------------*- C++ -*-===//
//
// Part of the Microscale project.
//
// The verifiers check that the buffers are large enough for the shapes the
// attributes promise: after `convert-kernel-to-calls` they are raw pointers
// and a mistake would be an out-of-bounds access in the program.
//
//===----------------------------------------------------------------------===//

#include "microscale/Dialect/Kernel/IR/KernelOps.h"
#include "microscale/Quant/Activations.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::microscale::kernel;

#include "microscale/Dialect/Kernel/IR/KernelOpsDialect.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "microscale/Dialect/Kernel/IR/KernelAttrs.cpp.inc"

void KernelDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "microscale/Dialect/Kernel/IR/KernelOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "microscale/Dialect/Kernel/IR/KernelAttrs.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// QuantAttr
//===----------------------------------------------------------------------===//

LogicalResult QuantAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                int64_t bits, int64_t group, FloatAttr scaleMax,
                                Type activations) {
  if (bits < 2 || bits > 8)
    return emitError() << "#kernel.quant bits must be in [2, 8], got " << bits;
  if (group < 1)
    return emitError() << "#kernel.quant group must be positive, got " << group;
  if (scaleMax &&
      (!scaleMax.getType().isF32() || !(scaleMax.getValueAsDouble() > 0.0)))
    return emitError() << "#kernel.quant scale_max must be a positive f32, got "
                       << scaleMax;
  if (activations && !activations.isSignlessInteger(8))
    return emitError() << "#kernel.quant activations must be i8, got "
                       << activations;
  return success();
}

int64_t QuantAttr::getRowBytes(int64_t inFeatures) const {
  return (inFeatures * getBits() + 7) / 8;
}

int64_t QuantAttr::getNumGroups(int64_t inFeatures) const {
  return (inFeatures + getGroup() - 1) / getGroup();
}

//===----------------------------------------------------------------------===//
// Custom directives
//===----------------------------------------------------------------------===//

/// `(, type)*`: the types of the optional buffers that are present, in
/// order. A bare optional group per buffer would be ambiguous (`, T` could
/// belong to any of them); the operand list already says which are there.
static ParseResult parseOptionalBufferTypes(
    OpAsmParser &parser, std::optional<OpAsmParser::UnresolvedOperand> scales,
    std::optional<OpAsmParser::UnresolvedOperand> zeroPoints,
    std::optional<OpAsmParser::UnresolvedOperand> indices,
    std::optional<OpAsmParser::UnresolvedOperand> offsets,
    std::optional<OpAsmParser::UnresolvedOperand> bias, Type &scalesType,
    Type &zeroPointsType, Type &indicesType, Type &offsetsType,
    Type &biasType) {
  for (auto [present, type] :
       {std::make_pair(scales.has_value(), &scalesType),
        std::make_pair(zeroPoints.has_value(), &zeroPointsType),
        std::make_pair(indices.has_value(), &indicesType),
        std::make_pair(offsets.has_value(), &offsetsType),
        std::make_pair(bias.has_value(), &biasType)})
    if (present && (parser.parseComma() || parser.parseType(*type)))
      return failure();
  return success();
}

static void printOptionalBufferTypes(OpAsmPrinter &printer, Operation *,
                                     Value scales, Value zeroPoints,
                                     Value indices, Value offsets, Value bias,
                                     Type, Type, Type, Type, Type) {
  for (Value buffer : {scales, zeroPoints, indices, offsets, bias})
    if (buffer)
      printer << ", " << buffer.getType();
}

#define GET_OP_CLASSES
#include "microscale/Dialect/Kernel/IR/KernelOps.cpp.inc"

static int64_t elementsOf(Value buffer) {
  return cast<MemRefType>(buffer.getType()).getNumElements();
}

/// Checks that `buffer` holds whole rows of `rowSize` values and returns
/// how many; fails (with an error naming `what`) otherwise.
static FailureOr<int64_t> rowsOf(Operation *op, Value buffer, int64_t rowSize,
                                 StringRef what) {
  int64_t elements = elementsOf(buffer);
  if (elements % rowSize != 0)
    return op->emitOpError()
           << what << " holds " << elements
           << " values, not a whole number of rows of " << rowSize;
  return elements / rowSize;
}

/// Checks the storage of a `#kernel.quant` weight of `rows` rows of
/// `inFeatures` values: packed codes, f16 scales and, if present, zero
/// points, each holding exactly what the layout needs.
static LogicalResult verifyQuantStorage(Operation *op, QuantAttr quant,
                                        int64_t rows, int64_t inFeatures,
                                        Value weight, Value scales,
                                        Value zeroPoints) {
  if (!cast<MemRefType>(weight.getType()).getElementType().isInteger(8))
    return op->emitOpError("a #kernel.quant weight holds i8 codes, got ")
           << weight.getType();
  int64_t codes = rows * quant.getRowBytes(inFeatures);
  if (elementsOf(weight) != codes)
    return op->emitOpError()
           << "quantized weight holds " << elementsOf(weight)
           << " bytes, expected " << codes << " (" << rows << " rows of "
           << quant.getRowBytes(inFeatures) << ")";
  int64_t groups = rows * quant.getNumGroups(inFeatures);
  if (!scales)
    return op->emitOpError("a #kernel.quant weight needs scales");
  bool logarithmic = static_cast<bool>(quant.getScaleMax());
  Type scaleType = cast<MemRefType>(scales.getType()).getElementType();
  if (logarithmic != scaleType.isInteger(8))
    return op->emitOpError("scales must be ")
           << (logarithmic ? "i8 codes with scale_max"
                           : "f16 without scale_max")
           << ", got " << scales.getType();
  if (elementsOf(scales) != groups)
    return op->emitOpError() << "scales hold " << elementsOf(scales)
                             << " values, expected " << groups;
  int64_t zeroPointBytes = rows * quant.getZeroPointRowBytes(inFeatures);
  if (zeroPoints && elementsOf(zeroPoints) != zeroPointBytes)
    return op->emitOpError() << "zero_points hold " << elementsOf(zeroPoints)
                             << " bytes, expected " << zeroPointBytes;
  return success();
}

/// A linear with 8-bit activations needs scratch for `rows` rows of
/// `inFeatures`; any other linear has none.
static LogicalResult verifyActivationScratch(LinearOp op, QuantAttr quant,
                                             int64_t inFeatures, int64_t rows) {
  bool blocks = quant && quant.hasInt8Activations();
  Value scratch = op.getScratch();
  if (!blocks)
    return scratch ? op.emitOpError("scratch is for #kernel.quant weights with "
                                    "8-bit activations")
                   : success();
  if (quant.getGroup() % microscale::quant::activationBlock() != 0 &&
      quant.getGroup() != inFeatures)
    return op.emitOpError() << "8-bit activations need groups that are a "
                               "multiple of "
                            << microscale::quant::activationBlock()
                            << " or the whole row, got " << quant.getGroup();
  int64_t needed = microscale::quant::activationScratchFloats(rows, inFeatures);
  if (!scratch)
    return op.emitOpError("8-bit activations need a scratch buffer");
  if (!cast<MemRefType>(scratch.getType()).getElementType().isF32() ||
      elementsOf(scratch) < needed)
    return op.emitOpError() << "scratch must hold at least " << needed
                            << " f32 values, got " << scratch.getType();
  return success();
}

/// Checks the storage of a `#kernel.sparse` weight of `rows` rows of
/// `inFeatures`: mask bytes and offsets of their exact sizes, f32 values,
/// or i8 codes with one f16 scale per row. The count of kept values is in
/// the offsets' data, so only its bound is checked.
static LogicalResult verifySparseStorage(LinearOp op, int64_t rows,
                                         int64_t inFeatures) {
  Value masks = op.getIndices(), offsets = op.getOffsets();
  int64_t maskBytes = rows * ((inFeatures + 7) / 8);
  if (!masks || elementsOf(masks) != maskBytes)
    return op.emitOpError() << "a #kernel.sparse weight needs " << maskBytes
                            << " mask bytes in indices";
  if (!offsets || elementsOf(offsets) != rows + 1)
    return op.emitOpError()
           << "a #kernel.sparse weight needs " << rows + 1 << " row offsets";
  Type element = cast<MemRefType>(op.getWeight().getType()).getElementType();
  if (!element.isF32() && !element.isInteger(8))
    return op.emitOpError("a #kernel.sparse weight holds f32 values or i8 "
                          "codes, got ")
           << op.getWeight().getType();
  if (elementsOf(op.getWeight()) > rows * inFeatures)
    return op.emitOpError() << "a #kernel.sparse weight keeps at most "
                            << rows * inFeatures << " values";
  Value scales = op.getScales();
  if (element.isInteger(8) &&
      (!scales ||
       !cast<MemRefType>(scales.getType()).getElementType().isF16() ||
       elementsOf(scales) != rows))
    return op.emitOpError()
           << "sparse i8 codes need " << rows << " f16 scales, one per row";
  if (element.isF32() && scales)
    return op.emitOpError("sparse f32 values have no scales");
  if (op.getZeroPoints())
    return op.emitOpError("a #kernel.sparse weight has no zero points");
  return success();
}

LogicalResult LinearOp::verify() {
  int64_t in = getInFeatures(), out = getOutFeatures();
  if (in <= 0 || out <= 0)
    return emitOpError("in_features and out_features must be positive");
  FailureOr<int64_t> inputRows = rowsOf(*this, getInput(), in, "input");
  FailureOr<int64_t> outputRows = rowsOf(*this, getOutput(), out, "output");
  if (failed(inputRows) || failed(outputRows))
    return failure();
  if (*inputRows != *outputRows)
    return emitOpError() << "input has room for " << *inputRows
                         << " rows but output for " << *outputRows;
  if (getBias() && elementsOf(getBias()) != out)
    return emitOpError() << "bias holds " << elementsOf(getBias())
                         << " values, expected " << out;
  auto quant = dyn_cast_or_null<QuantAttr>(getWeightEncodingAttr());
  if (failed(verifyActivationScratch(*this, quant, in, *inputRows)))
    return failure();
  bool sparse = isa_and_nonnull<SparseAttr>(getWeightEncodingAttr());
  if (!sparse && (getIndices() || getOffsets()))
    return emitOpError("indices and offsets are the storage of a "
                       "#kernel.sparse weight");
  if (sparse)
    return verifySparseStorage(*this, out, in);
  if (quant)
    return verifyQuantStorage(*this, quant, out, in, getWeight(), getScales(),
                              getZeroPoints());
  if (getScales() || getZeroPoints())
    return emitOpError("scales and zero_points are the storage of a "
                       "#kernel.quant weight");
  // Other encodings check their own storage; dense is the matrix itself.
  if (!getWeightEncoding() && elementsOf(getWeight()) != in * out)
    return emitOpError() << "dense weight holds " << elementsOf(getWeight())
                         << " values, expected " << out << " x " << in;
  return success();
}

LogicalResult DequantizeRowOp::verify() {
  int64_t in = getInFeatures();
  if (in <= 0)
    return emitOpError("in_features must be positive");
  QuantAttr quant = getWeightEncoding();
  FailureOr<int64_t> tableRows =
      rowsOf(*this, getWeight(), quant.getRowBytes(in), "quantized weight");
  if (failed(tableRows) || failed(rowsOf(*this, getOutput(), in, "output")) ||
      failed(verifyQuantStorage(*this, quant, *tableRows, in, getWeight(),
                                getScales(), getZeroPoints())))
    return failure();
  return success();
}

LogicalResult AttentionOp::verify() {
  int64_t heads = getNumHeads(), kvHeads = getNumKvHeads();
  int64_t headDim = getHeadDim();
  if (heads <= 0 || kvHeads <= 0 || headDim <= 0)
    return emitOpError("num_heads, num_kv_heads and head_dim must be positive");
  if (heads % kvHeads != 0)
    return emitOpError() << "num_heads (" << heads
                         << ") must be a multiple of num_kv_heads (" << kvHeads
                         << ")";
  if (getOutput().getType() != getQuery().getType())
    return emitOpError("output must have the query's type");
  if (getKeyCache().getType() != getValueCache().getType())
    return emitOpError("key and value caches must have the same type");
  FailureOr<int64_t> context =
      rowsOf(*this, getKeyCache(), kvHeads * headDim, "key cache");
  if (failed(context) ||
      failed(rowsOf(*this, getQuery(), heads * headDim, "query")))
    return failure();
  if (elementsOf(getScratch()) < heads * *context)
    return emitOpError() << "scratch holds " << elementsOf(getScratch())
                         << " values, fewer than num_heads x context = "
                         << heads * *context;
  return success();
}
