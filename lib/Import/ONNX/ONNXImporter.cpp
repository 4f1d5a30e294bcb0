//===- ONNXImporter.cpp - ONNX ModelProto to the onnx dialect ---*- C++ -*-===//
//
// Part of the Microscale project.
//
// Reads a ModelProto with ONNX's own protobuf classes and emits one op per
// node. Initializers and tensor-valued Constant nodes become `onnx.constant`
// ops; their data goes into `dense_resource` blobs, so a 100 MB model never
// passes through text. External data is read (memory-mapped) only from files
// inside the model's folder.
//
//===----------------------------------------------------------------------===//

#include "microscale/Import/ONNXImporter.h"
#include "ShapeInference.h"
#include "microscale/Dialect/ONNX/IR/ONNXDialect.h"
#include "microscale/Support/RegularFile.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <onnx/onnx_pb.h>

using namespace mlir;
namespace dialect = mlir::microscale::onnx;
using llvm::SmallVector;
using llvm::StringRef;
using mlir::microscale::importONNXModel;
namespace import_limits = mlir::microscale::import_limits;

namespace {

/// Tensors with more elements than this become resource blobs; smaller ones
/// (shape constants, scalars) stay inline so patterns can read them cheaply.
constexpr int64_t kInlineElementLimit = 64;

class Importer {
public:
  Importer(StringRef path, MLIRContext *context)
      : path(path.str()), context(context), builder(context) {}

  llvm::Expected<OwningOpRef<ModuleOp>> run();

private:
  llvm::Error error(const llvm::Twine &message) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   path + ": " + message);
  }
  llvm::Error nodeError(const ::onnx::NodeProto &node,
                        const llvm::Twine &message) {
    // Unnamed nodes are named by their first output.
    std::string name = !node.name().empty() ? "node '" + node.name() + "'"
                       : node.output_size() > 0
                           ? "node producing '" + node.output(0) + "'"
                           : std::string("unnamed node");
    return error(name + " (" + node.op_type() + "): " + message);
  }

  llvm::Error loadModel();
  llvm::Expected<Type> convertValueInfo(const ::onnx::ValueInfoProto &info);
  llvm::Expected<ElementsAttr> convertTensor(const ::onnx::TensorProto &tensor,
                                             StringRef what);
  llvm::Expected<std::string>
  readExternalData(const ::onnx::TensorProto &tensor);
  llvm::Expected<Attribute> convertAttribute(const ::onnx::AttributeProto &attr,
                                             const ::onnx::NodeProto &node);
  llvm::Error importNode(const ::onnx::NodeProto &node);
  Location nodeLoc(StringRef name) {
    return NameLoc::get(StringAttr::get(context, name),
                        FileLineColLoc::get(context, path, 0, 0));
  }

  std::string path;
  std::string modelDir;
  MLIRContext *context;
  OpBuilder builder;
  ::onnx::ModelProto model;
  int64_t opset = 0;
  llvm::StringMap<Value> values;
};

llvm::Error Importer::loadModel() {
  if (llvm::sys::fs::is_directory(path))
    return error("is a directory, not an ONNX model");
  mlir::microscale::RegularFile file;
  if (std::optional<std::string> reason = file.open(path))
    return error("cannot read: " + *reason);
  if (file.size() == 0)
    return error("file is empty");
  if (file.size() > import_limits::kMaxModelBytes)
    return error("models above 2 GB must store weights as external data");
  auto buffer = file.read(file.size());
  if (!buffer)
    return error("cannot read: " + buffer.getError().message());
  StringRef bytes = (*buffer)->getBuffer();
  if (!model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return error("not a valid ONNX model (protobuf parse failed: truncated "
                 "or not a ModelProto)");
  if (!model.has_graph() || model.graph().node_size() == 0)
    return error("not an ONNX model: it has no graph nodes");
  if (model.ir_version() <= 0)
    return error("not an ONNX model: missing ir_version");

  SmallVector<char> absolute(path.begin(), path.end());
  llvm::sys::fs::make_absolute(absolute);
  llvm::SmallString<256> realPath;
  if (llvm::sys::fs::real_path(absolute, realPath))
    realPath.assign(absolute.begin(), absolute.end());
  modelDir = llvm::sys::path::parent_path(realPath).str();

  for (const auto &entry : model.opset_import())
    if (entry.domain().empty() || entry.domain() == "ai.onnx")
      opset = entry.version();
  if (opset == 0)
    return error("model declares no default-domain opset");
  if (opset < 13 || opset > 21)
    return error(llvm::formatv("opset {0} is not supported (supported: 13 to "
                               "21)",
                               opset));
  return llvm::Error::success();
}

Type convertDtype(MLIRContext *context, int32_t dtype) {
  switch (dtype) {
  case ::onnx::TensorProto::FLOAT:
  case ::onnx::TensorProto::FLOAT16:
    return Float32Type::get(context);
  case ::onnx::TensorProto::DOUBLE:
    return Float64Type::get(context);
  case ::onnx::TensorProto::INT64:
    return IntegerType::get(context, 64);
  case ::onnx::TensorProto::INT32:
    return IntegerType::get(context, 32);
  case ::onnx::TensorProto::BOOL:
    return IntegerType::get(context, 1);
  default:
    return {};
  }
}

std::string dtypeName(int32_t dtype) {
  if (::onnx::TensorProto::DataType_IsValid(dtype))
    return ::onnx::TensorProto::DataType_Name(
        static_cast<::onnx::TensorProto::DataType>(dtype));
  return "#" + std::to_string(dtype);
}

llvm::Expected<Type>
Importer::convertValueInfo(const ::onnx::ValueInfoProto &info) {
  if (!info.type().has_tensor_type())
    return error("graph value '" + info.name() + "' is not a tensor");
  const auto &tensorType = info.type().tensor_type();
  Type element = convertDtype(context, tensorType.elem_type());
  if (!element)
    return error("graph value '" + info.name() + "' has unsupported dtype " +
                 dtypeName(tensorType.elem_type()));
  if (!tensorType.has_shape())
    return UnrankedTensorType::get(element);
  if (tensorType.shape().dim_size() > import_limits::kMaxRank)
    return error(llvm::formatv("graph value '{0}' has rank {1}; at most {2} "
                               "dimensions are supported",
                               info.name(), tensorType.shape().dim_size(),
                               import_limits::kMaxRank));
  SmallVector<int64_t> shape;
  for (const auto &dim : tensorType.shape().dim())
    shape.push_back(dim.has_dim_value() ? dim.dim_value()
                                        : ShapedType::kDynamic);
  auto type = RankedTensorType::get(shape, element);
  if (std::optional<std::string> message =
          mlir::microscale::onnx_import::checkTensorLimits(type))
    return error("graph value '" + info.name() + "' is " +
                 llvm::formatv("{0}", Type(type)).str() + ": " + *message);
  return type;
}

llvm::Expected<std::string>
Importer::readExternalData(const ::onnx::TensorProto &tensor) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto &entry : tensor.external_data()) {
    if (entry.key() == "location")
      location = entry.value();
    else if (entry.key() == "offset" || entry.key() == "length") {
      int64_t number;
      if (StringRef(entry.value()).getAsInteger(10, number) || number < 0)
        return error("initializer '" + tensor.name() + "': external data " +
                     entry.key() + " '" + entry.value() +
                     "' is not a non-negative integer");
      (entry.key() == "offset" ? offset : length) = number;
    }
  }
  std::string what = "initializer '" + tensor.name() + "'";
  if (location.empty())
    return error(what + ": external data has no location");
  if (llvm::sys::path::is_absolute(location))
    return error(what + ": external data location '" + location +
                 "' is absolute; it must be inside the model's folder");
  llvm::SmallString<256> joined(modelDir);
  llvm::sys::path::append(joined, location);
  llvm::SmallString<256> resolved;
  if (llvm::sys::fs::real_path(joined, resolved))
    return error(what + ": external data file '" + location +
                 "' not found next to the model");
  StringRef dirPrefix = modelDir;
  if (!StringRef(resolved).starts_with(dirPrefix) ||
      resolved.size() <= dirPrefix.size() || resolved[dirPrefix.size()] != '/')
    return error(what + ": external data location '" + location +
                 "' escapes the model's folder");
  mlir::microscale::RegularFile file;
  if (std::optional<std::string> reason = file.open(resolved.str().str()))
    return error(what + ": cannot read '" + location + "': " + *reason);
  uint64_t fileSize = file.size();
  if (offset < 0 || (uint64_t)offset > fileSize)
    return error(what + ": external data offset is outside '" + location + "'");
  if (length < 0)
    length = fileSize - offset;
  // Compared without computing offset + length, which can overflow.
  if ((uint64_t)length > fileSize - offset)
    return error(what + ": external data of " + llvm::Twine(length) +
                 " bytes at offset " + llvm::Twine(offset) +
                 " runs past the "
                 "end of '" +
                 location + "'");
  auto buffer = file.read(length, offset);
  if (!buffer)
    return error(what + ": cannot read '" + location +
                 "': " + buffer.getError().message());
  return (*buffer)->getBuffer().str();
}

/// Copies typed repeated fields into a raw little-endian byte string.
template <typename Out, typename Field>
std::string packField(const Field &field) {
  std::string bytes(field.size() * sizeof(Out), '\0');
  for (int i = 0; i < field.size(); ++i) {
    Out v = static_cast<Out>(field.Get(i));
    std::memcpy(&bytes[i * sizeof(Out)], &v, sizeof(Out));
  }
  return bytes;
}

float halfToFloat(uint16_t h) {
  uint32_t sign = (h >> 15) & 1, exponent = (h >> 10) & 0x1f,
           mantissa = h & 0x3ff;
  float value;
  if (exponent == 0)
    value = std::ldexp(static_cast<float>(mantissa), -24);
  else if (exponent == 31)
    value = mantissa ? NAN : INFINITY;
  else
    value = std::ldexp(static_cast<float>(mantissa | 0x400), exponent - 25);
  return sign ? -value : value;
}

llvm::Expected<ElementsAttr>
Importer::convertTensor(const ::onnx::TensorProto &tensor, StringRef what) {
  int32_t dtype = tensor.data_type();
  Type element = convertDtype(context, dtype);
  if (!element)
    return error(what + " '" + tensor.name() + "' has unsupported dtype " +
                 dtypeName(dtype));
  SmallVector<int64_t> shape;
  int64_t numElements = 1;
  for (int64_t d : tensor.dims()) {
    if (d < 0)
      return error(what + " '" + tensor.name() + "' has a negative dimension");
    shape.push_back(d);
    if (llvm::MulOverflow(numElements, d, numElements) ||
        numElements > import_limits::kMaxElements)
      return error(what + " '" + tensor.name() + "' is too large");
  }
  auto type = RankedTensorType::get(shape, element);

  // Gather the bytes as stored: raw, typed fields, or external.
  std::string bytes;
  size_t storedElementSize = 0;
  switch (dtype) {
  case ::onnx::TensorProto::FLOAT:
  case ::onnx::TensorProto::INT32:
    storedElementSize = 4;
    break;
  case ::onnx::TensorProto::FLOAT16:
    storedElementSize = 2;
    break;
  case ::onnx::TensorProto::DOUBLE:
  case ::onnx::TensorProto::INT64:
    storedElementSize = 8;
    break;
  case ::onnx::TensorProto::BOOL:
    storedElementSize = 1;
    break;
  }
  if (tensor.data_location() == ::onnx::TensorProto::EXTERNAL) {
    auto external = readExternalData(tensor);
    if (!external)
      return external.takeError();
    bytes = std::move(*external);
  } else if (tensor.has_raw_data()) {
    bytes = tensor.raw_data();
  } else if (dtype == ::onnx::TensorProto::FLOAT) {
    bytes = packField<float>(tensor.float_data());
  } else if (dtype == ::onnx::TensorProto::INT64) {
    bytes = packField<int64_t>(tensor.int64_data());
  } else if (dtype == ::onnx::TensorProto::DOUBLE) {
    bytes = packField<double>(tensor.double_data());
  } else if (dtype == ::onnx::TensorProto::INT32) {
    bytes = packField<int32_t>(tensor.int32_data());
  } else if (dtype == ::onnx::TensorProto::FLOAT16) {
    bytes = packField<uint16_t>(tensor.int32_data());
  } else if (dtype == ::onnx::TensorProto::BOOL) {
    bytes = packField<uint8_t>(tensor.int32_data());
  }
  if (bytes.size() != static_cast<size_t>(numElements) * storedElementSize)
    return error(llvm::formatv("{0} '{1}': shape [{2}] needs {3} bytes of "
                               "data but {4} are stored",
                               what, tensor.name(),
                               llvm::make_range(shape.begin(), shape.end()),
                               numElements * storedElementSize, bytes.size()));

  if (dtype == ::onnx::TensorProto::FLOAT16) {
    std::string widened(numElements * 4, '\0');
    for (int64_t i = 0; i < numElements; ++i) {
      float f = halfToFloat(llvm::support::endian::read16le(&bytes[i * 2]));
      std::memcpy(&widened[i * 4], &f, 4);
    }
    bytes = std::move(widened);
  }
  if (dtype == ::onnx::TensorProto::BOOL) {
    SmallVector<bool> flags;
    for (char c : bytes)
      flags.push_back(c != 0);
    return cast<ElementsAttr>(DenseElementsAttr::get(type, flags));
  }
  if (numElements <= kInlineElementLimit)
    return cast<ElementsAttr>(DenseElementsAttr::getFromRawBuffer(
        type, llvm::ArrayRef<char>(bytes.data(), bytes.size())));
  auto blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(
      llvm::ArrayRef<char>(bytes.data(), bytes.size()), /*align=*/64);
  std::string blobName = mlir::microscale::resourceBlobName(tensor.name());
  return cast<ElementsAttr>(
      DenseResourceElementsAttr::get(type, blobName, std::move(blob)));
}

llvm::Expected<Attribute>
Importer::convertAttribute(const ::onnx::AttributeProto &attr,
                           const ::onnx::NodeProto &node) {
  switch (attr.type()) {
  case ::onnx::AttributeProto::INT:
    return Attribute(builder.getI64IntegerAttr(attr.i()));
  case ::onnx::AttributeProto::FLOAT:
    return Attribute(builder.getF32FloatAttr(attr.f()));
  case ::onnx::AttributeProto::STRING:
    return Attribute(builder.getStringAttr(attr.s()));
  case ::onnx::AttributeProto::INTS: {
    SmallVector<Attribute> values;
    for (int64_t v : attr.ints())
      values.push_back(builder.getI64IntegerAttr(v));
    return Attribute(builder.getArrayAttr(values));
  }
  case ::onnx::AttributeProto::FLOATS: {
    SmallVector<Attribute> values;
    for (float v : attr.floats())
      values.push_back(builder.getF32FloatAttr(v));
    return Attribute(builder.getArrayAttr(values));
  }
  case ::onnx::AttributeProto::TENSOR: {
    auto value = convertTensor(attr.t(), "attribute tensor");
    if (!value)
      return value.takeError();
    return Attribute(*value);
  }
  default:
    return nodeError(node, "attribute '" + attr.name() +
                               "' has an unsupported kind (graphs, sparse "
                               "tensors and type protos are not supported)");
  }
}

llvm::Error Importer::importNode(const ::onnx::NodeProto &node) {
  StringRef opType = node.op_type();
  if (!node.domain().empty() && node.domain() != "ai.onnx")
    return nodeError(node, "unsupported op domain '" + node.domain() + "'");
  if (!mlir::microscale::onnx_import::isSupportedOpType(opType))
    return nodeError(node, "unsupported op");
  Location loc = nodeLoc(node.name().empty() ? node.op_type() : node.name());

  SmallVector<NamedAttribute> attributes;
  for (const auto &attr : node.attribute()) {
    auto value = convertAttribute(attr, node);
    if (!value)
      return value.takeError();
    attributes.push_back(builder.getNamedAttr(attr.name(), *value));
  }
  DictionaryAttr attrDict = builder.getDictionaryAttr(attributes);
  // From here on every attribute has the kind ONNX gives it.
  if (std::optional<std::string> message =
          dialect::checkAttributeKinds(opType, attrDict))
    return nodeError(node, *message);

  if (opType == "Constant") {
    if (node.output_size() != 1)
      return nodeError(node, "Constant must have one output");
    ElementsAttr value;
    if (auto tensor = dyn_cast_or_null<ElementsAttr>(attrDict.get("value")))
      value = tensor;
    else if (auto f = dyn_cast_or_null<FloatAttr>(attrDict.get("value_float")))
      value = DenseElementsAttr::get(
          RankedTensorType::get({}, builder.getF32Type()), f.getValue());
    else if (auto i = dyn_cast_or_null<IntegerAttr>(attrDict.get("value_int")))
      value = DenseElementsAttr::get(
          RankedTensorType::get({}, builder.getI64Type()), i.getValue());
    else if (auto ints =
                 dyn_cast_or_null<ArrayAttr>(attrDict.get("value_ints"))) {
      SmallVector<int64_t> v;
      for (Attribute a : ints)
        v.push_back(cast<IntegerAttr>(a).getInt());
      value = DenseElementsAttr::get(
          RankedTensorType::get({(int64_t)v.size()}, builder.getI64Type()),
          llvm::ArrayRef<int64_t>(v));
    } else if (auto floats =
                   dyn_cast_or_null<ArrayAttr>(attrDict.get("value_floats"))) {
      SmallVector<float> v;
      for (Attribute a : floats)
        v.push_back(cast<FloatAttr>(a).getValueAsDouble());
      value = DenseElementsAttr::get(
          RankedTensorType::get({(int64_t)v.size()}, builder.getF32Type()),
          llvm::ArrayRef<float>(v));
    } else {
      return nodeError(node, "Constant has no supported value attribute");
    }
    auto op = builder.create<dialect::ConstantOp>(
        loc, cast<RankedTensorType>(cast<TypedAttr>(value).getType()),
        node.output(0), value);
    values[node.output(0)] = op;
    return llvm::Error::success();
  }

  SmallVector<Value> inputs;
  SmallVector<mlir::microscale::onnx_import::InferenceInput> inferenceInputs;
  for (const std::string &name : node.input()) {
    if (name.empty()) {
      Value none = builder.create<dialect::NoneOp>(loc, builder.getNoneType());
      inputs.push_back(none);
      inferenceInputs.push_back({none.getType(), {}});
      continue;
    }
    auto it = values.find(name);
    if (it == values.end())
      return nodeError(node, "input '" + name +
                                 "' is not defined (missing initializer, "
                                 "graph input or producing node)");
    Value value = it->second;
    inputs.push_back(value);
    DenseElementsAttr constant;
    if (auto constOp = value.getDefiningOp<dialect::ConstantOp>())
      constant = dyn_cast<DenseElementsAttr>(constOp.getValue());
    inferenceInputs.push_back({value.getType(), constant});
  }

  auto resultTypes = mlir::microscale::onnx_import::inferResultTypes(
      opType, attrDict, inferenceInputs, node.output_size(), opset);
  if (!resultTypes)
    return nodeError(node, llvm::toString(resultTypes.takeError()));

  auto op = builder.create<dialect::NodeOp>(loc, *resultTypes, opType,
                                            node.name(), attrDict, inputs);
  for (auto [name, result] : llvm::zip(node.output(), op.getResults()))
    if (!name.empty())
      values[name] = result;
  return llvm::Error::success();
}

llvm::Expected<OwningOpRef<ModuleOp>> Importer::run() {
  if (auto err = loadModel())
    return std::move(err);
  context->loadDialect<dialect::ONNXDialect, func::FuncDialect>();
  const ::onnx::GraphProto &graph = model.graph();

  Location fileLoc = FileLineColLoc::get(context, path, 0, 0);
  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc);
  (*module)->setAttr("onnx.opset", builder.getI64IntegerAttr(opset));
  (*module)->setAttr("onnx.producer",
                     builder.getStringAttr(model.producer_name() + " " +
                                           model.producer_version()));
  (*module)->setAttr("onnx.model_dir", builder.getStringAttr(modelDir));

  // Graph inputs that are also initializers (old exporters list them) are
  // constants, not arguments.
  llvm::StringSet<> initializerNames;
  for (const auto &init : graph.initializer())
    initializerNames.insert(init.name());
  SmallVector<Type> argTypes;
  SmallVector<std::string> argNames;
  for (const auto &input : graph.input()) {
    if (initializerNames.contains(input.name()))
      continue;
    auto type = convertValueInfo(input);
    if (!type)
      return type.takeError();
    argTypes.push_back(*type);
    argNames.push_back(input.name());
  }

  builder.setInsertionPointToEnd(module->getBody());
  auto func = builder.create<func::FuncOp>(
      fileLoc, "main_graph", builder.getFunctionType(argTypes, {}));
  Block *entry = func.addEntryBlock();
  for (auto [i, name] : llvm::enumerate(argNames)) {
    func.setArgAttr(i, "onnx.name", builder.getStringAttr(name));
    values[name] = entry->getArgument(i);
  }
  builder.setInsertionPointToStart(entry);

  for (const auto &init : graph.initializer()) {
    auto value = convertTensor(init, "initializer");
    if (!value)
      return value.takeError();
    auto op = builder.create<dialect::ConstantOp>(
        nodeLoc(init.name()),
        cast<RankedTensorType>(cast<TypedAttr>(*value).getType()), init.name(),
        *value);
    values[init.name()] = op;
  }
  // Protobuf copies are no longer needed once blobs hold the data.
  for (const auto &node : graph.node())
    if (auto err = importNode(node))
      return std::move(err);

  SmallVector<Value> results;
  SmallVector<Type> resultTypes;
  for (const auto &output : graph.output()) {
    auto it = values.find(output.name());
    if (it == values.end())
      return error("graph output '" + output.name() +
                   "' is not produced by any node");
    auto declared = convertValueInfo(output);
    if (!declared)
      return declared.takeError();
    auto inferred = dyn_cast<RankedTensorType>(it->second.getType());
    auto expected = dyn_cast<RankedTensorType>(*declared);
    if (inferred && expected) {
      bool consistent = inferred.getRank() == expected.getRank();
      for (int64_t i = 0; consistent && i < inferred.getRank(); ++i)
        consistent = inferred.isDynamicDim(i) || expected.isDynamicDim(i) ||
                     inferred.getDimSize(i) == expected.getDimSize(i);
      if (!consistent)
        return error("graph output '" + output.name() + "' is declared " +
                     llvm::formatv("{0}", *declared).str() + " but computes " +
                     llvm::formatv("{0}", Type(inferred)).str());
    }
    results.push_back(it->second);
    resultTypes.push_back(it->second.getType());
  }
  builder.create<func::ReturnOp>(fileLoc, results);
  func.setType(builder.getFunctionType(argTypes, resultTypes));
  for (auto [i, output] : llvm::enumerate(graph.output()))
    func.setResultAttr(i, "onnx.name", builder.getStringAttr(output.name()));
  return std::move(module);
}

} // namespace

llvm::Expected<OwningOpRef<ModuleOp>>
mlir::microscale::importONNXModel(StringRef path, MLIRContext *context) {
  Importer importer(path, context);
  return importer.run();
}
