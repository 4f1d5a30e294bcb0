//===- LLMEncodings.cpp - weight encodings and their storage ----*- C++ -*-===//
//
// Part of the Microscale project.
//
// The storage layout of every weight encoding is defined here once: the
// attribute helpers compute the storage types from the logical type, and the
// `llm.weight` verifier compares its attributes against them. Lowering and
// quantization passes use the same helpers, so no layout is written twice.
//
//===----------------------------------------------------------------------===//

#include "microscale/Dialect/LLM/IR/LLMOps.h"
#include "microscale/Quant/Activations.h"
#include "microscale/Sparse/BitmaskStorage.h"

#include "llvm/ADT/StringExtras.h"

#include <cmath>

using namespace mlir;
using namespace mlir::microscale::llm;

/// `ceil(a / b)` for non-negative sizes.
static int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

//===----------------------------------------------------------------------===//
// QuantAttr
//===----------------------------------------------------------------------===//

LogicalResult QuantAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                int64_t bits, int64_t group, BoolAttr symmetric,
                                Type scale, FloatAttr scaleMax,
                                Type activations) {
  if (bits < 2 || bits > 8)
    return emitError() << "#llm.quant bits must be in [2, 8], got " << bits;
  if (group < 0)
    return emitError() << "#llm.quant group must be positive (or 0 for one "
                          "group per row), got "
                       << group;
  if (!symmetric)
    return emitError() << "#llm.quant needs 'symmetric = true' or 'false'";
  bool logarithmic = scale && scale.isSignlessInteger(8);
  if (!scale ||
      !(scale.isF16() || scale.isBF16() || scale.isF32() || logarithmic))
    return emitError() << "#llm.quant scale type must be f16, bf16, f32 or "
                          "i8 (logarithmic codes), got "
                       << scale;
  if (logarithmic != static_cast<bool>(scaleMax))
    return emitError() << "#llm.quant scale_max goes with i8 scales, and only "
                          "with them";
  if (scaleMax &&
      (!scaleMax.getType().isF32() || !(scaleMax.getValueAsDouble() >= 0.0) ||
       !std::isfinite(scaleMax.getValueAsDouble())))
    return emitError() << "#llm.quant scale_max must be a finite, "
                          "non-negative f32, got "
                       << scaleMax;
  if (activations && !activations.isSignlessInteger(8))
    return emitError() << "#llm.quant activations must be i8, got "
                       << activations;
  if (activations && group % quant::activationBlock() != 0)
    return emitError() << "#llm.quant with 8-bit activations needs groups "
                          "that are a multiple of "
                       << quant::activationBlock()
                       << " (or 0, one group per row), got " << group;
  return success();
}

int64_t QuantAttr::getGroupSize(int64_t inFeatures) const {
  return getGroup() == 0 ? inFeatures : getGroup();
}

int64_t QuantAttr::getNumGroups(int64_t inFeatures) const {
  int64_t group = getGroupSize(inFeatures);
  return group == 0 ? 0 : ceilDiv(inFeatures, group);
}

int64_t QuantAttr::getRowBytes(int64_t inFeatures) const {
  return ceilDiv(inFeatures * getBits(), 8);
}

RankedTensorType QuantAttr::getPackedType(RankedTensorType logical) const {
  int64_t in = logical.getDimSize(1);
  return RankedTensorType::get({logical.getDimSize(0), getRowBytes(in)},
                               IntegerType::get(getContext(), 8));
}

RankedTensorType QuantAttr::getScalesType(RankedTensorType logical) const {
  int64_t in = logical.getDimSize(1);
  return RankedTensorType::get({logical.getDimSize(0), getNumGroups(in)},
                               getScale());
}

int64_t QuantAttr::getZeroPointRowBytes(int64_t inFeatures) const {
  return ceilDiv(getNumGroups(inFeatures) * getBits(), 8);
}

RankedTensorType QuantAttr::getZeroPointsType(RankedTensorType logical) const {
  int64_t in = logical.getDimSize(1);
  return RankedTensorType::get(
      {logical.getDimSize(0), getZeroPointRowBytes(in)},
      IntegerType::get(getContext(), 8));
}

//===----------------------------------------------------------------------===//
// SparseAttr
//===----------------------------------------------------------------------===//

/// Parses "N:M"; std::nullopt when `pattern` is not of that form.
static std::optional<std::pair<int64_t, int64_t>>
parseBlockPattern(StringRef pattern) {
  auto [first, second] = pattern.split(':');
  int64_t n, m;
  if (second.empty() || first.getAsInteger(10, n) || second.getAsInteger(10, m))
    return std::nullopt;
  return std::make_pair(n, m);
}

/// Whether `quant` is the per-row symmetric 8-bit quantization with f16
/// scales that bitmask storage's kept values may carry.
static bool isSparseValueQuant(QuantAttr quant) {
  return quant.getBits() == 8 && quant.getGroup() == 0 && quant.isSymmetric() &&
         quant.getScale().isF16() && !quant.hasInt8Activations();
}

LogicalResult SparseAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 StringRef pattern, SparseFormat format,
                                 QuantAttr quant) {
  if (quant && format != SparseFormat::Bitmask)
    return emitError() << "#llm.sparse quant goes with format bitmask only";
  if (quant && !isSparseValueQuant(quant))
    return emitError() << "#llm.sparse quant must be #llm.quant<bits = 8, "
                          "symmetric = true, scale = f16> (one group per "
                          "row, float activations), got "
                       << quant;
  if (pattern == "unstructured") {
    if (format == SparseFormat::NOfM)
      return emitError() << "#llm.sparse format n_of_m needs an \"N:M\" "
                            "pattern, not \"unstructured\"";
    return success();
  }
  std::optional<std::pair<int64_t, int64_t>> block = parseBlockPattern(pattern);
  if (!block)
    return emitError() << "#llm.sparse pattern must be \"unstructured\" or "
                          "\"N:M\", got \""
                       << pattern << "\"";
  auto [n, m] = *block;
  if (n <= 0 || m <= n)
    return emitError() << "#llm.sparse pattern \"" << pattern
                       << "\" needs 0 < N < M";
  return success();
}

std::optional<std::pair<int64_t, int64_t>> SparseAttr::getBlockPattern() const {
  return parseBlockPattern(getPattern());
}

RankedTensorType SparseAttr::getValuesType(RankedTensorType logical,
                                           int64_t nonZeros) const {
  Type element =
      getQuant() ? IntegerType::get(getContext(), 8) : logical.getElementType();
  return RankedTensorType::get({nonZeros}, element);
}

RankedTensorType SparseAttr::getMasksType(RankedTensorType logical) const {
  return RankedTensorType::get(
      {logical.getDimSize(0),
       microscale::sparse::maskRowBytes(logical.getDimSize(1))},
      IntegerType::get(getContext(), 8));
}

RankedTensorType SparseAttr::getOffsetsType(RankedTensorType logical) const {
  return RankedTensorType::get({logical.getDimSize(0) + 1},
                               IntegerType::get(getContext(), 32));
}

//===----------------------------------------------------------------------===//
// WeightOp
//===----------------------------------------------------------------------===//

OpFoldResult WeightOp::fold(FoldAdaptor) {
  if (!getEncoding())
    return getValue();
  // An encoded weight's value is storage, not the tensor the op produces, so
  // it must never stand in for it. Yet a ConstantLike op must fold: the
  // greedy rewriter uniques constants by what they fold to (and reads that
  // without checking), so an encoded weight folds to all of its storage and
  // is merged only with a weight that stores the same data.
  NamedAttrList storage((*this)->getAttrDictionary());
  storage.erase(getNameAttrName());
  return storage.getDictionary(getContext());
}

int64_t WeightOp::getStorageBytes() {
  int64_t bytes = 0;
  for (ElementsAttr attr : {getValue(), getScalesAttr(), getZeroPointsAttr(),
                            getIndicesAttr(), getOffsetsAttr()}) {
    if (!attr)
      continue;
    auto type = cast<ShapedType>(attr.getType());
    bytes += ceilDiv(type.getNumElements() * type.getElementTypeBitWidth(), 8);
  }
  // Logarithmic scales also need their matrix's largest scale (a float).
  if (auto quant = dyn_cast_or_null<QuantAttr>(getEncoding()))
    if (quant.getScaleMax())
      bytes += sizeof(float);
  return bytes;
}

namespace {
/// Checks the storage attributes of one weight against what its encoding
/// says they must be.
class StorageChecker {
public:
  explicit StorageChecker(WeightOp op) : op(op), type(op.getType()) {}

  LogicalResult check() {
    Attribute encoding = type.getEncoding();
    if (!isWeightEncoding(encoding))
      return op.emitOpError("unknown weight encoding ") << encoding;
    if (!encoding)
      return checkDense();
    if (type.getRank() != 2 || !type.hasStaticShape() ||
        !isa<FloatType>(type.getElementType()))
      return op.emitOpError("an encoded weight must be a static 2-D "
                            "[out, in] float tensor, got ")
             << type;
    if (auto quant = dyn_cast<QuantAttr>(encoding))
      return checkQuant(quant);
    return checkSparse(cast<SparseAttr>(encoding));
  }

private:
  /// `attr` must be present exactly when `needed`, with type `expected`.
  LogicalResult expect(ElementsAttr attr, StringRef what, bool needed,
                       RankedTensorType expected) {
    if (!needed) {
      if (attr)
        return op.emitOpError() << what << " given, but the "
                                << describeEncoding() << " does not use it";
      return success();
    }
    if (!attr)
      return op.emitOpError()
             << "the " << describeEncoding() << " needs " << what;
    if (attr.getType() != expected)
      return op.emitOpError() << what << " has type " << attr.getType()
                              << ", expected " << expected << " for " << type;
    return success();
  }

  std::string describeEncoding() {
    Attribute encoding = type.getEncoding();
    if (!encoding)
      return "dense weight";
    std::string text;
    llvm::raw_string_ostream os(text);
    os << "encoding " << encoding;
    return text;
  }

  LogicalResult checkDense() {
    if (op.getValue().getType() != type)
      return op.emitOpError("value type ")
             << op.getValue().getType() << " does not match result type "
             << type;
    if (failed(expect(op.getScalesAttr(), "scales", false, {})) ||
        failed(expect(op.getZeroPointsAttr(), "zero_points", false, {})) ||
        failed(expect(op.getIndicesAttr(), "indices", false, {})))
      return failure();
    return expect(op.getOffsetsAttr(), "offsets", false, {});
  }

  LogicalResult checkQuant(QuantAttr quant) {
    if (failed(
            expect(op.getValue(), "value", true, quant.getPackedType(type))) ||
        failed(expect(op.getScalesAttr(), "scales", true,
                      quant.getScalesType(type))) ||
        failed(expect(op.getZeroPointsAttr(), "zero_points",
                      !quant.isSymmetric(), quant.getZeroPointsType(type))) ||
        failed(expect(op.getIndicesAttr(), "indices", false, {})))
      return failure();
    return expect(op.getOffsetsAttr(), "offsets", false, {});
  }

  LogicalResult checkSparse(SparseAttr sparse);
  LogicalResult checkBitmask(SparseAttr sparse);

  WeightOp op;
  RankedTensorType type;
};

LogicalResult StorageChecker::checkBitmask(SparseAttr sparse) {
  QuantAttr quant = sparse.getQuant();
  if (failed(expect(op.getScalesAttr(), "scales", static_cast<bool>(quant),
                    quant ? quant.getScalesType(type) : RankedTensorType())) ||
      failed(expect(op.getIndicesAttr(), "indices", true,
                    sparse.getMasksType(type))) ||
      failed(expect(op.getOffsetsAttr(), "offsets", true,
                    sparse.getOffsetsType(type))))
    return failure();
  if (!quant && !type.getElementType().isF32())
    return op.emitOpError("a bitmask weight holds f32 values or, with quant, "
                          "i8 codes; got ")
           << type;
  auto valueType = dyn_cast<RankedTensorType>(op.getValue().getType());
  int64_t out = type.getDimSize(0), in = type.getDimSize(1);
  if (!valueType || valueType.getRank() != 1 ||
      valueType != sparse.getValuesType(type, valueType.getDimSize(0)))
    return op.emitOpError("bitmask value must be a 1-D tensor of ")
           << sparse.getValuesType(type, 1).getElementType()
           << " (the kept values), got " << op.getValue().getType();
  if (valueType.getDimSize(0) > out * in)
    return op.emitOpError("bitmask value holds ")
           << valueType.getDimSize(0) << " values, more than the " << out * in
           << " of " << type;
  return success();
}

LogicalResult StorageChecker::checkSparse(SparseAttr sparse) {
  if (failed(expect(op.getZeroPointsAttr(), "zero_points", false, {})))
    return failure();
  if (sparse.getFormat() == SparseFormat::Bitmask)
    return checkBitmask(sparse);
  if (failed(expect(op.getScalesAttr(), "scales", false, {})))
    return failure();
  Type element = type.getElementType();
  int64_t out = type.getDimSize(0), in = type.getDimSize(1);
  auto isIntegerVector = [](ElementsAttr attr, int64_t rank) {
    auto attrType = cast<ShapedType>(attr.getType());
    return attrType.getRank() == rank && attrType.hasStaticShape() &&
           attrType.getElementType().isSignlessInteger();
  };
  if (sparse.getFormat() == SparseFormat::NOfM) {
    auto [n, m] = *sparse.getBlockPattern();
    auto valueType = RankedTensorType::get({out, ceilDiv(in, m) * n}, element);
    if (failed(expect(op.getValue(), "value", true, valueType)) ||
        failed(expect(op.getOffsetsAttr(), "offsets", false, {})))
      return failure();
    ElementsAttr indices = op.getIndicesAttr();
    if (!indices || !isIntegerVector(indices, 2) ||
        cast<ShapedType>(indices.getType()).getShape() != valueType.getShape())
      return op.emitOpError("n_of_m indices must be integers shaped like "
                            "the value, ")
             << valueType.getShape();
    return success();
  }
  // CSR: nnz values, nnz column indices, out + 1 row offsets.
  auto valueType = dyn_cast<RankedTensorType>(op.getValue().getType());
  if (!valueType || valueType.getRank() != 1 ||
      valueType.getElementType() != element)
    return op.emitOpError("csr value must be a 1-D tensor of ")
           << element << " (the kept values), got " << op.getValue().getType();
  int64_t nnz = valueType.getDimSize(0);
  if (nnz > out * in)
    return op.emitOpError("csr value holds ")
           << nnz << " values, more than the " << out * in << " of " << type;
  ElementsAttr indices = op.getIndicesAttr(), offsets = op.getOffsetsAttr();
  if (!indices || !isIntegerVector(indices, 1) ||
      cast<ShapedType>(indices.getType()).getDimSize(0) != nnz)
    return op.emitOpError("csr indices must be ")
           << nnz << " integers (one per kept value)";
  if (!offsets || !isIntegerVector(offsets, 1) ||
      cast<ShapedType>(offsets.getType()).getDimSize(0) != out + 1)
    return op.emitOpError("csr offsets must be ")
           << out + 1 << " integers (one per row, plus the end)";
  return success();
}
} // namespace

LogicalResult WeightOp::verify() { return StorageChecker(*this).check(); }
