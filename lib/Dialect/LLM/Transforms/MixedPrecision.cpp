//===- MixedPrecision.cpp - formats per matrix to a byte budget -*- C++ -*-===//
//
// Part of the Microscale project.
//
// Measures how much each matrix in each candidate format costs the model
// (alone, on the reference interpreter, against the float model's own
// distributions) and picks one format per matrix so that the weights fit a
// byte budget with the least total loss, assuming the losses add up; then,
// optionally, refines the choice with every matrix in its format, where
// the losses do not quite add up. The choice is left in `llm.quantize`
// attributes for `llm-quantize-weights`.
//
//===----------------------------------------------------------------------===//

#include "QuantMethod.h"

#include "microscale/Dialect/LLM/IR/LLMOps.h"
#include "microscale/Dialect/LLM/IR/WeightData.h"
#include "microscale/Dialect/LLM/Transforms/ActivationScaling.h"
#include "microscale/Dialect/LLM/Transforms/Calibration.h"
#include "microscale/Dialect/LLM/Transforms/Passes.h"
#include "microscale/Quant/Calibrated.h"
#include "microscale/Quant/Quant.h"
#include "microscale/Reference/Interpreter.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <queue>
#include <tuple>

namespace mlir::microscale::llm {
#define GEN_PASS_DEF_MIXEDPRECISIONPASS
#include "microscale/Dialect/LLM/Transforms/Passes.h.inc"
} // namespace mlir::microscale::llm

using namespace mlir;
using namespace mlir::microscale;
using namespace mlir::microscale::llm;

namespace {

/// A ladder of about one bit per weight per step from 3.4 to 8: asymmetric
/// groups of 32 with byte-wide logarithmic scales, the cheapest form of each
/// width at this quality (then int8), so every step buys precision.
constexpr const char *kDefaultCandidates[] = {
    "q3_g32_asym_log8", "q4_g32_asym_log8", "q5_g32_asym_log8",
    "q6_g32_asym_log8", "int8"};

/// One format to choose from; no format keeps the weight float.
struct Candidate {
  std::string name;
  std::optional<quant::Format> format;

  int64_t storageBytes(int64_t rows, int64_t cols) const {
    return format ? format->storageBytes(rows, cols) : rows * cols * 4;
  }
};

/// A trial quantization of a matrix: `matrix` holds W diag(s) for the
/// activation-aware scales s (`columnScales`, empty for none), so the
/// weights it stands for are its values divided column-wise by s (the
/// producer of the input absorbs 1/s exactly).
struct Trial {
  quant::QuantizedMatrix matrix;
  std::vector<float> columnScales;

  std::vector<float> values() const {
    std::vector<float> values = quant::dequantize(matrix);
    if (!columnScales.empty())
      for (size_t i = 0; i < values.size(); ++i)
        values[i] /= columnScales[i % matrix.cols];
    return values;
  }
};

/// A matrix to assign, and what each candidate costs it.
struct Matrix {
  WeightOp weight;
  std::string label;
  int64_t rows = 0, cols = 0;
  /// The matrices reading the same input (this one included).
  const InputGroup *group = nullptr;
  /// Per candidate: storage bytes, measured loss increase and the trial
  /// quantization (none for float).
  SmallVector<int64_t> bytes;
  SmallVector<double> loss;
  std::vector<std::optional<Trial>> trials;
  /// Index of the chosen candidate.
  size_t choice = 0;
};

/// `layers.<L>.<role>` inside layers, the role outside (as the overrides of
/// `llm-quantize-weights` name weights).
std::string getCanonicalName(WeightRole role, std::optional<int64_t> layer) {
  std::string roleName = stringifyWeightRole(role).str();
  if (!layer)
    return roleName;
  return "layers." + std::to_string(*layer) + "." + roleName;
}

/// `value` without trailing zeros (4.5, 5).
std::string printShortest(double value) {
  std::string text;
  llvm::raw_string_ostream(text) << llvm::format("%g", value);
  return text;
}

/// Row-wise log-softmax of `[rows, vocab]` logits, in place.
void logSoftmax(std::vector<float> &logits, int64_t vocab) {
  for (size_t first = 0; first < logits.size(); first += vocab) {
    float *row = logits.data() + first;
    float max = *std::max_element(row, row + vocab);
    double sum = 0.0;
    for (int64_t i = 0; i < vocab; ++i)
      sum += std::exp(static_cast<double>(row[i] - max));
    float logSum = max + static_cast<float>(std::log(sum));
    for (int64_t i = 0; i < vocab; ++i)
      row[i] -= logSum;
  }
}

/// Indices of the candidates on the lower convex hull of (bytes, loss),
/// cheapest first, among those with a finite loss: along it, each step
/// buys less loss per byte than the one before, so taking the best step
/// first is optimal for additive losses.
SmallVector<size_t> lowerHull(ArrayRef<int64_t> bytes, ArrayRef<double> loss) {
  SmallVector<size_t> order;
  for (size_t i = 0; i < bytes.size(); ++i)
    if (std::isfinite(loss[i]))
      order.push_back(i);
  llvm::sort(order, [&](size_t a, size_t b) {
    return std::make_tuple(bytes[a], loss[a], a) <
           std::make_tuple(bytes[b], loss[b], b);
  });
  SmallVector<size_t> hull;
  for (size_t index : order) {
    // Only candidates that lower the loss of every cheaper one.
    if (!hull.empty() && loss[index] >= loss[hull.back()])
      continue;
    auto slope = [&](size_t a, size_t b) {
      return (loss[b] - loss[a]) / static_cast<double>(bytes[b] - bytes[a]);
    };
    while (hull.size() >= 2 && slope(hull[hull.size() - 2], hull.back()) >=
                                   slope(hull.back(), index))
      hull.pop_back();
    hull.push_back(index);
  }
  return hull;
}

struct MixedPrecisionPass
    : public llm::impl::MixedPrecisionPassBase<MixedPrecisionPass> {
  using MixedPrecisionPassBase::MixedPrecisionPassBase;

  void runOnOperation() override;

private:
  LogicalResult parseOptions();
  LogicalResult collectMatrices();
  /// Bytes the assigned matrices may take, after the weights that stay.
  FailureOr<int64_t> matrixBudget();
  /// Calibration statistics and the float model's log-probabilities.
  LogicalResult calibrate();
  /// Mean KL(float || current) per calibration token.
  FailureOr<double> measureLoss();
  LogicalResult measureSensitivities();
  /// Activation-aware scales of `group` in `candidate` (empty: none).
  FailureOr<std::vector<float>> activationScales(const InputGroup &group,
                                                 size_t candidate);
  /// `values` of `matrix` quantized in `candidate` as `trialSteps` say.
  FailureOr<Trial> trialMatrix(const Matrix &matrix, ArrayRef<float> values,
                               size_t candidate);
  /// Greedy upgrades along the hulls of (bytes, `losses`) of each matrix
  /// (an infinite loss leaves a candidate out); returns the bytes used.
  int64_t allocate(int64_t budget, ArrayRef<SmallVector<double>> losses);
  /// Puts `matrix` in the interpreter as its trial in `candidate`.
  LogicalResult install(const Matrix &matrix, size_t candidate);
  /// The loss with every matrix in its chosen format.
  FailureOr<double> measureJointLoss();
  /// One round of refinement from the assignment whose joint loss is
  /// `joint`; true when it found a better one (and lowered `joint`).
  FailureOr<bool> refineOnce(int64_t budget, double &joint);
  void printTable(int64_t budget, int64_t used) const;

  SmallVector<Candidate> parsedCandidates;
  /// The steps of a trial quantization (`trial-method`; never `seq`).
  QuantMethod trialSteps;
  std::map<std::pair<const InputGroup *, size_t>, std::vector<float>> scalesOf;
  std::vector<Matrix> matrices;
  /// Storage of the weights that are not assigned (norms, ...).
  int64_t fixedBytes = 0;
  std::vector<int64_t> ids;
  /// Tokens per window: the option, at most the model's context.
  int64_t window = 0;
  std::vector<InputGroup> groups;
  // Shared: clonePass copies the pass (the copy starts with none).
  std::shared_ptr<reference::Interpreter> interpreter;
  /// The float model's log-probabilities, window after window.
  std::vector<float> referenceLogProbs;
  /// Joint losses: of the first assignment, then of each refinement tried.
  std::optional<double> initialJoint;
  SmallVector<double> refinements;
};

LogicalResult MixedPrecisionPass::parseOptions() {
  ModuleOp module = getOperation();
  if ((budgetBytes > 0) == (bitsPerWeight > 0))
    return module.emitError("llm-mixed-precision: give exactly one of "
                            "budget-bytes and bits-per-weight (positive)");
  if (weights != "all" && weights != "linears")
    return module.emitError("llm-mixed-precision: weights must be 'all' or "
                            "'linears', got '")
           << weights << "'";
  if (calibration.empty())
    return module.emitError("llm-mixed-precision: the sensitivities are "
                            "measured on calibration text (calibration=FILE)");
  std::optional<QuantMethod> steps = parseQuantMethod(trialMethod);
  if (!steps || steps->sequential)
    return module.emitError("llm-mixed-precision: trial-method must be rtn, "
                            "calibrated, or awq, clip, gptq, refit joined by "
                            "'+', got '")
           << trialMethod << "'";
  trialSteps = *steps;
  SmallVector<std::string> names(candidates.begin(), candidates.end());
  if (names.empty())
    names.assign(std::begin(kDefaultCandidates), std::end(kDefaultCandidates));
  for (const std::string &name : names) {
    Candidate candidate{name, std::nullopt};
    if (name != "float") {
      auto format = quant::parseFormat(name);
      if (!format)
        return module.emitError("llm-mixed-precision: candidate: ")
               << llvm::toString(format.takeError());
      candidate.format = *format;
    }
    parsedCandidates.push_back(std::move(candidate));
  }
  return success();
}

LogicalResult MixedPrecisionPass::collectMatrices() {
  llvm::DenseSet<Operation *> seen;
  for (WeightRef ref : findWeights(getOperation(), {}, std::nullopt)) {
    WeightOp weight = getWeightOp(ref.use);
    if (!isQuantizableRole(ref.use.role) || !weight || weight.getEncoding() ||
        (weights == "linears" && !isLayerMatrixRole(ref.use.role)) ||
        !seen.insert(weight).second)
      continue;
    RankedTensorType type = weight.getType();
    if (type.getRank() != 2 || !type.hasStaticShape())
      return weight.emitOpError("llm-mixed-precision: cannot quantize '")
             << weight.getName() << "': not a static 2-D matrix (" << type
             << ")";
    Matrix matrix;
    matrix.weight = weight;
    matrix.label = getCanonicalName(ref.use.role, ref.user.getWeightLayer());
    matrix.rows = type.getDimSize(0);
    matrix.cols = type.getDimSize(1);
    for (const Candidate &candidate : parsedCandidates)
      matrix.bytes.push_back(candidate.storageBytes(matrix.rows, matrix.cols));
    matrices.push_back(std::move(matrix));
  }
  getOperation().walk([&](WeightOp weight) {
    if (!seen.contains(weight))
      fixedBytes += weight.getStorageBytes();
  });
  return success();
}

FailureOr<int64_t> MixedPrecisionPass::matrixBudget() {
  int64_t minimum = 0, elements = 0;
  for (const Matrix &matrix : matrices) {
    minimum += *llvm::min_element(matrix.bytes);
    elements += matrix.rows * matrix.cols;
  }
  ModuleOp module = getOperation();
  if (budgetBytes > 0) {
    if (budgetBytes < minimum + fixedBytes)
      return module.emitError("llm-mixed-precision: a budget of ")
                 << budgetBytes.getValue()
                 << " bytes is below the smallest assignment, "
                 << minimum + fixedBytes << " bytes (" << matrices.size()
                 << " matrices in their cheapest candidates, " << minimum
                 << " bytes, and " << fixedBytes
                 << " bytes of weights that stay float)",
             failure();
    return budgetBytes - fixedBytes;
  }
  auto budget = static_cast<int64_t>(bitsPerWeight * elements / 8.0);
  if (budget < minimum)
    return module.emitError("llm-mixed-precision: ")
               << printShortest(bitsPerWeight)
               << " bits per weight is below the smallest assignment, "
               << llvm::formatv("{0:f3}", 8.0 * minimum / elements).str()
               << " bits per weight (" << minimum << " bytes for "
               << matrices.size() << " matrices)",
           failure();
  return budget;
}

LogicalResult MixedPrecisionPass::calibrate() {
  ModuleOp module = getOperation();
  // A file, or `self`: text the float model samples.
  auto read = getCalibrationIds(module, calibration, calibrationTokens,
                                calibrationWindow, modelDir);
  if (!read)
    return module.emitError("llm-mixed-precision: calibration: ")
           << llvm::toString(read.takeError());
  ids = std::move(*read);
  groups = findInputGroups(module);
  if (llvm::Error error =
          collectInputStatistics(module, ids, calibrationWindow, groups))
    return module.emitError("llm-mixed-precision: calibration: ")
           << llvm::toString(std::move(error));
  // The trials see the statistics of all the text, as the quantization
  // that follows does; the losses, one model run per trial, need fewer.
  if (sensitivityTokens > 0 &&
      static_cast<int64_t>(ids.size()) > sensitivityTokens.getValue())
    ids.resize(sensitivityTokens);
  llvm::DenseMap<Operation *, const InputGroup *> groupOf;
  for (const InputGroup &group : groups)
    for (WeightOp weight : group.weights)
      groupOf.try_emplace(weight, &group);
  for (Matrix &matrix : matrices)
    matrix.group = groupOf.lookup(matrix.weight);

  auto created = reference::Interpreter::create(module);
  if (!created)
    return module.emitError("llm-mixed-precision: ")
           << llvm::toString(created.takeError());
  interpreter = std::move(*created);
  window = std::min<int64_t>(calibrationWindow, interpreter->maxContext());
  if (window < 1)
    return module.emitError("llm-mixed-precision: the calibration window "
                            "must be positive");
  for (size_t first = 0; first < ids.size(); first += window) {
    interpreter->reset();
    auto logits = interpreter->forward(ArrayRef(ids).slice(
        first, std::min<size_t>(window, ids.size() - first)));
    if (!logits)
      return module.emitError("llm-mixed-precision: ")
             << llvm::toString(logits.takeError());
    logSoftmax(*logits, interpreter->vocabSize());
    llvm::append_range(referenceLogProbs, *logits);
  }
  return success();
}

FailureOr<double> MixedPrecisionPass::measureLoss() {
  int64_t vocab = interpreter->vocabSize();
  double total = 0.0;
  for (size_t first = 0; first < ids.size(); first += window) {
    interpreter->reset();
    auto logits = interpreter->forward(ArrayRef(ids).slice(
        first, std::min<size_t>(window, ids.size() - first)));
    if (!logits)
      return getOperation().emitError("llm-mixed-precision: ")
                 << llvm::toString(logits.takeError()),
             failure();
    logSoftmax(*logits, vocab);
    const float *reference = referenceLogProbs.data() + first * vocab;
    for (size_t i = 0; i < logits->size(); ++i)
      total += std::exp(static_cast<double>(reference[i])) *
               (reference[i] - (*logits)[i]);
  }
  return total / static_cast<double>(ids.size());
}

FailureOr<std::vector<float>>
MixedPrecisionPass::activationScales(const InputGroup &group,
                                     size_t candidate) {
  auto key = std::make_pair(&group, candidate);
  if (auto it = scalesOf.find(key); it != scalesOf.end())
    return it->second;
  std::vector<float> scales;
  std::optional<FoldTarget> target = findFoldTarget(group);
  if (target) {
    // As llm-quantize-weights searches them, with the whole group in the
    // candidate's format.
    std::vector<std::vector<float>> values;
    SmallVector<quant::SharedInputLinear> linears;
    for (WeightOp weight : group.weights) {
      auto read = readWeightValues(weight);
      if (!read)
        return weight.emitOpError(llvm::toString(read.takeError())), failure();
      values.push_back(std::move(*read));
    }
    for (auto [weight, weightValues] : llvm::zip_equal(group.weights, values))
      linears.push_back(
          {weightValues,
           cast<RankedTensorType>(weight->getResult(0).getType()).getDimSize(0),
           *parsedCandidates[candidate].format});
    quant::InputStatistics searchStats = group.stats;
    if (target->headDim != 0) {
      // Query heads sharing a kv head share the value row that absorbs 1/s.
      std::vector<double> sums(group.stats.cols, 0.0);
      for (int64_t c = 0; c < group.stats.cols; ++c)
        sums[target->targetChannel(c)] += group.stats.meanAbs[c];
      for (int64_t c = 0; c < group.stats.cols; ++c)
        searchStats.meanAbs[c] =
            sums[target->targetChannel(c)] / target->queriesPerKvHead;
    }
    scales = quant::searchActivationScales(linears, searchStats);
    if (llvm::all_of(scales, [](float s) { return s == 1.0f; }))
      scales.clear();
  }
  return scalesOf.try_emplace(key, std::move(scales)).first->second;
}

FailureOr<Trial> MixedPrecisionPass::trialMatrix(const Matrix &matrix,
                                                 ArrayRef<float> values,
                                                 size_t candidate) {
  const quant::Format &format = *parsedCandidates[candidate].format;
  const InputGroup *group = matrix.group;
  if (!trialSteps.needsCalibration() || !group || group->stats.tokens == 0)
    return Trial{
        quant::quantizeRoundToNearest(values, matrix.rows, matrix.cols, format),
        {}};
  Trial trial;
  std::vector<float> scaled;
  quant::InputStatistics scaledStats;
  const quant::InputStatistics *stats = &group->stats;
  if (trialSteps.activationScales) {
    FailureOr<std::vector<float>> scales = activationScales(*group, candidate);
    if (failed(scales))
      return failure();
    trial.columnScales = std::move(*scales);
  }
  if (!trial.columnScales.empty()) {
    scaled = quant::scaleWeights(values, matrix.rows, trial.columnScales);
    values = scaled;
    scaledStats = quant::scaleStatistics(group->stats, trial.columnScales);
    stats = &scaledStats;
  }
  quant::CalibratedOptions options;
  options.clipSearch = trialSteps.clip;
  options.gptq = trialSteps.gptq;
  options.refitScales = trialSteps.refit;
  trial.matrix = quant::quantizeCalibrated(values, matrix.rows, matrix.cols,
                                           format, *stats, options);
  return trial;
}

LogicalResult MixedPrecisionPass::measureSensitivities() {
  for (Matrix &matrix : matrices) {
    auto read = readWeightValues(matrix.weight);
    if (!read)
      return matrix.weight.emitOpError(llvm::toString(read.takeError()));
    std::vector<float> original = std::move(*read);
    for (const Candidate &candidate : parsedCandidates) {
      if (!candidate.format) {
        matrix.trials.emplace_back();
        matrix.loss.push_back(0.0); // Float is the reference itself.
        continue;
      }
      FailureOr<Trial> trial =
          trialMatrix(matrix, original, matrix.trials.size());
      if (failed(trial))
        return failure();
      matrix.trials.push_back(std::move(*trial));
      if (failed(install(matrix, matrix.trials.size() - 1)))
        return failure();
      FailureOr<double> loss = measureLoss();
      if (failed(loss))
        return failure();
      // Tiny negative values are rounding noise: the KL is never below 0.
      matrix.loss.push_back(std::max(*loss, 0.0));
    }
    if (auto restored = interpreter->exchangeWeight(matrix.weight.getResult(),
                                                    std::move(original));
        !restored)
      return matrix.weight.emitOpError(llvm::toString(restored.takeError()));
  }
  return success();
}

int64_t MixedPrecisionPass::allocate(int64_t budget,
                                     ArrayRef<SmallVector<double>> losses) {
  std::vector<SmallVector<size_t>> hulls;
  std::vector<size_t> position(matrices.size(), 0);
  int64_t used = 0;
  for (auto [matrix, loss] : llvm::zip_equal(matrices, losses)) {
    hulls.push_back(lowerHull(matrix.bytes, loss));
    matrix.choice = hulls.back().front();
    used += matrix.bytes[matrix.choice];
  }
  // (loss reduction per byte of the matrix's next step, matrix), best first;
  // ties go to the earlier matrix.
  using Step = std::pair<double, size_t>;
  auto worse = [](const Step &a, const Step &b) {
    return a.first != b.first ? a.first < b.first : a.second > b.second;
  };
  std::priority_queue<Step, std::vector<Step>, decltype(worse)> steps(worse);
  auto pushNext = [&](size_t index) {
    const SmallVector<size_t> &hull = hulls[index];
    if (position[index] + 1 >= hull.size())
      return;
    size_t from = hull[position[index]], to = hull[position[index] + 1];
    const Matrix &matrix = matrices[index];
    steps.push({(losses[index][from] - losses[index][to]) /
                    static_cast<double>(matrix.bytes[to] - matrix.bytes[from]),
                index});
  };
  for (size_t index = 0; index < matrices.size(); ++index)
    pushNext(index);
  while (!steps.empty()) {
    size_t index = steps.top().second;
    steps.pop();
    Matrix &matrix = matrices[index];
    size_t next = hulls[index][position[index] + 1];
    int64_t extra = matrix.bytes[next] - matrix.bytes[matrix.choice];
    // A step that does not fit retires the matrix: its later steps cost
    // more still. Smaller steps of other matrices may fit.
    if (used + extra > budget)
      continue;
    used += extra;
    matrix.choice = next;
    ++position[index];
    pushNext(index);
  }
  return used;
}

LogicalResult MixedPrecisionPass::install(const Matrix &matrix,
                                          size_t candidate) {
  WeightOp weight = matrix.weight;
  std::vector<float> values;
  if (const auto &trial = matrix.trials[candidate]) {
    values = trial->values();
  } else {
    auto read = readWeightValues(weight);
    if (!read)
      return weight.emitOpError(llvm::toString(read.takeError()));
    values = std::move(*read);
  }
  if (auto previous =
          interpreter->exchangeWeight(weight.getResult(), std::move(values));
      !previous)
    return weight.emitOpError(llvm::toString(previous.takeError()));
  return success();
}

FailureOr<double> MixedPrecisionPass::measureJointLoss() {
  for (const Matrix &matrix : matrices)
    if (failed(install(matrix, matrix.choice)))
      return failure();
  return measureLoss();
}

FailureOr<bool> MixedPrecisionPass::refineOnce(int64_t budget, double &joint) {
  // Each matrix's loss one hull step down and up, the others in their
  // formats: the loss curves around the current assignment.
  std::vector<SmallVector<double>> local;
  for (Matrix &matrix : matrices) {
    SmallVector<double> &curve = local.emplace_back(
        matrix.bytes.size(), std::numeric_limits<double>::infinity());
    curve[matrix.choice] = 0.0;
    SmallVector<size_t> hull = lowerHull(matrix.bytes, matrix.loss);
    auto *at = llvm::find(hull, matrix.choice);
    SmallVector<size_t> neighbours;
    if (at != hull.end() && at != hull.begin())
      neighbours.push_back(*std::prev(at));
    if (at != hull.end() && std::next(at) != hull.end())
      neighbours.push_back(*std::next(at));
    for (size_t candidate : neighbours) {
      if (failed(install(matrix, candidate)))
        return failure();
      FailureOr<double> loss = measureLoss();
      if (failed(loss) || failed(install(matrix, matrix.choice)))
        return failure();
      curve[candidate] = *loss - joint;
    }
  }
  SmallVector<size_t> before;
  for (const Matrix &matrix : matrices)
    before.push_back(matrix.choice);
  allocate(budget, local);
  if (llvm::all_of(llvm::zip_equal(matrices, before), [](auto pair) {
        return std::get<0>(pair).choice == std::get<1>(pair);
      }))
    return false;
  FailureOr<double> moved = measureJointLoss();
  if (failed(moved))
    return failure();
  refinements.push_back(*moved);
  if (*moved < joint) {
    joint = *moved;
    return true;
  }
  // The moves did not add up to a gain: keep the assignment they left.
  for (auto [matrix, choice] : llvm::zip_equal(matrices, before))
    matrix.choice = choice;
  return false;
}

void MixedPrecisionPass::printTable(int64_t budget, int64_t used) const {
  llvm::raw_ostream &os = llvm::errs();
  os << "llm-mixed-precision: loss = mean KL(float || trial) per token over "
     << ids.size() << " calibration tokens; bytes = storage\n";
  os << llvm::formatv("{0,-24} {1,-10}", "matrix", "shape");
  for (const Candidate &candidate : parsedCandidates)
    os << llvm::formatv(" {0,22}", candidate.name);
  os << "\n";
  for (const Matrix &matrix : matrices) {
    std::string row =
        llvm::formatv("{0,-24} {1,-10}", matrix.label,
                      llvm::formatv("{0}x{1}", matrix.rows, matrix.cols).str());
    for (size_t i = 0; i < parsedCandidates.size(); ++i)
      row += llvm::formatv(" {0,10} {1,10:e3}{2}", matrix.bytes[i],
                           matrix.loss[i], i == matrix.choice ? "*" : " ");
    os << StringRef(row).rtrim() << "\n";
  }
  double loss = 0.0;
  for (const Matrix &matrix : matrices)
    loss += matrix.loss[matrix.choice];
  os << llvm::formatv("assigned {0} bytes of {1} for {2} matrices, {3} "
                      "bytes stay float; predicted loss {4:e3}\n",
                      used, budget, matrices.size(), fixedBytes, loss);
  if (initialJoint) {
    os << llvm::formatv("measured loss {0:e3}", *initialJoint);
    for (double joint : refinements)
      os << llvm::formatv(", refined {0:e3}", joint);
    os << "\n";
  }
}

void MixedPrecisionPass::runOnOperation() {
  parsedCandidates.clear();
  matrices.clear();
  scalesOf.clear();
  initialJoint.reset();
  refinements.clear();
  fixedBytes = 0;
  if (failed(parseOptions()) || failed(collectMatrices()))
    return signalPassFailure();
  if (matrices.empty())
    return;
  // The budget is checked before the (slow) measurements.
  FailureOr<int64_t> budget = matrixBudget();
  if (failed(budget) || failed(calibrate()) || failed(measureSensitivities()))
    return signalPassFailure();
  std::vector<SmallVector<double>> alone;
  for (const Matrix &matrix : matrices)
    alone.push_back(matrix.loss);
  allocate(*budget, alone);
  if (refineRounds > 0) {
    FailureOr<double> joint = measureJointLoss();
    if (failed(joint))
      return signalPassFailure();
    initialJoint = *joint;
    for (int64_t round = 0; round < refineRounds; ++round) {
      FailureOr<bool> improved = refineOnce(*budget, *joint);
      if (failed(improved))
        return signalPassFailure();
      if (!*improved)
        break;
    }
  }
  // The measurements are done: free the model copy and the distributions.
  interpreter.reset();
  referenceLogProbs = {};
  int64_t used = 0;
  for (const Matrix &matrix : matrices)
    used += matrix.bytes[matrix.choice];
  Builder builder(&getContext());
  for (const Matrix &matrix : matrices)
    matrix.weight->setAttr(
        kQuantizeFormatAttr,
        builder.getStringAttr(parsedCandidates[matrix.choice].name));
  if (printRanking)
    printTable(*budget, used);
}

} // namespace
