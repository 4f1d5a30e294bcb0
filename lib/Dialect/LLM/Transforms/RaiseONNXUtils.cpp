//===- RaiseONNXUtils.cpp - matchers and builders for raising ---*- C++ -*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#include "RaiseONNX.h"

#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/Support/CheckedArithmetic.h"

using namespace mlir;
using namespace mlir::microscale;
using namespace mlir::microscale::llm;

onnx::NodeOp mlir::microscale::llm::getNode(Value value, StringRef opType) {
  if (!value)
    return nullptr;
  auto node = value.getDefiningOp<onnx::NodeOp>();
  if (node && node.getOpType() == opType)
    return node;
  return nullptr;
}

Value mlir::microscale::llm::skipNoOps(Value value) {
  if (!value)
    return value;
  while (auto node = value.getDefiningOp<onnx::NodeOp>()) {
    if (node.getInputs().empty())
      break;
    Value input = node.getInputs()[0];
    bool sameElement = getElementTypeOrSelf(input.getType()) ==
                       getElementTypeOrSelf(node.getResult(0).getType());
    if (node.getOpType() == "Identity" ||
        (node.getOpType() == "Cast" && sameElement)) {
      value = input;
      continue;
    }
    break;
  }
  return value;
}

ElementsAttr mlir::microscale::llm::getConstant(Value value) {
  // torch shares equal initializers through Identity nodes.
  value = skipNoOps(value);
  if (!value)
    return {};
  if (auto constant = value.getDefiningOp<onnx::ConstantOp>())
    return constant.getValue();
  if (auto weight = value.getDefiningOp<WeightOp>())
    return weight.getValue();
  return {};
}

StringRef mlir::microscale::llm::getConstantName(Value value) {
  value = skipNoOps(value);
  if (auto constant = value.getDefiningOp<onnx::ConstantOp>())
    return constant.getName();
  if (auto weight = value.getDefiningOp<WeightOp>())
    return weight.getName();
  return "";
}

/// Raw bytes of a constant, for both inline and resource storage.
static ArrayRef<char> rawData(ElementsAttr attr) {
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr)) {
    if (AsmResourceBlob *blob = resource.getRawHandle().getBlob())
      return blob->getData();
    return {};
  }
  if (auto dense = dyn_cast<DenseElementsAttr>(attr))
    return dense.getRawData();
  return {};
}

std::vector<float> mlir::microscale::llm::readFloats(ElementsAttr attr) {
  auto type = cast<ShapedType>(attr.getType());
  int64_t count = type.getNumElements();
  std::vector<float> values(count);
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    if (dense.getElementType().isF32()) {
      llvm::copy(dense.getValues<float>(), values.begin());
    } else if (isa<FloatType>(dense.getElementType())) {
      for (auto [i, v] : llvm::enumerate(dense.getValues<APFloat>()))
        values[i] = v.convertToDouble();
    } else {
      for (auto [i, v] : llvm::enumerate(dense.getValues<APInt>()))
        values[i] = v.getSExtValue();
    }
    return values;
  }
  ArrayRef<char> bytes = rawData(attr);
  Type element = type.getElementType();
  size_t n = count;
  if (element.isF32() && bytes.size() == n * sizeof(float)) {
    std::memcpy(values.data(), bytes.data(), bytes.size());
  } else if (element.isF64() && bytes.size() == n * sizeof(double)) {
    for (int64_t i = 0; i < count; ++i) {
      double d;
      std::memcpy(&d, bytes.data() + i * sizeof(double), sizeof(double));
      values[i] = d;
    }
  } else if (element.isInteger(64) && bytes.size() == n * 8) {
    for (int64_t i = 0; i < count; ++i) {
      int64_t v;
      std::memcpy(&v, bytes.data() + i * 8, 8);
      values[i] = v;
    }
  }
  return values;
}

std::optional<double> mlir::microscale::llm::getScalar(Value value) {
  ElementsAttr attr = getConstant(skipNoOps(value));
  if (!attr || cast<ShapedType>(attr.getType()).getNumElements() != 1)
    return std::nullopt;
  return readFloats(attr)[0];
}

std::optional<SmallVector<int64_t>>
mlir::microscale::llm::readInts(ElementsAttr attr) {
  if (!attr)
    return std::nullopt;
  auto type = cast<ShapedType>(attr.getType());
  auto element = dyn_cast<IntegerType>(type.getElementType());
  if (!element)
    return std::nullopt;
  SmallVector<int64_t> values;
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    for (const APInt &v : dense.getValues<APInt>())
      values.push_back(element.getWidth() == 1 ? v.getZExtValue()
                                               : v.getSExtValue());
    return values;
  }
  ArrayRef<char> bytes = rawData(attr);
  unsigned width = element.getWidth();
  if ((width != 32 && width != 64) ||
      bytes.size() != size_t(type.getNumElements()) * (width / 8))
    return std::nullopt;
  for (size_t offset = 0; offset < bytes.size(); offset += width / 8) {
    if (width == 64) {
      int64_t v;
      std::memcpy(&v, bytes.data() + offset, 8);
      values.push_back(v);
    } else {
      int32_t v;
      std::memcpy(&v, bytes.data() + offset, 4);
      values.push_back(v);
    }
  }
  return values;
}

std::optional<int64_t> mlir::microscale::llm::getIntScalar(Value value) {
  std::optional<SmallVector<int64_t>> values = readInts(getConstant(value));
  if (!values || values->size() != 1)
    return std::nullopt;
  return values->front();
}

/// Skips the nodes that pass one integer through unchanged.
static Value skipScalarPlumbing(Value value) {
  while (true) {
    value = skipNoOps(value);
    auto node = value ? value.getDefiningOp<onnx::NodeOp>() : nullptr;
    if (!node || node.getInputs().empty())
      return value;
    StringRef type = node.getOpType();
    bool intToInt =
        type == "Cast" &&
        isa<IntegerType>(getElementTypeOrSelf(node.getInputs()[0])) &&
        isa<IntegerType>(getElementTypeOrSelf(node.getResult(0)));
    if (!intToInt && type != "Unsqueeze" && type != "Squeeze")
      return value;
    value = node.getInputs()[0];
  }
}

std::optional<std::pair<Value, int64_t>>
mlir::microscale::llm::matchShapeDim(Value value) {
  onnx::NodeOp gather = getNode(skipScalarPlumbing(value), "Gather");
  if (!gather || gather.getIntAttr("axis", 0) != 0)
    return std::nullopt;
  onnx::NodeOp shape = getNode(skipNoOps(gather.getInputs()[0]), "Shape");
  std::optional<int64_t> index = getIntScalar(gather.getInputs()[1]);
  if (!shape || !index || shape.getOnnxAttr("start") ||
      shape.getOnnxAttr("end"))
    return std::nullopt;
  Value source = shape.getInputs()[0];
  auto type = dyn_cast<RankedTensorType>(source.getType());
  if (!type || *index < -type.getRank() || *index >= type.getRank())
    return std::nullopt;
  return std::make_pair(source, *index < 0 ? *index + type.getRank() : *index);
}

std::optional<int64_t> mlir::microscale::llm::foldIndex(Value value,
                                                        KnownDim dimOf) {
  value = skipScalarPlumbing(value);
  if (!value)
    return std::nullopt;
  if (getConstant(value))
    return getIntScalar(value);
  if (std::optional<std::pair<Value, int64_t>> dim = matchShapeDim(value)) {
    auto type = cast<RankedTensorType>(dim->first.getType());
    if (!type.isDynamicDim(dim->second))
      return type.getDimSize(dim->second);
    return dimOf ? dimOf(dim->first, dim->second) : std::nullopt;
  }
  auto node = value.getDefiningOp<onnx::NodeOp>();
  if (!node || node.getInputs().size() != 2)
    return std::nullopt;
  std::optional<int64_t> a = foldIndex(node.getInputs()[0], dimOf);
  std::optional<int64_t> b = foldIndex(node.getInputs()[1], dimOf);
  if (!a || !b)
    return std::nullopt;
  StringRef type = node.getOpType();
  if (type == "Add")
    return llvm::checkedAdd(*a, *b);
  if (type == "Sub")
    return llvm::checkedSub(*a, *b);
  if (type == "Mul")
    return llvm::checkedMul(*a, *b);
  // Shape arithmetic divides non-negative sizes; leave the rounding of
  // negative quotients alone.
  if (type == "Div" && *a >= 0 && *b > 0)
    return *a / *b;
  return std::nullopt;
}

std::optional<SmallVector<std::optional<int64_t>>>
mlir::microscale::llm::getShapeEntries(Value shape) {
  SmallVector<std::optional<int64_t>> entries;
  if (ElementsAttr attr = getConstant(shape)) {
    std::optional<SmallVector<int64_t>> values = readInts(attr);
    if (cast<ShapedType>(attr.getType()).getRank() != 1 || !values)
      return std::nullopt;
    entries.append(values->begin(), values->end());
    return entries;
  }
  onnx::NodeOp concat = getNode(shape, "Concat");
  if (!concat)
    return std::nullopt;
  for (Value piece : concat.getInputs()) {
    if (ElementsAttr attr = getConstant(piece)) {
      std::optional<SmallVector<int64_t>> values = readInts(attr);
      if (!values)
        return std::nullopt;
      entries.append(values->begin(), values->end());
      continue;
    }
    auto type = dyn_cast<RankedTensorType>(piece.getType());
    if (!type || type.getRank() != 1 || type.isDynamicDim(0))
      return std::nullopt;
    if (type.getDimSize(0) == 1) {
      entries.push_back(foldIndex(piece));
      continue;
    }
    entries.append(type.getDimSize(0), std::nullopt);
  }
  return entries;
}

/// The one-element piece of a Concat shape that gives entry `i`, or null.
Value mlir::microscale::llm::shapePiece(Value shape, unsigned i) {
  onnx::NodeOp concat = getNode(shape, "Concat");
  if (!concat)
    return {};
  unsigned at = 0;
  for (Value piece : concat.getInputs()) {
    auto type = dyn_cast<RankedTensorType>(piece.getType());
    if (!type || type.isDynamicDim(0))
      return {};
    if (i < at + type.getDimSize(0))
      return type.getDimSize(0) == 1 ? piece : Value();
    at += type.getDimSize(0);
  }
  return {};
}

/// True if entry `i` of a shape is dimension `axis` of some tensor, read
/// with Shape+Gather.
bool mlir::microscale::llm::isShapeDimEntry(Value shape, unsigned i,
                                            int64_t axis) {
  std::optional<std::pair<Value, int64_t>> dim =
      matchShapeDim(shapePiece(shape, i));
  return dim && dim->second == axis;
}

bool ConstantMismatch::fail(Operation *op, const Twine &why) {
  if (!culprit) {
    culprit = op;
    message = why.str();
  }
  return false;
}

void RaiseRejections::record(Operation *root, StringRef pattern,
                             const ConstantMismatch &mismatch) {
  if (!mismatch)
    return;
  auto describe = [](Operation *op) -> std::string {
    if (auto node = dyn_cast<onnx::NodeOp>(op))
      return ("node '" + node.getName() + "' (" + node.getOpType() + ")").str();
    if (auto constant = dyn_cast<onnx::ConstantOp>(op))
      return ("constant '" + constant.getName() + "'").str();
    return op->getName().getStringRef().str();
  };
  // Constants carry no location; point at the root then.
  Location loc = mismatch.culprit->getLoc();
  if (isa<UnknownLoc>(loc))
    loc = root->getLoc();
  entries.insert_or_assign(root,
                           Entry{describe(root), pattern.str(), loc,
                                 describe(mismatch.culprit), mismatch.message});
}

LogicalResult RaiseRejections::report(Operation *scope) const {
  // Roots may have been erased since they were recorded: only report those
  // still present, recognized by address and description.
  llvm::SmallPtrSet<Operation *, 32> alive;
  scope->walk([&](onnx::NodeOp node) { alive.insert(node); });
  bool any = false;
  for (const auto &[root, entry] : entries) {
    if (!alive.contains(root))
      continue;
    auto node = cast<onnx::NodeOp>(root);
    if (("node '" + node.getName() + "' (" + node.getOpType() + ")").str() !=
        entry.rootName)
      continue;
    emitError(entry.culpritLoc)
        << entry.culprit << " does not mean what the " << entry.pattern
        << " pattern assumes: " << entry.message
        << " (the pattern was tried at " << entry.rootName << ")";
    any = true;
  }
  return failure(any);
}

Value mlir::microscale::llm::createWeight(OpBuilder &builder, Location loc,
                                          StringRef name,
                                          ArrayRef<int64_t> shape,
                                          ArrayRef<float> data) {
  auto type = RankedTensorType::get(shape, builder.getF32Type());
  auto blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(
      ArrayRef<char>(reinterpret_cast<const char *>(data.data()),
                     data.size() * sizeof(float)),
      /*align=*/64);
  auto value = DenseResourceElementsAttr::get(type, resourceBlobName(name),
                                              std::move(blob));
  return builder.create<WeightOp>(loc, type, name, value);
}

Value mlir::microscale::llm::createWeight(OpBuilder &builder, Location loc,
                                          StringRef name, ElementsAttr value) {
  return builder.create<WeightOp>(loc, cast<RankedTensorType>(value.getType()),
                                  name, value);
}

RankedTensorType mlir::microscale::llm::activationType(Type like,
                                                       int64_t features) {
  int64_t rank = 3;
  if (auto ranked = dyn_cast<RankedTensorType>(like))
    rank = ranked.getRank();
  SmallVector<int64_t> shape(rank, ShapedType::kDynamic);
  shape.back() = features;
  return RankedTensorType::get(shape, Float32Type::get(like.getContext()));
}

Value mlir::microscale::llm::weightFromConstant(OpBuilder &builder,
                                                Value constant) {
  return createWeight(builder, constant.getLoc(), getConstantName(constant),
                      getConstant(constant));
}
