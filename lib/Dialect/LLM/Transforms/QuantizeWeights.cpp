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

#include "QuantMethod.h"

#include "microscale/Dialect/LLM/IR/LLMOps.h"
#include "microscale/Dialect/LLM/IR/WeightData.h"
#include "microscale/Dialect/LLM/Transforms/ActivationScaling.h"
#include "microscale/Dialect/LLM/Transforms/Calibration.h"
#include "microscale/Dialect/LLM/Transforms/Passes.h"
#include "microscale/Dialect/LLM/Transforms/SequentialQuantization.h"
#include "microscale/Quant/Calibrated.h"
#include "microscale/Quant/Quant.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/Regex.h"

namespace mlir::microscale::llm {
#define GEN_PASS_DEF_QUANTIZEWEIGHTSPASS
#include "microscale/Dialect/LLM/Transforms/Passes.h.inc"
} // namespace mlir::microscale::llm

using namespace mlir;
using namespace mlir::microscale;
using namespace mlir::microscale::llm;

std::optional<QuantMethod> llm::parseQuantMethod(StringRef text) {
  QuantMethod method;
  if (text == "rtn")
    return method;
  if (text == "calibrated")
    return QuantMethod{true, true, true, true, false};
  SmallVector<StringRef> steps;
  text.split(steps, '+');
  for (StringRef step : steps) {
    if (step == "awq")
      method.activationScales = true;
    else if (step == "clip")
      method.clip = true;
    else if (step == "gptq")
      method.gptq = true;
    else if (step == "refit")
      method.refit = true;
    else if (step == "seq")
      method.sequential = true;
    else
      return std::nullopt;
  }
  return method;
}

namespace {

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
  /// The float values of `weight`, read once and then edited in place.
  FailureOr<std::vector<float> *> valuesOf(WeightOp weight);
  /// Runs the float model on the calibration text.
  FailureOr<std::vector<InputGroup>> calibrate();
  /// Activation-aware scales for one group, folded into its producer.
  LogicalResult scaleGroup(InputGroup &group);
  quant::QuantizedMatrix
  computeMatrix(ArrayRef<float> weightValues, int64_t rows, int64_t cols,
                const quant::Format &format,
                const quant::InputStatistics *stats) const;
  void replaceWeight(WeightOp weight, const quant::QuantizedMatrix &matrix);
  LogicalResult checkMatrix(WeightOp weight);
  /// Each planned matrix from the float model's statistics.
  LogicalResult
  quantizeEach(const llvm::DenseMap<Operation *, const quant::InputStatistics *>
                   &statsOf);
  /// Layer by layer toward the float output (SequentialQuantization.h).
  LogicalResult quantizeInSequence(std::vector<InputGroup> &groups);
  /// Writes edited dense weights back to the IR.
  void writeBackDenseWeights();

  quant::Format defaultFormat;
  QuantMethod parsedMethod;
  SmallVector<Override> parsedOverrides;
  /// Every quantizable weight and its format (std::nullopt: kept).
  llvm::MapVector<Operation *, std::optional<quant::Format>> plan;
  /// Dense weights whose values an activation scale changed.
  llvm::SetVector<Operation *> edited;
  llvm::DenseMap<Operation *, std::vector<float>> values;
  std::optional<std::vector<int64_t>> calibrationIds;
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
  std::optional<QuantMethod> parsedSteps = parseQuantMethod(method);
  if (!parsedSteps)
    return module.emitError("llm-quantize-weights: unknown method '")
           << method
           << "' (expected rtn, calibrated, or awq, clip, gptq, refit, seq "
              "joined by '+')";
  parsedMethod = *parsedSteps;
  if (parsedMethod.needsCalibration() && calibration.empty())
    return module.emitError("llm-quantize-weights: method '")
           << method << "' needs calibration text (calibration=FILE)";
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
  // A format chosen for this weight by an earlier pass (mixed precision).
  if (auto chosen = weight->getAttrOfType<StringAttr>(kQuantizeFormatAttr)) {
    if (chosen.getValue() == "float")
      return std::nullopt;
    if (auto parsed = quant::parseFormat(chosen.getValue()))
      return *parsed;
    else
      llvm::consumeError(parsed.takeError());
  }
  if (weights == "linears" && !isLayerMatrixRole(role))
    return std::nullopt;
  return defaultFormat;
}

FailureOr<std::vector<float> *> QuantizeWeightsPass::valuesOf(WeightOp weight) {
  auto it = values.find(weight);
  if (it != values.end())
    return &it->second;
  auto read = readWeightValues(weight);
  if (!read) {
    weight.emitOpError(llvm::toString(read.takeError()));
    return failure();
  }
  return &values.try_emplace(weight, std::move(*read)).first->second;
}

FailureOr<std::vector<InputGroup>> QuantizeWeightsPass::calibrate() {
  ModuleOp module = getOperation();
  auto ids = getCalibrationIds(module, calibration, calibrationTokens,
                               calibrationWindow, modelDir);
  std::vector<InputGroup> groups = findInputGroups(module);
  if (ids)
    calibrationIds = *ids;
  if (ids)
    if (llvm::Error error =
            collectInputStatistics(module, *ids, calibrationWindow, groups))
      return module.emitError("llm-quantize-weights: calibration: ")
                 << llvm::toString(std::move(error)),
             failure();
  if (!ids)
    return module.emitError("llm-quantize-weights: calibration: ")
               << llvm::toString(ids.takeError()),
           failure();
  return groups;
}

quant::QuantizedMatrix
QuantizeWeightsPass::computeMatrix(ArrayRef<float> weightValues, int64_t rows,
                                   int64_t cols, const quant::Format &format,
                                   const quant::InputStatistics *stats) const {
  if (!stats || stats->tokens == 0 || !parsedMethod.needsCalibration())
    return quant::quantizeRoundToNearest(weightValues, rows, cols, format);
  quant::CalibratedOptions options;
  options.clipSearch = parsedMethod.clip;
  options.gptq = parsedMethod.gptq;
  options.refitScales = parsedMethod.refit;
  return quant::quantizeCalibrated(weightValues, rows, cols, format, *stats,
                                   options);
}

void QuantizeWeightsPass::replaceWeight(WeightOp weight,
                                        const quant::QuantizedMatrix &matrix) {
  OpBuilder builder(weight);
  WeightOp quantized = createQuantizedWeight(
      builder, weight.getLoc(), weight.getName(), weight.getType(), matrix);
  values.erase(weight);
  weight.replaceAllUsesWith(quantized.getResult());
  weight.erase();
}

LogicalResult QuantizeWeightsPass::checkMatrix(WeightOp weight) {
  RankedTensorType type = weight.getType();
  if (type.getRank() != 2 || !type.hasStaticShape())
    return weight.emitOpError("cannot quantize '")
           << weight.getName() << "': not a static 2-D matrix (" << type << ")";
  return success();
}

LogicalResult QuantizeWeightsPass::quantizeEach(
    const llvm::DenseMap<Operation *, const quant::InputStatistics *>
        &statsOf) {
  for (auto [op, chosen] : plan) {
    auto weight = cast<WeightOp>(op);
    if (!chosen)
      continue;
    FailureOr<std::vector<float> *> weightValues = valuesOf(weight);
    if (failed(weightValues))
      return failure();
    RankedTensorType type = weight.getType();
    replaceWeight(weight, computeMatrix(**weightValues, type.getDimSize(0),
                                        type.getDimSize(1), *chosen,
                                        statsOf.lookup(weight)));
  }
  return success();
}

LogicalResult
QuantizeWeightsPass::quantizeInSequence(std::vector<InputGroup> &groups) {
  SequentialPlan sequential;
  for (auto [op, chosen] : plan) {
    if (!chosen)
      continue;
    if (failed(valuesOf(cast<WeightOp>(op))))
      return failure();
    sequential.formats.insert({op, *chosen});
  }
  sequential.editedValues = &values;
  sequential.groups = &groups;
  sequential.window = calibrationWindow;
  sequential.quantizer = [this](ArrayRef<float> weightValues, int64_t rows,
                                int64_t cols, const quant::Format &format,
                                const quant::InputStatistics *stats) {
    return computeMatrix(weightValues, rows, cols, format, stats);
  };
  auto matrices =
      quantizeSequentially(getOperation(), *calibrationIds, sequential);
  if (!matrices)
    return getOperation().emitError("llm-quantize-weights: ")
           << llvm::toString(matrices.takeError());
  for (auto [op, chosen] : plan)
    if (chosen)
      replaceWeight(cast<WeightOp>(op), matrices->find(op)->second);
  return success();
}

LogicalResult QuantizeWeightsPass::scaleGroup(InputGroup &group) {
  std::optional<FoldTarget> target = findFoldTarget(group);
  if (!target || group.stats.tokens == 0)
    return success();
  // The search weighs the matrices that get quantized; the others are
  // scaled too, which is exact.
  SmallVector<quant::SharedInputLinear> linears;
  for (WeightOp weight : group.weights) {
    FailureOr<std::vector<float> *> weightValues = valuesOf(weight);
    if (failed(weightValues))
      return failure();
    if (std::optional<quant::Format> chosen = plan.lookup(weight))
      linears.push_back(
          {**weightValues, weight.getType().getDimSize(0), *chosen});
  }
  if (linears.empty())
    return success();
  // Query heads sharing a kv head read one value row: average their channel
  // magnitudes so that the scales, meanAbs^alpha, are equal across them.
  quant::InputStatistics searchStats = group.stats;
  if (target->headDim != 0) {
    std::vector<double> sums(group.stats.cols, 0.0);
    for (int64_t c = 0; c < group.stats.cols; ++c)
      sums[target->targetChannel(c)] += group.stats.meanAbs[c];
    for (int64_t c = 0; c < group.stats.cols; ++c)
      searchStats.meanAbs[c] =
          sums[target->targetChannel(c)] / target->queriesPerKvHead;
  }
  std::vector<float> scales =
      quant::searchActivationScales(linears, searchStats);
  if (llvm::all_of(scales, [](float s) { return s == 1.0f; }))
    return success();

  for (WeightOp weight : group.weights) {
    std::vector<float> &w = *valuesOf(weight).value();
    w = quant::scaleWeights(w, weight.getType().getDimSize(0), scales);
    edited.insert(weight);
  }
  // The producer divides by s: elementwise for vectors, per row for
  // matrices (a row of `cols` values per target channel).
  auto divide = [&](WeightOp weight, int64_t rowLength) -> LogicalResult {
    FailureOr<std::vector<float> *> read = valuesOf(weight);
    if (failed(read))
      return failure();
    std::vector<float> &v = **read;
    std::vector<bool> done(v.size() / rowLength, false);
    for (int64_t c = 0; c < group.stats.cols; ++c) {
      int64_t row = target->targetChannel(c);
      if (done[row])
        continue;
      done[row] = true;
      for (int64_t i = 0; i < rowLength; ++i)
        v[row * rowLength + i] /= scales[c];
    }
    edited.insert(weight);
    return success();
  };
  for (WeightOp vector : target->vectors)
    if (failed(divide(vector, 1)))
      return failure();
  for (WeightOp matrix : target->rowMatrices)
    if (failed(divide(matrix, matrix.getType().getDimSize(1))))
      return failure();
  group.stats = quant::scaleStatistics(group.stats, scales);
  return success();
}

void QuantizeWeightsPass::writeBackDenseWeights() {
  for (Operation *op : edited) {
    auto it = values.find(op);
    if (it == values.end())
      continue; // Quantized from its edited values already.
    auto weight = cast<WeightOp>(op);
    RankedTensorType type = weight.getType();
    OpBuilder builder(weight);
    auto denseType =
        RankedTensorType::get(type.getShape(), builder.getF32Type());
    auto blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(
        ArrayRef<char>(reinterpret_cast<const char *>(it->second.data()),
                       it->second.size() * sizeof(float)),
        /*align=*/64);
    auto value = DenseResourceElementsAttr::get(
        denseType, getResourceKey(weight.getName(), ".scaled"),
        std::move(blob));
    auto replacement = builder.create<WeightOp>(weight.getLoc(), denseType,
                                                weight.getName(), value);
    weight.replaceAllUsesWith(replacement.getResult());
    weight.erase();
  }
}

void QuantizeWeightsPass::runOnOperation() {
  if (failed(parseOptions()))
    return signalPassFailure();
  // Each weight once, in the order its first quantizable use appears.
  for (WeightRef ref : findWeights(getOperation(), {}, std::nullopt)) {
    if (!isQuantizableRole(ref.use.role))
      continue;
    WeightOp weight = getWeightOp(ref.use);
    if (!weight || weight.getEncoding() || plan.count(weight))
      continue;
    plan.insert({weight, chooseFormat(weight, ref.use.role,
                                      ref.user.getWeightLayer())});
  }

  std::vector<InputGroup> groups;
  llvm::DenseMap<Operation *, const quant::InputStatistics *> statsOf;
  if (parsedMethod.needsCalibration()) {
    FailureOr<std::vector<InputGroup>> calibrated = calibrate();
    if (failed(calibrated))
      return signalPassFailure();
    groups = std::move(*calibrated);
    for (InputGroup &group : groups) {
      if (parsedMethod.activationScales && failed(scaleGroup(group)))
        return signalPassFailure();
      for (WeightOp weight : group.weights)
        statsOf.try_emplace(weight, &group.stats);
    }
  }
  for (auto [op, chosen] : plan)
    if (chosen && failed(checkMatrix(cast<WeightOp>(op))))
      return signalPassFailure();
  if (parsedMethod.sequential ? failed(quantizeInSequence(groups))
                              : failed(quantizeEach(statsOf)))
    return signalPassFailure();
  writeBackDenseWeights();
}

} // namespace
