//===- ShapeInference.cpp - result types of ONNX nodes ----------*- C++ -*-===//
//
// Part of the Microscale project.
//
// Exported LLM graphs carry no value_info, and Debian's onnx library only
// knows opsets up to 17, so the importer infers the types it needs itself.
// The rules follow the ONNX operator specification for opsets 13-21; a
// dimension that depends on runtime data is left dynamic.
//
//===----------------------------------------------------------------------===//

#include "ShapeInference.h"

#include "llvm/ADT/SmallSet.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::microscale::onnx_import;
using llvm::Expected;
using llvm::SmallVector;
using llvm::StringRef;

namespace {
constexpr int64_t kDyn = ShapedType::kDynamic;

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
Type makeType(std::optional<SmallVector<int64_t>> shape, Type element) {
  if (!shape)
    return UnrankedTensorType::get(element);
  return RankedTensorType::get(*shape, element);
}

std::optional<SmallVector<int64_t>> shapeOf(Type type) {
  if (auto ranked = dyn_cast<RankedTensorType>(type))
    return SmallVector<int64_t>(ranked.getShape());
  return std::nullopt;
}

int64_t intAttr(DictionaryAttr attrs, StringRef name, int64_t fallback) {
  if (auto attr = dyn_cast_or_null<IntegerAttr>(attrs.get(name)))
    return attr.getInt();
  return fallback;
}

std::optional<SmallVector<int64_t>> intsAttr(DictionaryAttr attrs,
                                             StringRef name) {
  auto array = dyn_cast_or_null<ArrayAttr>(attrs.get(name));
  if (!array)
    return std::nullopt;
  SmallVector<int64_t> values;
  for (Attribute a : array)
    values.push_back(cast<IntegerAttr>(a).getInt());
  return values;
}

std::optional<SmallVector<int64_t>> constInts(const InferenceInput &input) {
  if (!input.constant || !input.constant.getElementType().isInteger(64))
    return std::nullopt;
  SmallVector<int64_t> values;
  for (const APInt &v : input.constant.getValues<APInt>())
    values.push_back(v.getSExtValue());
  return values;
}

/// Numpy-style broadcast of two shapes.
Expected<std::optional<SmallVector<int64_t>>>
broadcast(std::optional<SmallVector<int64_t>> a,
          std::optional<SmallVector<int64_t>> b) {
  if (!a || !b)
    return std::nullopt;
  size_t rank = std::max(a->size(), b->size());
  SmallVector<int64_t> result(rank);
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
  return std::optional<SmallVector<int64_t>>(result);
}

Expected<int64_t> normalizeAxis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    return fail(
        llvm::formatv("axis {0} is out of range for rank {1}", axis, rank));
  return axis < 0 ? axis + rank : axis;
}

const llvm::StringSet<> &elementwiseUnary() {
  static const llvm::StringSet<> ops = {
      "Neg",     "Sqrt", "Reciprocal", "Sigmoid", "Tanh",     "Cos",
      "Sin",     "Exp",  "Erf",        "Relu",    "Identity", "Not",
      "Softmax", "Abs",  "Log",        "Gelu",    "Trilu"};
  return ops;
}
const llvm::StringSet<> &elementwiseBinary() {
  static const llvm::StringSet<> ops = {"Add", "Sub", "Mul", "Div", "Pow",
                                        "And", "Or",  "Max", "Min", "Mod"};
  return ops;
}
const llvm::StringSet<> &comparisons() {
  static const llvm::StringSet<> ops = {"Equal", "Less", "LessOrEqual",
                                        "Greater", "GreaterOrEqual"};
  return ops;
}
const llvm::StringSet<> &otherOps() {
  static const llvm::StringSet<> ops = {"Where",     "Cast",
                                        "Shape",     "Gather",
                                        "Unsqueeze", "Squeeze",
                                        "Concat",    "Reshape",
                                        "Transpose", "MatMul",
                                        "Gemm",      "ReduceMean",
                                        "Range",     "ConstantOfShape",
                                        "Expand",    "Slice",
                                        "Split",     "LayerNormalization",
                                        "Tile",      "ScatterND",
                                        "Constant",  "CastLike",
                                        "Flatten"};
  return ops;
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
} // namespace

bool mlir::microscale::onnx_import::isSupportedOpType(StringRef opType) {
  return elementwiseUnary().contains(opType) ||
         elementwiseBinary().contains(opType) ||
         comparisons().contains(opType) || otherOps().contains(opType);
}

Expected<SmallVector<Type>> mlir::microscale::onnx_import::inferResultTypes(
    StringRef opType, DictionaryAttr attrs, llvm::ArrayRef<InferenceInput> in,
    unsigned numOutputs, int64_t opset) {
  MLIRContext *ctx = attrs.getContext();
  auto needInputs = [&](size_t n) -> llvm::Error {
    if (in.size() < n)
      return fail(
          llvm::formatv("expects at least {0} inputs, got {1}", n, in.size()));
    for (size_t i = 0; i < n; ++i)
      if (isa<NoneType>(in[i].type))
        return fail(llvm::formatv("required input {0} is missing", i));
    return llvm::Error::success();
  };
  auto one = [](Type t) { return SmallVector<Type>{t}; };

  if (elementwiseUnary().contains(opType) || opType == "Cast" ||
      opType == "CastLike") {
    if (auto err = needInputs(1))
      return std::move(err);
    Type element = elementType(in[0].type);
    if (opType == "Cast") {
      element = onnxDtypeToType(ctx, intAttr(attrs, "to", 0));
      if (!element)
        return fail(llvm::formatv("unsupported dtype {0} in 'to'",
                                  intAttr(attrs, "to", 0)));
    } else if (opType == "CastLike") {
      if (auto err = needInputs(2))
        return std::move(err);
      element = elementType(in[1].type);
    }
    if (opType == "Softmax" || opType == "Trilu")
      element = elementType(in[0].type);
    return one(makeType(shapeOf(in[0].type), element));
  }

  if (elementwiseBinary().contains(opType) || comparisons().contains(opType)) {
    if (auto err = needInputs(2))
      return std::move(err);
    Type lhsElement = elementType(in[0].type);
    if (opType != "Pow" && lhsElement != elementType(in[1].type))
      return fail(llvm::formatv("input element types differ: {0} and {1}",
                                typeString(in[0].type),
                                typeString(in[1].type)));
    auto shape = broadcast(shapeOf(in[0].type), shapeOf(in[1].type));
    if (!shape)
      return shape.takeError();
    Type element =
        comparisons().contains(opType) ? IntegerType::get(ctx, 1) : lhsElement;
    return one(makeType(*shape, element));
  }

  if (opType == "Where") {
    if (auto err = needInputs(3))
      return std::move(err);
    if (elementType(in[1].type) != elementType(in[2].type))
      return fail(llvm::formatv("value element types differ: {0} and {1}",
                                typeString(in[1].type),
                                typeString(in[2].type)));
    auto shape = broadcast(shapeOf(in[0].type), shapeOf(in[1].type));
    if (!shape)
      return shape.takeError();
    auto shape2 = broadcast(*shape, shapeOf(in[2].type));
    if (!shape2)
      return shape2.takeError();
    return one(makeType(*shape2, elementType(in[1].type)));
  }

  if (opType == "Shape") {
    if (auto err = needInputs(1))
      return std::move(err);
    auto shape = shapeOf(in[0].type);
    int64_t size = kDyn;
    if (shape) {
      int64_t rank = shape->size();
      int64_t start = intAttr(attrs, "start", 0),
              end = intAttr(attrs, "end", rank);
      start = std::clamp<int64_t>(start < 0 ? start + rank : start, 0, rank);
      end = std::clamp<int64_t>(end < 0 ? end + rank : end, 0, rank);
      size = std::max<int64_t>(0, end - start);
    }
    return one(RankedTensorType::get({size}, IntegerType::get(ctx, 64)));
  }

  if (opType == "Gather") {
    if (auto err = needInputs(2))
      return std::move(err);
    auto data = shapeOf(in[0].type), indices = shapeOf(in[1].type);
    Type element = elementType(in[0].type);
    if (!data || !indices)
      return one(UnrankedTensorType::get(element));
    auto axis = normalizeAxis(intAttr(attrs, "axis", 0), data->size());
    if (!axis)
      return axis.takeError();
    SmallVector<int64_t> shape(data->begin(), data->begin() + *axis);
    shape.append(indices->begin(), indices->end());
    shape.append(data->begin() + *axis + 1, data->end());
    return one(RankedTensorType::get(shape, element));
  }

  if (opType == "Unsqueeze" || opType == "Squeeze") {
    if (auto err = needInputs(1))
      return std::move(err);
    std::optional<SmallVector<int64_t>> axes = intsAttr(attrs, "axes");
    if (!axes && in.size() > 1 && !isa<NoneType>(in[1].type))
      axes = constInts(in[1]);
    auto data = shapeOf(in[0].type);
    Type element = elementType(in[0].type);
    if (!data)
      return one(UnrankedTensorType::get(element));
    if (!axes) {
      if (opType == "Unsqueeze" ||
          (in.size() > 1 && !isa<NoneType>(in[1].type)))
        return one(UnrankedTensorType::get(element));
      SmallVector<int64_t> shape; // Squeeze without axes: drop static 1s.
      for (int64_t d : *data)
        if (d != 1)
          shape.push_back(d);
      return one(RankedTensorType::get(shape, element));
    }
    int64_t outRank =
        opType == "Unsqueeze" ? data->size() + axes->size() : data->size();
    llvm::SmallSet<int64_t, 4> axisSet;
    for (int64_t a : *axes) {
      auto axis = normalizeAxis(a, outRank);
      if (!axis)
        return axis.takeError();
      if (!axisSet.insert(*axis).second)
        return fail(llvm::formatv("axis {0} appears twice", a));
    }
    SmallVector<int64_t> shape;
    if (opType == "Unsqueeze") {
      auto it = data->begin();
      for (int64_t i = 0; i < outRank; ++i)
        shape.push_back(axisSet.contains(i) ? 1 : *it++);
    } else {
      for (int64_t i = 0; i < outRank; ++i) {
        if (!axisSet.contains(i)) {
          shape.push_back((*data)[i]);
          continue;
        }
        if ((*data)[i] != 1 && (*data)[i] != kDyn)
          return fail(llvm::formatv("cannot squeeze axis {0} of size {1}", i,
                                    (*data)[i]));
      }
    }
    return one(RankedTensorType::get(shape, element));
  }

  if (opType == "Concat") {
    if (auto err = needInputs(1))
      return std::move(err);
    Type element = elementType(in[0].type);
    std::optional<SmallVector<int64_t>> result;
    int64_t axisIndex = 0;
    for (const InferenceInput &input : in) {
      auto shape = shapeOf(input.type);
      if (!shape)
        return one(UnrankedTensorType::get(element));
      if (elementType(input.type) != element)
        return fail("inputs have different element types");
      if (!result) {
        auto axis = normalizeAxis(intAttr(attrs, "axis", 0), shape->size());
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
        if ((int64_t)i == axisIndex)
          r = (r == kDyn || d == kDyn) ? kDyn : r + d;
        else if (r == kDyn)
          r = d;
        else if (d != kDyn && d != r)
          return fail(llvm::formatv("inputs differ in dimension {0} ({1} vs "
                                    "{2})",
                                    i, r, d));
      }
    }
    return one(makeType(result, element));
  }

  if (opType == "Reshape") {
    if (auto err = needInputs(2))
      return std::move(err);
    Type element = elementType(in[0].type);
    auto targetShape = shapeOf(in[1].type);
    if (!targetShape || targetShape->size() != 1 || (*targetShape)[0] == kDyn)
      return one(UnrankedTensorType::get(element));
    SmallVector<int64_t> shape((*targetShape)[0], kDyn);
    if (auto target = constInts(in[1])) {
      auto data = shapeOf(in[0].type);
      bool allowZero = intAttr(attrs, "allowzero", 0) != 0;
      int64_t known = 1, inferIndex = -1;
      for (size_t i = 0; i < target->size(); ++i) {
        int64_t t = (*target)[i];
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
        } else if (t < 0)
          return fail(llvm::formatv("invalid target dimension {0}", t));
        else
          shape[i] = t;
        known = shape[i] == kDyn || known == kDyn ? kDyn : known * shape[i];
      }
      if (data && inferIndex >= 0 && known != kDyn && known != 0 &&
          !llvm::is_contained(*data, kDyn)) {
        int64_t total = 1;
        for (int64_t d : *data)
          total *= d;
        if (total % known)
          return fail(llvm::formatv("cannot reshape {0} elements into a "
                                    "multiple of {1}",
                                    total, known));
        shape[inferIndex] = total / known;
      }
      if (data && inferIndex < 0 && known != kDyn &&
          !llvm::is_contained(*data, kDyn)) {
        int64_t total = 1;
        for (int64_t d : *data)
          total *= d;
        if (total != known)
          return fail(llvm::formatv("cannot reshape {0} elements into {1}",
                                    total, known));
      }
    }
    return one(RankedTensorType::get(shape, element));
  }

  if (opType == "Transpose") {
    if (auto err = needInputs(1))
      return std::move(err);
    auto data = shapeOf(in[0].type);
    Type element = elementType(in[0].type);
    if (!data)
      return one(UnrankedTensorType::get(element));
    SmallVector<int64_t> perm;
    if (auto p = intsAttr(attrs, "perm"))
      perm = *p;
    else
      for (int64_t i = data->size() - 1; i >= 0; --i)
        perm.push_back(i);
    if (perm.size() != data->size())
      return fail(llvm::formatv("perm has {0} entries for rank {1}",
                                perm.size(), data->size()));
    SmallVector<int64_t> shape;
    llvm::SmallSet<int64_t, 8> seen;
    for (int64_t p : perm) {
      if (p < 0 || p >= (int64_t)data->size())
        return fail(llvm::formatv("perm entry {0} out of range", p));
      if (!seen.insert(p).second)
        return fail(llvm::formatv("perm repeats axis {0}", p));
      shape.push_back((*data)[p]);
    }
    return one(RankedTensorType::get(shape, element));
  }

  if (opType == "MatMul") {
    if (auto err = needInputs(2))
      return std::move(err);
    auto a = shapeOf(in[0].type), b = shapeOf(in[1].type);
    Type element = elementType(in[0].type);
    if (!a || !b)
      return one(UnrankedTensorType::get(element));
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
                                k1, k2, typeString(in[0].type),
                                typeString(in[1].type)));
    auto batch = broadcast(SmallVector<int64_t>(a->begin(), a->end() - 2),
                           SmallVector<int64_t>(b->begin(), b->end() - 2));
    if (!batch)
      return batch.takeError();
    SmallVector<int64_t> shape = **batch;
    if (!aVector)
      shape.push_back((*a)[a->size() - 2]);
    if (!bVector)
      shape.push_back(b->back());
    return one(RankedTensorType::get(shape, element));
  }

  if (opType == "Gemm") {
    if (auto err = needInputs(2))
      return std::move(err);
    auto a = shapeOf(in[0].type), b = shapeOf(in[1].type);
    Type element = elementType(in[0].type);
    if (!a || !b)
      return one(UnrankedTensorType::get(element));
    if (a->size() != 2 || b->size() != 2)
      return fail("Gemm inputs must be 2-D");
    bool transA = intAttr(attrs, "transA", 0),
         transB = intAttr(attrs, "transB", 0);
    int64_t m = transA ? (*a)[1] : (*a)[0], k1 = transA ? (*a)[0] : (*a)[1];
    int64_t k2 = transB ? (*b)[1] : (*b)[0], n = transB ? (*b)[0] : (*b)[1];
    if (k1 != kDyn && k2 != kDyn && k1 != k2)
      return fail(llvm::formatv("inner dimensions differ: {0} vs {1}", k1, k2));
    return one(RankedTensorType::get({m, n}, element));
  }

  if (opType == "ReduceMean") {
    if (auto err = needInputs(1))
      return std::move(err);
    auto data = shapeOf(in[0].type);
    Type element = elementType(in[0].type);
    auto axes = intsAttr(attrs, "axes");
    if (!axes && in.size() > 1 && !isa<NoneType>(in[1].type))
      axes = constInts(in[1]);
    if (!data || !axes)
      return one(UnrankedTensorType::get(element));
    bool keep = intAttr(attrs, "keepdims", 1) != 0;
    llvm::SmallSet<int64_t, 4> axisSet;
    for (int64_t a : *axes) {
      auto axis = normalizeAxis(a, data->size());
      if (!axis)
        return axis.takeError();
      axisSet.insert(*axis);
    }
    SmallVector<int64_t> shape;
    for (size_t i = 0; i < data->size(); ++i) {
      if (!axisSet.contains(i))
        shape.push_back((*data)[i]);
      else if (keep)
        shape.push_back(1);
    }
    return one(RankedTensorType::get(shape, element));
  }

  if (opType == "Range") {
    if (auto err = needInputs(3))
      return std::move(err);
    return one(RankedTensorType::get({kDyn}, elementType(in[0].type)));
  }

  if (opType == "ConstantOfShape") {
    if (auto err = needInputs(1))
      return std::move(err);
    Type element = Float32Type::get(ctx);
    if (auto value = dyn_cast_or_null<DenseElementsAttr>(attrs.get("value")))
      element = value.getElementType();
    auto shapeShape = shapeOf(in[0].type);
    if (!shapeShape || shapeShape->size() != 1 || (*shapeShape)[0] == kDyn)
      return one(UnrankedTensorType::get(element));
    SmallVector<int64_t> shape((*shapeShape)[0], kDyn);
    if (auto dims = constInts(in[0]))
      shape = *dims;
    if (llvm::any_of(shape, [](int64_t d) { return d < 0 && d != kDyn; }))
      return fail("shape has a negative dimension");
    return one(RankedTensorType::get(shape, element));
  }

  if (opType == "Expand") {
    if (auto err = needInputs(2))
      return std::move(err);
    Type element = elementType(in[0].type);
    auto shapeShape = shapeOf(in[1].type);
    if (!shapeShape || shapeShape->size() != 1 || (*shapeShape)[0] == kDyn)
      return one(UnrankedTensorType::get(element));
    SmallVector<int64_t> target((*shapeShape)[0], kDyn);
    if (auto dims = constInts(in[1]))
      target = *dims;
    if (llvm::any_of(target, [](int64_t d) { return d < 0 && d != kDyn; }))
      return fail("target shape has a negative dimension");
    auto data = shapeOf(in[0].type);
    if (!data)
      return one(UnrankedTensorType::get(element));
    // Expand broadcasts; a dynamic target entry may still be 1, so only
    // sizes known on both sides combine.
    size_t rank = std::max(data->size(), target.size());
    SmallVector<int64_t> shape(rank);
    for (size_t i = 0; i < rank; ++i) {
      int64_t d =
          i < rank - data->size() ? 1 : (*data)[i - (rank - data->size())];
      int64_t t =
          i < rank - target.size() ? 1 : target[i - (rank - target.size())];
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
    return one(RankedTensorType::get(shape, element));
  }

  if (opType == "Slice") {
    if (auto err = needInputs(3))
      return std::move(err);
    auto data = shapeOf(in[0].type);
    Type element = elementType(in[0].type);
    if (!data)
      return one(UnrankedTensorType::get(element));
    SmallVector<int64_t> shape = *data;
    std::optional<SmallVector<int64_t>> axes;
    if (in.size() > 3 && !isa<NoneType>(in[3].type))
      axes = constInts(in[3]);
    else if (auto starts = shapeOf(in[1].type);
             starts && starts->size() == 1 && (*starts)[0] != kDyn) {
      axes.emplace();
      for (int64_t i = 0; i < (*starts)[0]; ++i)
        axes->push_back(i);
    }
    auto starts = constInts(in[1]), ends = constInts(in[2]);
    std::optional<SmallVector<int64_t>> steps;
    if (in.size() > 4 && !isa<NoneType>(in[4].type))
      steps = constInts(in[4]);
    auto lengthOf = [](Type t) -> int64_t {
      auto r = dyn_cast<RankedTensorType>(t);
      return r && r.getRank() == 1 ? r.getDimSize(0) : kDyn;
    };
    int64_t count = lengthOf(in[1].type);
    for (size_t k = 2; k < in.size() && k <= 4; ++k)
      if (!isa<NoneType>(in[k].type) && count != kDyn &&
          lengthOf(in[k].type) != kDyn && lengthOf(in[k].type) != count)
        return fail("starts, ends, axes and steps differ in length");
    if (!axes)
      return one(RankedTensorType::get(SmallVector<int64_t>(data->size(), kDyn),
                                       element));
    for (size_t i = 0; i < axes->size(); ++i) {
      auto axis = normalizeAxis((*axes)[i], data->size());
      if (!axis)
        return axis.takeError();
      int64_t dim = (*data)[*axis];
      int64_t step = steps && i < steps->size() ? (*steps)[i] : 1;
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
    return one(RankedTensorType::get(shape, element));
  }

  if (opType == "Split") {
    if (auto err = needInputs(1))
      return std::move(err);
    if (numOutputs == 0)
      return fail("Split has no outputs");
    auto data = shapeOf(in[0].type);
    Type element = elementType(in[0].type);
    SmallVector<Type> results;
    if (!data) {
      results.assign(numOutputs, UnrankedTensorType::get(element));
      return results;
    }
    auto axis = normalizeAxis(intAttr(attrs, "axis", 0), data->size());
    if (!axis)
      return axis.takeError();
    std::optional<SmallVector<int64_t>> sizes = intsAttr(attrs, "split");
    if (!sizes && in.size() > 1 && !isa<NoneType>(in[1].type))
      sizes = constInts(in[1]);
    int64_t dim = (*data)[*axis];
    if (!sizes && dim != kDyn && dim % numOutputs == 0)
      sizes = SmallVector<int64_t>(numOutputs, dim / numOutputs);
    if (sizes && sizes->size() != numOutputs)
      return fail(llvm::formatv("split has {0} sizes for {1} outputs",
                                sizes->size(), numOutputs));
    if (sizes && dim != kDyn) {
      int64_t total = 0;
      for (int64_t s : *sizes)
        total += s;
      if (total != dim)
        return fail(
            llvm::formatv("split sizes sum to {0}, axis has {1}", total, dim));
    }
    for (unsigned i = 0; i < numOutputs; ++i) {
      SmallVector<int64_t> shape = *data;
      shape[*axis] = sizes ? (*sizes)[i] : kDyn;
      results.push_back(RankedTensorType::get(shape, element));
    }
    return results;
  }

  if (opType == "LayerNormalization") {
    if (auto err = needInputs(2))
      return std::move(err);
    SmallVector<Type> results{in[0].type};
    auto data = shapeOf(in[0].type);
    for (unsigned i = 1; i < numOutputs; ++i) {
      if (!data) {
        results.push_back(UnrankedTensorType::get(Float32Type::get(ctx)));
        continue;
      }
      auto axis = normalizeAxis(intAttr(attrs, "axis", -1), data->size());
      if (!axis)
        return axis.takeError();
      SmallVector<int64_t> shape = *data;
      for (size_t d = *axis; d < shape.size(); ++d)
        shape[d] = 1;
      results.push_back(RankedTensorType::get(shape, Float32Type::get(ctx)));
    }
    return results;
  }

  if (opType == "Tile") {
    if (auto err = needInputs(2))
      return std::move(err);
    auto data = shapeOf(in[0].type);
    Type element = elementType(in[0].type);
    if (!data)
      return one(UnrankedTensorType::get(element));
    return one(RankedTensorType::get(SmallVector<int64_t>(data->size(), kDyn),
                                     element));
  }

  if (opType == "ScatterND") {
    if (auto err = needInputs(3))
      return std::move(err);
    return one(in[0].type);
  }

  if (opType == "Flatten") {
    if (auto err = needInputs(1))
      return std::move(err);
    return one(RankedTensorType::get({kDyn, kDyn}, elementType(in[0].type)));
  }

  (void)opset;
  return fail("unsupported op");
}
