//===- AttributeKinds.cpp - the ONNX attributes Microscale reads -*- C++
//-*-===//
//
// Part of the Microscale project.
//
// A model can give any attribute any kind (`perm` as floats, `value_ints` as
// floats); code that reads `perm` as integers would then crash. This table
// states, for every op the importer supports, the attributes ONNX defines
// for it (opsets 13 to 21) and their kinds. An attribute the table does not
// list is rejected too, as ONNX Runtime rejects it.
//
//===----------------------------------------------------------------------===//

#include "microscale/Dialect/ONNX/IR/ONNXDialect.h"

#include "llvm/ADT/StringMap.h"

using namespace mlir;
using namespace mlir::microscale::onnx;
using llvm::StringRef;

namespace {
struct AttributeSpec {
  StringRef name;
  AttributeKind kind;
};

using K = AttributeKind;

/// Ops with attributes; every other op has none.
const llvm::StringMap<llvm::SmallVector<AttributeSpec, 4>> &attributeTable() {
  static const llvm::StringMap<llvm::SmallVector<AttributeSpec, 4>> table = {
      {"Cast", {{"to", K::Int}, {"saturate", K::Int}}},
      {"CastLike", {{"saturate", K::Int}}},
      {"Concat", {{"axis", K::Int}}},
      {"Constant",
       {{"value", K::Tensor},
        {"value_float", K::Float},
        {"value_floats", K::Floats},
        {"value_int", K::Int},
        {"value_ints", K::Ints},
        {"value_string", K::String}}},
      {"ConstantOfShape", {{"value", K::Tensor}}},
      {"Flatten", {{"axis", K::Int}}},
      {"Gather", {{"axis", K::Int}}},
      {"Gelu", {{"approximate", K::String}}},
      {"Gemm",
       {{"alpha", K::Float},
        {"beta", K::Float},
        {"transA", K::Int},
        {"transB", K::Int}}},
      {"LayerNormalization",
       {{"axis", K::Int}, {"epsilon", K::Float}, {"stash_type", K::Int}}},
      {"Mod", {{"fmod", K::Int}}},
      {"ReduceMean",
       {{"axes", K::Ints},
        {"keepdims", K::Int},
        {"noop_with_empty_axes", K::Int}}},
      {"Reshape", {{"allowzero", K::Int}}},
      {"ScatterND", {{"reduction", K::String}}},
      {"Shape", {{"start", K::Int}, {"end", K::Int}}},
      {"Softmax", {{"axis", K::Int}}},
      // `split` is an attribute before opset 13 and an input from it on;
      // both spellings are read.
      {"Split",
       {{"axis", K::Int}, {"num_outputs", K::Int}, {"split", K::Ints}}},
      {"Squeeze", {{"axes", K::Ints}}},
      {"Transpose", {{"perm", K::Ints}}},
      {"Trilu", {{"upper", K::Int}}},
      {"Unsqueeze", {{"axes", K::Ints}}},
  };
  return table;
}

/// The kind of an attribute as the importer converts it, or std::nullopt.
std::optional<AttributeKind> kindOf(Attribute value) {
  if (isa<IntegerAttr>(value))
    return K::Int;
  if (isa<FloatAttr>(value))
    return K::Float;
  if (isa<StringAttr>(value))
    return K::String;
  if (isa<ElementsAttr>(value))
    return K::Tensor;
  if (auto list = dyn_cast<ArrayAttr>(value)) {
    if (llvm::all_of(list, llvm::IsaPred<IntegerAttr>))
      return K::Ints;
    if (llvm::all_of(list, llvm::IsaPred<FloatAttr>))
      return K::Floats;
  }
  return std::nullopt;
}
} // namespace

StringRef mlir::microscale::onnx::stringifyAttributeKind(AttributeKind kind) {
  switch (kind) {
  case K::Int:
    return "INT";
  case K::Float:
    return "FLOAT";
  case K::String:
    return "STRING";
  case K::Ints:
    return "INTS";
  case K::Floats:
    return "FLOATS";
  case K::Tensor:
    return "TENSOR";
  }
  llvm_unreachable("unknown attribute kind");
}

std::optional<AttributeKind>
mlir::microscale::onnx::expectedAttributeKind(StringRef opType,
                                              StringRef name) {
  auto entry = attributeTable().find(opType);
  if (entry == attributeTable().end())
    return std::nullopt;
  for (const AttributeSpec &spec : entry->second)
    if (spec.name == name)
      return spec.kind;
  return std::nullopt;
}

bool mlir::microscale::onnx::hasAttributeKind(Attribute value,
                                              AttributeKind kind) {
  auto list = dyn_cast<ArrayAttr>(value);
  if (list && list.empty())
    return kind == K::Ints || kind == K::Floats;
  return kindOf(value) == kind;
}

std::optional<std::string>
mlir::microscale::onnx::checkAttributeKinds(StringRef opType,
                                            DictionaryAttr attributes) {
  for (NamedAttribute attr : attributes) {
    StringRef name = attr.getName().getValue();
    std::optional<AttributeKind> expected = expectedAttributeKind(opType, name);
    if (!expected)
      return ("attribute '" + name + "' is not an attribute of " + opType)
          .str();
    if (hasAttributeKind(attr.getValue(), *expected))
      continue;
    std::optional<AttributeKind> actual = kindOf(attr.getValue());
    return ("attribute '" + name + "' must be " +
            stringifyAttributeKind(*expected) + ", not " +
            (actual ? stringifyAttributeKind(*actual) : "a mixed list"))
        .str();
  }
  return std::nullopt;
}
