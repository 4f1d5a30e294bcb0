//===- ShapeInference.cpp - result types of ONNX nodes ----------*- C++ -*-===//
//
// Part of the Microscale project.
//
// Exported LLM graphs carry no value_info, and Debian's onnx library only
// knows opsets up to 17, so the importer infers the types it needs itself.
// The rules follow the ONNX operator specification for opsets 13-21; a
// dimension that depends on runtime data is left dynamic.
//
// Each supported op type has one entry in a table: how many leading inputs it
// requires and the rule that computes its result types. The table is also the
// list of supported ops, so an op cannot be accepted without a rule.
//
//===----------------------------------------------------------------------===//

#include "ShapeInference.h"
#include "microscale/Dialect/ONNX/IR/ONNXDialect.h"
#include "microscale/Import/ONNXImporter.h"

#include "llvm/ADT/Sequence.h"
#include "llvm/ADT/SmallSet.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::microscale::onnx_import;
namespace dialect = mlir::microscale::onnx;
using llvm::ArrayRef;
using llvm::Expected;
using llvm::SmallVector;
using llvm::StringRef;
using mlir::microscale::import_limits::kMaxElements;
using mlir::microscale::import_limits::kMaxRank;

namespace {
constexpr int64_t kDyn = ShapedType::kDynamic;

/// Dimensions of a ranked shape; std::nullopt stands for an unknown rank.
using Shape = SmallVector<int64_t>;
using MaybeShape = std::optional<Shape>;
using InferredTypes = Expected<SmallVector<Type>>;

//===----------------------------------------------------------------------===//
// Shape helpers
//===----------------------------------------------------------------------===//

llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

std::string typeString(Type type) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << type;
  return s;
}

Type elementType(Type type) {
  if (auto shaped = dyn_cast<ShapedType>(type))
    return shaped.getElementType();
  return type;
}

/// Builds a ranked type, or an unranked one when the rank is unknown.
Type makeType(MaybeShape shape, Type element) {
  if (!shape)
    return UnrankedTensorType::get(element);
  return RankedTensorType::get(*shape, element);
}

MaybeShape shapeOf(Type type) {
  if (auto ranked = dyn_cast<RankedTensorType>(type))
    return Shape(ranked.getShape());
  return std::nullopt;
}

/// The static length of a 1-D tensor (a shape, axes or starts operand), or
/// kDyn when the type is not a 1-D tensor of known length.
int64_t vectorLength(Type type) {
  auto ranked = dyn_cast<RankedTensorType>(type);
  return ranked && ranked.getRank() == 1 ? ranked.getDimSize(0) : kDyn;
}

/// The length of a shape operand, whose entries become a result's dims: at
/// most kMaxRank, so a declared length of 2^40 is an error, not a 2^40-entry
/// allocation. kDyn when the length is not known.
Expected<int64_t> shapeOperandLength(Type type, StringRef what) {
  int64_t length = vectorLength(type);
  if (length != kDyn && length > kMaxRank)
    return fail(llvm::formatv("{0} has {1} entries; at most {2} dimensions "
                              "are supported",
                              what, length, kMaxRank));
  return length;
}

/// The product of `dims`, or std::nullopt when it exceeds kMaxElements (or
/// int64 on the way).
std::optional<int64_t> checkedProduct(ArrayRef<int64_t> dims) {
  int64_t total = 1;
  for (int64_t d : dims)
    if (llvm::MulOverflow(total, d, total) || total > kMaxElements)
      return std::nullopt;
  return total;
}

/// The number of elements of a shape, or std::nullopt if a dim is dynamic.
/// Types are checked against the limits when they enter the graph, so the
/// product does not overflow.
std::optional<int64_t> staticElementCount(ArrayRef<int64_t> shape) {
  if (llvm::is_contained(shape, kDyn))
    return std::nullopt;
  std::optional<int64_t> total = checkedProduct(shape);
  assert(total && "tensor type above the limits");
  return total;
}

std::optional<Shape> constInts(const InferenceInput &input) {
  if (!input.constant || !input.constant.getElementType().isInteger(64))
    return std::nullopt;
  Shape values;
  for (const APInt &v : input.constant.getValues<APInt>())
    values.push_back(v.getSExtValue());
  return values;
}

/// Numpy-style broadcast of two shapes.
Expected<MaybeShape> broadcast(MaybeShape a, MaybeShape b) {
  if (!a || !b)
    return std::nullopt;
  size_t rank = std::max(a->size(), b->size());
  Shape result(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a->size() ? 1 : (*a)[i - (rank - a->size())];
    int64_t db = i < rank - b->size() ? 1 : (*b)[i - (rank - b->size())];
    if (da == 1)
      result[i] = db;
    else if (db == 1)
      result[i] = da;
    else if (da == kDyn)
      result[i] = db;
    else if (db == kDyn || da == db)
      result[i] = da;
    else
      return fail(llvm::formatv("shapes cannot be broadcast: dimension {0} is "
                                "{1} in one input and {2} in the other",
                                i, da, db));
  }
  return MaybeShape(result);
}

Expected<int64_t> normalizeAxis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    return fail(
        llvm::formatv("axis {0} is out of range for rank {1}", axis, rank));
  return axis < 0 ? axis + rank : axis;
}

Type onnxDtypeToType(MLIRContext *ctx, int64_t dtype) {
  switch (dtype) {
  case 1:
    return Float32Type::get(ctx);
  case 10:
    return Float32Type::get(ctx); // float16 is widened on import.
  case 11:
    return Float64Type::get(ctx);
  case 6:
    return IntegerType::get(ctx, 32);
  case 7:
    return IntegerType::get(ctx, 64);
  case 9:
    return IntegerType::get(ctx, 1);
  default:
    return {};
  }
}

SmallVector<Type> single(Type type) { return {type}; }

//===----------------------------------------------------------------------===//
// Inference context
//===----------------------------------------------------------------------===//

/// Everything a rule sees of one node.
struct InferenceContext {
  StringRef opType;
  DictionaryAttr attrs;
  ArrayRef<InferenceInput> inputs;
  unsigned numOutputs;
  int64_t opset;

  MLIRContext *getContext() const { return attrs.getContext(); }

  /// Fails unless inputs 0..n-1 exist and none of them is an absent optional.
  llvm::Error needInputs(size_t n) const {
    if (inputs.size() < n)
      return fail(llvm::formatv("expects at least {0} inputs, got {1}", n,
                                inputs.size()));
    for (size_t i = 0; i < n; ++i)
      if (isa<NoneType>(inputs[i].type))
        return fail(llvm::formatv("required input {0} is missing", i));
    return llvm::Error::success();
  }

  /// True when optional input `i` is given (ONNX marks an omitted one with an
  /// empty name, which the importer passes as NoneType).
  bool hasInput(size_t i) const {
    return i < inputs.size() && !isa<NoneType>(inputs[i].type);
  }

  Type type(size_t i) const { return inputs[i].type; }
  Type element(size_t i) const { return elementType(inputs[i].type); }
  MaybeShape shape(size_t i) const { return shapeOf(inputs[i].type); }

  // inferResultTypes has checked every attribute's kind against the ONNX
  // dialect's table before a rule runs; the accessors assert they read what
  // the table says.
  int64_t intAttr(StringRef name, int64_t fallback) const {
    assert(dialect::expectedAttributeKind(opType, name) ==
               dialect::AttributeKind::Int &&
           "not an INT attribute of this op");
    if (auto attr = dyn_cast_or_null<IntegerAttr>(attrs.get(name)))
      return attr.getInt();
    return fallback;
  }

  std::optional<Shape> intsAttr(StringRef name) const {
    assert(dialect::expectedAttributeKind(opType, name) ==
               dialect::AttributeKind::Ints &&
           "not an INTS attribute of this op");
    auto array = dyn_cast_or_null<ArrayAttr>(attrs.get(name));
    if (!array)
      return std::nullopt;
    Shape values;
    for (Attribute a : array)
      values.push_back(cast<IntegerAttr>(a).getInt());
    return values;
  }

  /// An integer list that older opsets give as attribute `name` and opset 13+
  /// as constant input `index` (Squeeze and Unsqueeze axes, Split sizes,
  /// ReduceMean axes from opset 18).
  std::optional<Shape> intsAttrOrInput(StringRef name, size_t index) const {
    std::optional<Shape> values = intsAttr(name);
    if (!values && hasInput(index))
      values = constInts(inputs[index]);
    return values;
  }
};

//===----------------------------------------------------------------------===//
// Elementwise ops
//===----------------------------------------------------------------------===//

/// Elementwise unary ops, and ops such as Softmax, Trilu and Identity that
/// keep their input's shape and element type.
InferredTypes inferSameAsInput(const InferenceContext &c) {
  return single(makeType(c.shape(0), c.element(0)));
}

InferredTypes inferCast(const InferenceContext &c) {
  int64_t to = c.intAttr("to", 0);
  Type element = onnxDtypeToType(c.getContext(), to);
  if (!element)
    return fail(llvm::formatv("unsupported dtype {0} in 'to'", to));
  return single(makeType(c.shape(0), element));
}

/// CastLike: the shape of input 0 with the element type of input 1.
InferredTypes inferCastLike(const InferenceContext &c) {
  if (auto err = c.needInputs(2))
    return std::move(err);
  return single(makeType(c.shape(0), c.element(1)));
}

/// The broadcast shape of inputs 0 and 1 of a binary op. ONNX requires both
/// to have the same element type, except for Pow (T and T1).
Expected<MaybeShape> broadcastOperands(const InferenceContext &c,
                                       bool sameElementType) {
  if (sameElementType && c.element(0) != c.element(1))
    return fail(llvm::formatv("input element types differ: {0} and {1}",
                              typeString(c.type(0)), typeString(c.type(1))));
  return broadcast(c.shape(0), c.shape(1));
}

InferredTypes inferBinary(const InferenceContext &c) {
  auto shape = broadcastOperands(c, /*sameElementType=*/true);
  if (!shape)
    return shape.takeError();
  return single(makeType(*shape, c.element(0)));
}

/// Pow: the result has the base's element type, whatever the exponent's.
InferredTypes inferPow(const InferenceContext &c) {
  auto shape = broadcastOperands(c, /*sameElementType=*/false);
  if (!shape)
    return shape.takeError();
  return single(makeType(*shape, c.element(0)));
}

InferredTypes inferComparison(const InferenceContext &c) {
  auto shape = broadcastOperands(c, /*sameElementType=*/true);
  if (!shape)
    return shape.takeError();
  return single(makeType(*shape, IntegerType::get(c.getContext(), 1)));
}

/// Where(condition, x, y): all three broadcast; x and y give the element type.
InferredTypes inferWhere(const InferenceContext &c) {
  if (c.element(1) != c.element(2))
    return fail(llvm::formatv("value element types differ: {0} and {1}",
                              typeString(c.type(1)), typeString(c.type(2))));
  auto shape = broadcast(c.shape(0), c.shape(1));
  if (!shape)
    return shape.takeError();
  auto shape2 = broadcast(*shape, c.shape(2));
  if (!shape2)
    return shape2.takeError();
  return single(makeType(*shape2, c.element(1)));
}

//===----------------------------------------------------------------------===//
// Constants and shape queries
//===----------------------------------------------------------------------===//

/// Constant: the type of whichever value* attribute is set. The importer
/// materializes Constant nodes itself; the rule keeps this table the one list
/// of supported ops.
InferredTypes inferConstant(const InferenceContext &c) {
  Type f32 = Float32Type::get(c.getContext());
  Type i64 = IntegerType::get(c.getContext(), 64);
  if (auto value = dyn_cast_or_null<ElementsAttr>(c.attrs.get("value")))
    return single(value.getShapedType());
  if (isa_and_nonnull<FloatAttr>(c.attrs.get("value_float")))
    return single(RankedTensorType::get({}, f32));
  if (isa_and_nonnull<IntegerAttr>(c.attrs.get("value_int")))
    return single(RankedTensorType::get({}, i64));
  if (auto ints = dyn_cast_or_null<ArrayAttr>(c.attrs.get("value_ints")))
    return single(RankedTensorType::get({(int64_t)ints.size()}, i64));
  if (auto floats = dyn_cast_or_null<ArrayAttr>(c.attrs.get("value_floats")))
    return single(RankedTensorType::get({(int64_t)floats.size()}, f32));
  return fail("Constant has no supported value attribute");
}

/// Shape: a 1-D i64 tensor of the dims in [start, end); both clamp to the rank
/// and count from the back when negative (opset 15).
InferredTypes inferShape(const InferenceContext &c) {
  auto shape = c.shape(0);
  int64_t size = kDyn;
  if (shape) {
    int64_t rank = shape->size();
    int64_t start = c.intAttr("start", 0), end = c.intAttr("end", rank);
    start = std::clamp<int64_t>(start < 0 ? start + rank : start, 0, rank);
    end = std::clamp<int64_t>(end < 0 ? end + rank : end, 0, rank);
    size = std::max<int64_t>(0, end - start);
  }
  return single(
      RankedTensorType::get({size}, IntegerType::get(c.getContext(), 64)));
}

/// The dims named by a 1-D shape operand (ConstantOfShape, Expand): its values
/// when it is constant, all dynamic otherwise, std::nullopt when even its
/// length is unknown.
Expected<std::optional<Shape>> shapeOperand(const InferenceInput &input) {
  auto length = shapeOperandLength(input.type, "shape");
  if (!length)
    return length.takeError();
  if (*length == kDyn)
    return std::nullopt;
  if (auto dims = constInts(input))
    return dims;
  return Shape(*length, kDyn);
}

/// ConstantOfShape: the element type of the `value` attribute, f32 without it.
InferredTypes inferConstantOfShape(const InferenceContext &c) {
  Type element = Float32Type::get(c.getContext());
  if (auto value = dyn_cast_or_null<DenseElementsAttr>(c.attrs.get("value")))
    element = value.getElementType();
  auto operand = shapeOperand(c.inputs[0]);
  if (!operand)
    return operand.takeError();
  std::optional<Shape> shape = *operand;
  if (!shape)
    return single(UnrankedTensorType::get(element));
  if (llvm::any_of(*shape, [](int64_t d) { return d < 0 && d != kDyn; }))
    return fail("shape has a negative dimension");
  return single(RankedTensorType::get(*shape, element));
}

/// Range: the length depends on the values of start, limit and delta.
InferredTypes inferRange(const InferenceContext &c) {
  return single(RankedTensorType::get({kDyn}, c.element(0)));
}

//===----------------------------------------------------------------------===//
// Indexing and reshaping
//===----------------------------------------------------------------------===//

/// Gather: data dims before `axis`, then the indices' dims, then the rest.
InferredTypes inferGather(const InferenceContext &c) {
  auto data = c.shape(0), indices = c.shape(1);
  Type element = c.element(0);
  if (!data || !indices)
    return single(UnrankedTensorType::get(element));
  auto axis = normalizeAxis(c.intAttr("axis", 0), data->size());
  if (!axis)
    return axis.takeError();
  // Constant indices must lie in [-n, n) of a static axis (ONNX Runtime
  // rejects the others when it runs).
  int64_t size = (*data)[*axis];
  if (!ShapedType::isDynamic(size))
    if (std::optional<Shape> values = constInts(c.inputs[1]))
      for (int64_t index : *values)
        if (index < -size || index >= size)
          return fail(
              llvm::formatv("index {0} is out of range for an axis of size {1}",
                            index, size));
  Shape shape(data->begin(), data->begin() + *axis);
  shape.append(indices->begin(), indices->end());
  shape.append(data->begin() + *axis + 1, data->end());
  return single(RankedTensorType::get(shape, element));
}

/// Normalizes Squeeze/Unsqueeze axes against `rank`; ONNX forbids repeats.
Expected<llvm::SmallSet<int64_t, 4>> uniqueAxes(ArrayRef<int64_t> axes,
                                                int64_t rank) {
  llvm::SmallSet<int64_t, 4> axisSet;
  for (int64_t a : axes) {
    auto axis = normalizeAxis(a, rank);
    if (!axis)
      return axis.takeError();
    if (!axisSet.insert(*axis).second)
      return fail(llvm::formatv("axis {0} appears twice", a));
  }
  return axisSet;
}

/// Unsqueeze: axes index the output, which has one size-1 dim per axis.
InferredTypes inferUnsqueeze(const InferenceContext &c) {
  std::optional<Shape> axes = c.intsAttrOrInput("axes", 1);
  auto data = c.shape(0);
  Type element = c.element(0);
  if (!data || !axes)
    return single(UnrankedTensorType::get(element));
  int64_t outRank = data->size() + axes->size();
  auto axisSet = uniqueAxes(*axes, outRank);
  if (!axisSet)
    return axisSet.takeError();
  Shape shape;
  auto it = data->begin();
  for (int64_t i = 0; i < outRank; ++i)
    shape.push_back(axisSet->contains(i) ? 1 : *it++);
  return single(RankedTensorType::get(shape, element));
}

/// Squeeze: drops the listed size-1 dims, or every size-1 dim without axes.
InferredTypes inferSqueeze(const InferenceContext &c) {
  std::optional<Shape> axes = c.intsAttrOrInput("axes", 1);
  auto data = c.shape(0);
  Type element = c.element(0);
  if (!data)
    return single(UnrankedTensorType::get(element));
  if (!axes) {
    // Axes given as a runtime input: which dims go is unknown.
    if (c.hasInput(1))
      return single(UnrankedTensorType::get(element));
    // A dynamic dim might be 1 at runtime; only static 1s are known to go.
    Shape shape;
    for (int64_t d : *data)
      if (d != 1)
        shape.push_back(d);
    return single(RankedTensorType::get(shape, element));
  }
  int64_t rank = data->size();
  auto axisSet = uniqueAxes(*axes, rank);
  if (!axisSet)
    return axisSet.takeError();
  Shape shape;
  for (int64_t i = 0; i < rank; ++i) {
    if (!axisSet->contains(i)) {
      shape.push_back((*data)[i]);
      continue;
    }
    if ((*data)[i] != 1 && (*data)[i] != kDyn)
      return fail(
          llvm::formatv("cannot squeeze axis {0} of size {1}", i, (*data)[i]));
  }
  return single(RankedTensorType::get(shape, element));
}

/// Concat: inputs agree in rank and every dim except `axis`, where they add.
InferredTypes inferConcat(const InferenceContext &c) {
  Type element = c.element(0);
  MaybeShape result;
  int64_t axisIndex = 0;
  for (const InferenceInput &input : c.inputs) {
    auto shape = shapeOf(input.type);
    if (!shape)
      return single(UnrankedTensorType::get(element));
    if (elementType(input.type) != element)
      return fail("inputs have different element types");
    if (!result) {
      auto axis = normalizeAxis(c.intAttr("axis", 0), shape->size());
      if (!axis)
        return axis.takeError();
      axisIndex = *axis;
      result = shape;
      continue;
    }
    if (shape->size() != result->size())
      return fail(llvm::formatv("inputs have different ranks ({0} and {1})",
                                result->size(), shape->size()));
    for (size_t i = 0; i < shape->size(); ++i) {
      int64_t &r = (*result)[i];
      int64_t d = (*shape)[i];
      if ((int64_t)i == axisIndex) {
        if (r != kDyn && d != kDyn && llvm::AddOverflow(r, d, r))
          return fail(
              llvm::formatv("dimension {0} of the result overflows", i));
        if (r == kDyn || d == kDyn)
          r = kDyn;
      } else if (r == kDyn)
        r = d;
      else if (d != kDyn && d != r)
        return fail(llvm::formatv("inputs differ in dimension {0} ({1} vs "
                                  "{2})",
                                  i, r, d));
    }
  }
  return single(makeType(result, element));
}

/// Resolves a constant Reshape target against the data shape: 0 copies the
/// input dim unless allowzero, and a single -1 takes the remaining elements.
Expected<Shape> resolveReshapeTarget(ArrayRef<int64_t> target,
                                     const MaybeShape &data, bool allowZero) {
  Shape shape(target.size(), kDyn);
  int64_t known = 1, inferIndex = -1;
  for (size_t i = 0; i < target.size(); ++i) {
    int64_t t = target[i];
    if (t == 0 && !allowZero) {
      if (data && i >= data->size())
        return fail(llvm::formatv("target dimension {0} copies input "
                                  "dimension {0}, which does not exist",
                                  i));
      shape[i] = data ? (*data)[i] : kDyn;
    } else if (t == -1) {
      if (inferIndex >= 0)
        return fail("shape has more than one -1");
      inferIndex = i;
      continue;
    } else if (t < 0) {
      return fail(llvm::formatv("invalid target dimension {0}", t));
    } else {
      shape[i] = t;
    }
    if (shape[i] == kDyn || known == kDyn)
      known = kDyn;
    else if (!checkedProduct({known, shape[i]}))
      return fail(llvm::formatv("target shape has more than {0} elements",
                                kMaxElements));
    else
      known *= shape[i];
  }
  std::optional<int64_t> total =
      data ? staticElementCount(*data) : std::nullopt;
  if (!total || known == kDyn)
    return shape;
  // With known == 0 the -1 could be anything; it stays dynamic.
  if (inferIndex >= 0 && known != 0) {
    if (*total % known)
      return fail(llvm::formatv("cannot reshape {0} elements into a "
                                "multiple of {1}",
                                *total, known));
    shape[inferIndex] = *total / known;
  }
  if (inferIndex < 0 && *total != known)
    return fail(
        llvm::formatv("cannot reshape {0} elements into {1}", *total, known));
  return shape;
}

/// Reshape: the rank is the target's length; its dims are static only when
/// the target is a constant.
InferredTypes inferReshape(const InferenceContext &c) {
  Type element = c.element(0);
  auto length = shapeOperandLength(c.type(1), "shape");
  if (!length)
    return length.takeError();
  int64_t rank = *length;
  if (rank == kDyn)
    return single(UnrankedTensorType::get(element));
  std::optional<Shape> target = constInts(c.inputs[1]);
  if (!target)
    return single(RankedTensorType::get(Shape(rank, kDyn), element));
  auto shape =
      resolveReshapeTarget(*target, c.shape(0), c.intAttr("allowzero", 0) != 0);
  if (!shape)
    return shape.takeError();
  return single(RankedTensorType::get(*shape, element));
}

/// Transpose: `perm` permutes the dims; without it they are reversed.
InferredTypes inferTranspose(const InferenceContext &c) {
  auto data = c.shape(0);
  Type element = c.element(0);
  if (!data)
    return single(UnrankedTensorType::get(element));
  Shape perm;
  if (auto p = c.intsAttr("perm"))
    perm = *p;
  else
    for (int64_t i = data->size() - 1; i >= 0; --i)
      perm.push_back(i);
  if (perm.size() != data->size())
    return fail(llvm::formatv("perm has {0} entries for rank {1}", perm.size(),
                              data->size()));
  Shape shape;
  llvm::SmallSet<int64_t, 8> seen;
  for (int64_t p : perm) {
    if (p < 0 || p >= (int64_t)data->size())
      return fail(llvm::formatv("perm entry {0} out of range", p));
    if (!seen.insert(p).second)
      return fail(llvm::formatv("perm repeats axis {0}", p));
    shape.push_back((*data)[p]);
  }
  return single(RankedTensorType::get(shape, element));
}

/// Expand broadcasts the data to the target shape. A dynamic target entry may
/// still be 1, so only sizes known on both sides combine.
InferredTypes inferExpand(const InferenceContext &c) {
  Type element = c.element(0);
  auto operand = shapeOperand(c.inputs[1]);
  if (!operand)
    return operand.takeError();
  std::optional<Shape> target = *operand;
  if (!target)
    return single(UnrankedTensorType::get(element));
  if (llvm::any_of(*target, [](int64_t d) { return d < 0 && d != kDyn; }))
    return fail("target shape has a negative dimension");
  auto data = c.shape(0);
  if (!data)
    return single(UnrankedTensorType::get(element));
  size_t rank = std::max(data->size(), target->size());
  Shape shape(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t d =
        i < rank - data->size() ? 1 : (*data)[i - (rank - data->size())];
    int64_t t =
        i < rank - target->size() ? 1 : (*target)[i - (rank - target->size())];
    if (t == kDyn)
      shape[i] = d == 1 ? kDyn : d;
    else if (t == 1)
      shape[i] = d;
    else if (d == 1 || d == kDyn || d == t)
      shape[i] = t;
    else
      return fail(llvm::formatv("cannot expand dimension {0} from {1} to "
                                "{2}",
                                i, d, t));
  }
  return single(RankedTensorType::get(shape, element));
}

/// Slice's axes: the constant `axes` input, or 0..n-1 for n starts when it is
/// omitted (the ONNX default).
std::optional<Shape> sliceAxes(const InferenceContext &c) {
  if (c.hasInput(3))
    return constInts(c.inputs[3]);
  int64_t count = vectorLength(c.type(1));
  if (count == kDyn)
    return std::nullopt;
  return llvm::to_vector(llvm::seq<int64_t>(0, count));
}

/// ONNX requires starts, ends, axes and steps to be 1-D and of one length,
/// at most one entry per axis of the data.
llvm::Error checkSliceOperands(const InferenceContext &c, int64_t rank) {
  static const char *const names[] = {"", "starts", "ends", "axes", "steps"};
  int64_t count = kDyn;
  for (size_t k = 1; k < c.inputs.size() && k <= 4; ++k) {
    if (!c.hasInput(k))
      continue;
    auto ranked = dyn_cast<RankedTensorType>(c.type(k));
    if (ranked && ranked.getRank() != 1)
      return fail(llvm::formatv("{0} must be a 1-D tensor, not {1}", names[k],
                                typeString(ranked)));
    int64_t length = vectorLength(c.type(k));
    if (length == kDyn)
      continue;
    if (count != kDyn && length != count)
      return fail("starts, ends, axes and steps differ in length");
    count = length;
  }
  if (count != kDyn && count > rank)
    return fail(llvm::formatv("{0} starts for data of rank {1}", count, rank));
  return llvm::Error::success();
}

/// Slice(data, starts, ends, axes?, steps?): a sliced dim is static only when
/// starts and ends are constant and the step is 1; bounds clamp to the dim.
InferredTypes inferSlice(const InferenceContext &c) {
  auto data = c.shape(0);
  Type element = c.element(0);
  if (!data)
    return single(UnrankedTensorType::get(element));
  if (auto err = checkSliceOperands(c, data->size()))
    return std::move(err);
  std::optional<Shape> axes = sliceAxes(c);
  auto starts = constInts(c.inputs[1]), ends = constInts(c.inputs[2]);
  std::optional<Shape> steps;
  if (c.hasInput(4))
    steps = constInts(c.inputs[4]);
  Shape shape = *data;
  if (!axes)
    return single(RankedTensorType::get(Shape(data->size(), kDyn), element));
  // An unranked operand escapes the length check; its constant still has to
  // give one entry per axis.
  if ((starts && starts->size() != axes->size()) ||
      (ends && ends->size() != axes->size()) ||
      (steps && steps->size() != axes->size()))
    return fail("starts, ends, axes and steps differ in length");
  for (size_t i = 0; i < axes->size(); ++i) {
    auto axis = normalizeAxis((*axes)[i], data->size());
    if (!axis)
      return axis.takeError();
    int64_t dim = (*data)[*axis];
    int64_t step = steps ? (*steps)[i] : 1;
    if (step == 0)
      return fail("slice step is 0");
    if (dim == kDyn || !starts || !ends || step != 1) {
      shape[*axis] = kDyn;
      continue;
    }
    int64_t s = (*starts)[i], e = (*ends)[i];
    s = std::clamp<int64_t>(s < 0 ? s + dim : s, 0, dim);
    e = std::clamp<int64_t>(e < 0 ? e + dim : e, 0, dim);
    shape[*axis] = std::max<int64_t>(0, e - s);
  }
  return single(RankedTensorType::get(shape, element));
}

/// Split: one result per output; the sizes come from the `split` attribute
/// or input, else the axis is divided evenly.
InferredTypes inferSplit(const InferenceContext &c) {
  unsigned numOutputs = c.numOutputs;
  if (numOutputs == 0)
    return fail("Split has no outputs");
  auto data = c.shape(0);
  Type element = c.element(0);
  if (!data)
    return SmallVector<Type>(numOutputs, UnrankedTensorType::get(element));
  auto axis = normalizeAxis(c.intAttr("axis", 0), data->size());
  if (!axis)
    return axis.takeError();
  std::optional<Shape> sizes = c.intsAttrOrInput("split", 1);
  int64_t dim = (*data)[*axis];
  if (!sizes && dim != kDyn && dim % numOutputs == 0)
    sizes = Shape(numOutputs, dim / numOutputs);
  if (sizes && sizes->size() != numOutputs)
    return fail(llvm::formatv("split has {0} sizes for {1} outputs",
                              sizes->size(), numOutputs));
  if (sizes && dim != kDyn) {
    int64_t total = 0;
    for (int64_t s : *sizes)
      if (s < 0 || llvm::AddOverflow(total, s, total))
        return fail("split sizes must be non-negative and sum to the axis");
    if (total != dim)
      return fail(
          llvm::formatv("split sizes sum to {0}, axis has {1}", total, dim));
  }
  SmallVector<Type> results;
  for (unsigned i = 0; i < numOutputs; ++i) {
    Shape shape = *data;
    shape[*axis] = sizes ? (*sizes)[i] : kDyn;
    results.push_back(RankedTensorType::get(shape, element));
  }
  return results;
}

/// Tile: the rank is kept; each dim grows by a runtime repeat count.
InferredTypes inferTile(const InferenceContext &c) {
  auto data = c.shape(0);
  Type element = c.element(0);
  if (!data)
    return single(UnrankedTensorType::get(element));
  return single(RankedTensorType::get(Shape(data->size(), kDyn), element));
}

/// ScatterND writes updates into a copy of the data.
InferredTypes inferScatterND(const InferenceContext &c) {
  return single(c.type(0));
}

/// Flatten: always 2-D; the sizes depend on `axis` and the input dims.
InferredTypes inferFlatten(const InferenceContext &c) {
  return single(RankedTensorType::get({kDyn, kDyn}, c.element(0)));
}

//===----------------------------------------------------------------------===//
// Linear algebra and normalization
//===----------------------------------------------------------------------===//

/// MatMul follows numpy.matmul: a 1-D operand gains a dim that is dropped
/// again, and the batch dims broadcast.
InferredTypes inferMatMul(const InferenceContext &c) {
  auto a = c.shape(0), b = c.shape(1);
  Type element = c.element(0);
  if (!a || !b)
    return single(UnrankedTensorType::get(element));
  if (a->empty() || b->empty())
    return fail("MatMul inputs must have rank >= 1");
  bool aVector = a->size() == 1, bVector = b->size() == 1;
  if (aVector)
    a->insert(a->begin(), 1);
  if (bVector)
    b->push_back(1);
  int64_t k1 = a->back(), k2 = (*b)[b->size() - 2];
  if (k1 != kDyn && k2 != kDyn && k1 != k2)
    return fail(llvm::formatv("inner dimensions differ: {0} vs {1} ({2} x "
                              "{3})",
                              k1, k2, typeString(c.type(0)),
                              typeString(c.type(1))));
  auto batch = broadcast(Shape(a->begin(), a->end() - 2),
                         Shape(b->begin(), b->end() - 2));
  if (!batch)
    return batch.takeError();
  Shape shape = **batch;
  if (!aVector)
    shape.push_back((*a)[a->size() - 2]);
  if (!bVector)
    shape.push_back(b->back());
  return single(RankedTensorType::get(shape, element));
}

/// Gemm: 2-D A (M x K) times B (K x N), either transposed by transA/transB.
InferredTypes inferGemm(const InferenceContext &c) {
  auto a = c.shape(0), b = c.shape(1);
  Type element = c.element(0);
  if (!a || !b)
    return single(UnrankedTensorType::get(element));
  if (a->size() != 2 || b->size() != 2)
    return fail("Gemm inputs must be 2-D");
  bool transA = c.intAttr("transA", 0), transB = c.intAttr("transB", 0);
  int64_t m = transA ? (*a)[1] : (*a)[0], k1 = transA ? (*a)[0] : (*a)[1];
  int64_t k2 = transB ? (*b)[1] : (*b)[0], n = transB ? (*b)[0] : (*b)[1];
  if (k1 != kDyn && k2 != kDyn && k1 != k2)
    return fail(llvm::formatv("inner dimensions differ: {0} vs {1}", k1, k2));
  return single(RankedTensorType::get({m, n}, element));
}

/// ReduceMean: reduced dims become 1 with keepdims (the default) or go.
InferredTypes inferReduceMean(const InferenceContext &c) {
  auto data = c.shape(0);
  Type element = c.element(0);
  std::optional<Shape> axes = c.intsAttrOrInput("axes", 1);
  if (!data || !axes)
    return single(UnrankedTensorType::get(element));
  bool keep = c.intAttr("keepdims", 1) != 0;
  llvm::SmallSet<int64_t, 4> axisSet;
  for (int64_t a : *axes) {
    auto axis = normalizeAxis(a, data->size());
    if (!axis)
      return axis.takeError();
    axisSet.insert(*axis);
  }
  Shape shape;
  for (size_t i = 0; i < data->size(); ++i) {
    if (!axisSet.contains(i))
      shape.push_back((*data)[i]);
    else if (keep)
      shape.push_back(1);
  }
  return single(RankedTensorType::get(shape, element));
}

/// LayerNormalization: Y has X's type; the optional Mean and InvStdDev outputs
/// are f32 with the normalized dims (from `axis` on) reduced to 1.
InferredTypes inferLayerNormalization(const InferenceContext &c) {
  Type f32 = Float32Type::get(c.getContext());
  SmallVector<Type> results{c.type(0)};
  auto data = c.shape(0);
  for (unsigned i = 1; i < c.numOutputs; ++i) {
    if (!data) {
      results.push_back(UnrankedTensorType::get(f32));
      continue;
    }
    auto axis = normalizeAxis(c.intAttr("axis", -1), data->size());
    if (!axis)
      return axis.takeError();
    Shape shape = *data;
    for (size_t d = *axis; d < shape.size(); ++d)
      shape[d] = 1;
    results.push_back(RankedTensorType::get(shape, f32));
  }
  return results;
}

//===----------------------------------------------------------------------===//
// Op table
//===----------------------------------------------------------------------===//

/// How one op type is inferred: its inputs 0..minInputs-1 must be present
/// before `infer` runs.
struct OpRule {
  unsigned minInputs;
  InferredTypes (*infer)(const InferenceContext &);
};

const llvm::StringMap<OpRule> &opRules() {
  static const llvm::StringMap<OpRule> rules = {
      // Elementwise unary, and ops that keep their input's type.
      {"Abs", {1, inferSameAsInput}},
      {"Cos", {1, inferSameAsInput}},
      {"Erf", {1, inferSameAsInput}},
      {"Exp", {1, inferSameAsInput}},
      {"Gelu", {1, inferSameAsInput}},
      {"Identity", {1, inferSameAsInput}},
      {"Log", {1, inferSameAsInput}},
      {"Neg", {1, inferSameAsInput}},
      {"Not", {1, inferSameAsInput}},
      {"Reciprocal", {1, inferSameAsInput}},
      {"Relu", {1, inferSameAsInput}},
      {"Sigmoid", {1, inferSameAsInput}},
      {"Sin", {1, inferSameAsInput}},
      {"Softmax", {1, inferSameAsInput}},
      {"Sqrt", {1, inferSameAsInput}},
      {"Tanh", {1, inferSameAsInput}},
      {"Trilu", {1, inferSameAsInput}},
      {"Cast", {1, inferCast}},
      {"CastLike", {1, inferCastLike}},
      // Elementwise binary, broadcasting.
      {"Add", {2, inferBinary}},
      {"And", {2, inferBinary}},
      {"Div", {2, inferBinary}},
      {"Max", {2, inferBinary}},
      {"Min", {2, inferBinary}},
      {"Mod", {2, inferBinary}},
      {"Mul", {2, inferBinary}},
      {"Or", {2, inferBinary}},
      {"Sub", {2, inferBinary}},
      {"Pow", {2, inferPow}},
      {"Equal", {2, inferComparison}},
      {"Greater", {2, inferComparison}},
      {"GreaterOrEqual", {2, inferComparison}},
      {"Less", {2, inferComparison}},
      {"LessOrEqual", {2, inferComparison}},
      {"Where", {3, inferWhere}},
      // Constants and shape queries.
      {"Constant", {0, inferConstant}},
      {"ConstantOfShape", {1, inferConstantOfShape}},
      {"Range", {3, inferRange}},
      {"Shape", {1, inferShape}},
      // Indexing and reshaping.
      {"Concat", {1, inferConcat}},
      {"Expand", {2, inferExpand}},
      {"Flatten", {1, inferFlatten}},
      {"Gather", {2, inferGather}},
      {"Reshape", {2, inferReshape}},
      {"ScatterND", {3, inferScatterND}},
      {"Slice", {3, inferSlice}},
      {"Split", {1, inferSplit}},
      {"Squeeze", {1, inferSqueeze}},
      {"Tile", {2, inferTile}},
      {"Transpose", {1, inferTranspose}},
      {"Unsqueeze", {1, inferUnsqueeze}},
      // Linear algebra and normalization.
      {"Gemm", {2, inferGemm}},
      {"LayerNormalization", {2, inferLayerNormalization}},
      {"MatMul", {2, inferMatMul}},
      {"ReduceMean", {1, inferReduceMean}},
  };
  return rules;
}
} // namespace

std::optional<std::string>
mlir::microscale::onnx_import::checkTensorLimits(Type type) {
  auto ranked = dyn_cast<RankedTensorType>(type);
  if (!ranked)
    return std::nullopt;
  if (ranked.getRank() > kMaxRank)
    return llvm::formatv("rank {0} is above the limit of {1}", ranked.getRank(),
                         kMaxRank)
        .str();
  Shape staticDims;
  for (auto [i, d] : llvm::enumerate(ranked.getShape())) {
    if (d == kDyn)
      continue;
    if (d < 0)
      return llvm::formatv("dimension {0} is negative ({1})", i, d).str();
    staticDims.push_back(d);
  }
  if (!checkedProduct(staticDims))
    return llvm::formatv("more than {0} elements", kMaxElements).str();
  return std::nullopt;
}

bool mlir::microscale::onnx_import::isSupportedOpType(StringRef opType) {
  return opRules().contains(opType);
}

Expected<SmallVector<Type>> mlir::microscale::onnx_import::inferResultTypes(
    StringRef opType, DictionaryAttr attrs, ArrayRef<InferenceInput> inputs,
    unsigned numOutputs, int64_t opset) {
  auto rule = opRules().find(opType);
  if (rule == opRules().end())
    return fail("unsupported op");
  InferenceContext context{opType, attrs, inputs, numOutputs, opset};
  if (auto err = context.needInputs(rule->second.minInputs))
    return std::move(err);
  if (std::optional<std::string> message =
          dialect::checkAttributeKinds(opType, attrs))
    return fail(*message);
  // The rules compute with the inputs' dims; within the limits that
  // arithmetic cannot overflow.
  for (auto [i, input] : llvm::enumerate(inputs))
    if (std::optional<std::string> message = checkTensorLimits(input.type))
      return fail(llvm::formatv("input {0} is {1}: {2}", i,
                                typeString(input.type), *message));
  auto types = rule->second.infer(context);
  if (!types)
    return types.takeError();
  // No rule's result (a Reshape to 2^62 x 2^62, a Concat of huge dims)
  // enters the graph past the limits.
  for (auto [i, type] : llvm::enumerate(*types))
    if (std::optional<std::string> message = checkTensorLimits(type))
      return fail(llvm::formatv("result {0} is {1}: {2}", i, typeString(type),
                                *message));
  return types;
}
