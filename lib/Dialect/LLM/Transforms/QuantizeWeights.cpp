//===- QuantizeWeights.cpp - weights to #llm.quant encodings ----*- C++ -*-===//
//
// Part of the Microscale project.
//
// Finds weight matrices through WeightUserOpInterface, picks each one's
// format (overrides by name, else the default for its kind), and replaces
// the `llm.weight` by one holding the quantization library's storage. The
// users keep their operands; only the weight's type encoding changes.
//
//===----------------------------------------------------------------------===//

#include "microscale/Dialect/LLM/IR/LLMOps.h"
#include "microscale/Dialect/LLM/IR/WeightData.h"
#include "microscale/Dialect/LLM/Transforms/Passes.h"
#include "microscale/Quant/Quant.h"

#include "llvm/ADT/MapVector.h"
#include "llvm/Support/Regex.h"

namespace mlir::microscale::llm {
#define GEN_PASS_DEF_QUANTIZEWEIGHTSPASS
#include "microscale/Dialect/LLM/Transforms/Passes.h.inc"
} // namespace mlir::microscale::llm

using namespace mlir;
using namespace mlir::microscale;
using namespace mlir::microscale::llm;

namespace {

/// Matrices inside the decoder layers (as opposed to the embedding and the
/// logits projection).
bool isLayerMatrixRole(WeightRole role) {
  switch (role) {
  case WeightRole::Linear:
  case WeightRole::QueryProj:
  case WeightRole::KeyProj:
  case WeightRole::ValueProj:
  case WeightRole::OutputProj:
  case WeightRole::UpProj:
  case WeightRole::GateProj:
  case WeightRole::DownProj:
    return true;
  default:
    return false;
  }
}

bool isQuantizableRole(WeightRole role) {
  return isLayerMatrixRole(role) || role == WeightRole::TokenEmbedding ||
         role == WeightRole::Logits;
}

/// A `regex=format` override; `format` empty keeps the weight as it is.
struct Override {
  std::shared_ptr<llvm::Regex> pattern;
  std::optional<quant::Format> format;
};

struct QuantizeWeightsPass
    : public llm::impl::QuantizeWeightsPassBase<QuantizeWeightsPass> {
  using QuantizeWeightsPassBase::QuantizeWeightsPassBase;

  void runOnOperation() override;

private:
  LogicalResult parseOptions();
  /// The format of `weight` (first used as `role`), std::nullopt to keep it.
  std::optional<quant::Format> chooseFormat(WeightOp weight, WeightRole role,
                                            std::optional<int64_t> layer);
  LogicalResult quantize(WeightOp weight, const quant::Format &format);

  quant::Format defaultFormat;
  SmallVector<Override> parsedOverrides;
};

LogicalResult QuantizeWeightsPass::parseOptions() {
  ModuleOp module = getOperation();
  auto parsed = quant::parseFormat(format);
  if (!parsed)
    return module.emitError("llm-quantize-weights: ")
           << llvm::toString(parsed.takeError());
  defaultFormat = *parsed;
  if (weights != "all" && weights != "linears")
    return module.emitError("llm-quantize-weights: weights must be 'all' or "
                            "'linears', got '")
           << weights << "'";
  if (method != "rtn")
    return module.emitError("llm-quantize-weights: unknown method '")
           << method << "'";
  for (const std::string &entry : overrides) {
    auto [regex, name] = StringRef(entry).rsplit('=');
    if (name.empty() && !StringRef(entry).contains('='))
      return module.emitError("llm-quantize-weights: override '")
             << entry << "' is not REGEX=FORMAT";
    Override parsedOverride;
    parsedOverride.pattern =
        std::make_shared<llvm::Regex>(("^(" + regex + ")$").str());
    std::string why;
    if (!parsedOverride.pattern->isValid(why))
      return module.emitError("llm-quantize-weights: override regex '")
             << regex << "': " << why;
    if (name != "float") {
      auto overrideFormat = quant::parseFormat(name);
      if (!overrideFormat)
        return module.emitError("llm-quantize-weights: override '")
               << entry << "': " << llvm::toString(overrideFormat.takeError());
      parsedOverride.format = *overrideFormat;
    }
    parsedOverrides.push_back(std::move(parsedOverride));
  }
  return success();
}

/// The name overrides also match, whatever the exporter called the weight:
/// `layers.<L>.<role>` inside layers (e.g. `layers.0.down_proj`), else the
/// role (`token_embedding`, `logits`).
std::string getCanonicalName(WeightRole role, std::optional<int64_t> layer) {
  std::string roleName = stringifyWeightRole(role).str();
  if (!layer)
    return roleName;
  return "layers." + std::to_string(*layer) + "." + roleName;
}

std::optional<quant::Format>
QuantizeWeightsPass::chooseFormat(WeightOp weight, WeightRole role,
                                  std::optional<int64_t> layer) {
  std::string canonical = getCanonicalName(role, layer);
  for (const Override &entry : parsedOverrides)
    if (entry.pattern->match(weight.getName()) ||
        entry.pattern->match(canonical))
      return entry.format;
  if (weights == "linears" && !isLayerMatrixRole(role))
    return std::nullopt;
  return defaultFormat;
}

LogicalResult QuantizeWeightsPass::quantize(WeightOp weight,
                                            const quant::Format &format) {
  RankedTensorType type = weight.getType();
  if (type.getRank() != 2 || !type.hasStaticShape())
    return weight.emitOpError("cannot quantize '")
           << weight.getName() << "': not a static 2-D matrix (" << type << ")";
  auto values = readWeightValues(weight);
  if (!values)
    return weight.emitOpError(llvm::toString(values.takeError()));
  int64_t rows = type.getDimSize(0), cols = type.getDimSize(1);
  quant::QuantizedMatrix matrix =
      quant::quantizeRoundToNearest(*values, rows, cols, format);
  OpBuilder builder(weight);
  WeightOp quantized = createQuantizedWeight(builder, weight.getLoc(),
                                             weight.getName(), type, matrix);
  bytesBefore += weight.getStorageBytes();
  bytesAfter += quantized.getStorageBytes();
  ++numQuantized;
  weight.replaceAllUsesWith(quantized.getResult());
  weight.erase();
  return success();
}

void QuantizeWeightsPass::runOnOperation() {
  if (failed(parseOptions()))
    return signalPassFailure();
  // Each weight once, in the order its first quantizable use appears.
  llvm::MapVector<Operation *, std::pair<WeightRole, std::optional<int64_t>>>
      found;
  for (WeightRef ref : findWeights(getOperation(), {}, std::nullopt)) {
    if (!isQuantizableRole(ref.use.role))
      continue;
    WeightOp weight = getWeightOp(ref.use);
    if (!weight || weight.getEncoding())
      continue;
    found.insert({weight, {ref.use.role, ref.user.getWeightLayer()}});
  }
  for (auto [op, use] : found) {
    auto weight = cast<WeightOp>(op);
    std::optional<quant::Format> chosen =
        chooseFormat(weight, use.first, use.second);
    if (chosen && failed(quantize(weight, *chosen)))
      return signalPassFailure();
  }
}

} // namespace
