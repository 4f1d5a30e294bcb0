//===- Pruning.cpp - what the structured-pruning passes share ---*- C++ -*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#include "microscale/Dialect/LLM/Transforms/Pruning.h"
#include "microscale/Dialect/LLM/IR/WeightData.h"
#include "microscale/Prune/Prune.h"
#include "microscale/Quant/Quant.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace mlir::microscale;
using namespace mlir::microscale::llm;

FailureOr<std::vector<float>>
llm::readPrunableWeight(Operation *user, Value value, StringRef pass) {
  auto weight = value.getDefiningOp<WeightOp>();
  if (!weight)
    return user->emitOpError()
               << pass << ": a weight operand is not an llm.weight",
           failure();
  if (Attribute encoding = weight.getEncoding())
    return user->emitOpError()
               << pass << ": weight '" << weight.getName() << "' is "
               << (isa<QuantAttr>(encoding) ? "quantized" : "sparse") << " ("
               << encoding
               << "); pruning runs on float weights, before quantization",
           failure();
  if (!value.hasOneUse())
    return user->emitOpError()
               << pass << ": weight '" << weight.getName()
               << "' has other users, which pruning it would change too",
           failure();
  auto values = readWeightValues(weight);
  if (!values)
    return user->emitOpError()
               << pass << ": " << llvm::toString(values.takeError()),
           failure();
  return std::move(*values);
}

WeightOp llm::createPrunedWeight(WeightOp like, ArrayRef<int64_t> shape,
                                 ArrayRef<float> values) {
  OpBuilder builder(like);
  Type element = like.getType().getElementType();
  auto type = RankedTensorType::get(shape, element);
  // Stored in the weight's own float width.
  std::vector<char> bytes;
  if (element.isF32()) {
    bytes.resize(values.size() * sizeof(float));
    std::memcpy(bytes.data(), values.data(), bytes.size());
  } else {
    bytes.resize(values.size() * sizeof(uint16_t));
    for (size_t i = 0; i < values.size(); ++i) {
      uint16_t bits = element.isF16() ? quant::floatToHalf(values[i])
                                      : quant::floatToBF16(values[i]);
      std::memcpy(bytes.data() + i * sizeof(uint16_t), &bits, sizeof(bits));
    }
  }
  auto blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(bytes,
                                                            /*align=*/64);
  auto value = DenseResourceElementsAttr::get(
      type, getResourceKey(like.getName(), ".pruned"), std::move(blob));
  return builder.create<WeightOp>(like.getLoc(), type, like.getName(), value);
}

void llm::replacePrunedWeight(OpOperand &operand, ArrayRef<int64_t> shape,
                              ArrayRef<float> values) {
  auto old = operand.get().getDefiningOp<WeightOp>();
  operand.set(createPrunedWeight(old, shape, values).getResult());
  if (old->use_empty())
    old->erase();
}

FailureOr<std::vector<int64_t>>
llm::getPruningCalibrationIds(ModuleOp module, StringRef pass, StringRef path,
                              int64_t tokens, int64_t window,
                              StringRef modelDir) {
  auto ids = getCalibrationIds(module, path, tokens, window, modelDir);
  if (!ids)
    return module.emitError()
               << pass << ": calibration: " << llvm::toString(ids.takeError()),
           failure();
  return std::move(*ids);
}

std::vector<double> InputGram::hessian() const {
  std::vector<double> h(cols * cols);
  for (int64_t i = 0; i < cols; ++i)
    for (int64_t j = 0; j < cols; ++j)
      h[i * cols + j] = gram[i * (cols + 1) + j];
  return h;
}

FailureOr<std::vector<InputGram>>
llm::measureInputGrams(ModuleOp module, StringRef pass, ArrayRef<Value> weights,
                       ArrayRef<int64_t> ids, int64_t window) {
  auto interpreter = reference::Interpreter::create(module);
  if (!interpreter)
    return module.emitError()
               << pass << ": " << llvm::toString(interpreter.takeError()),
           failure();
  std::vector<InputGram> grams(weights.size());
  llvm::DenseMap<Value, InputGram *> gramOf;
  for (auto [weight, gram] : llvm::zip(weights, grams))
    gramOf[weight] = &gram;
  (*interpreter)
      ->setLinearObserver(
          [&](Value weight, ArrayRef<float> input, int64_t rows, int64_t in) {
            InputGram *gram = gramOf.lookup(weight);
            if (!gram)
              return;
            const int64_t n = in + 1;
            if (gram->gram.empty()) {
              gram->cols = in;
              gram->gram.assign(n * n, 0.0);
            }
            std::vector<double> row(n, 1.0);
            for (int64_t t = 0; t < rows; ++t) {
              for (int64_t c = 0; c < in; ++c)
                row[c] = input[t * in + c];
              // Upper triangle; mirrored at the end.
              for (int64_t i = 0; i < n; ++i) {
                if (row[i] == 0.0)
                  continue;
                double *out = gram->gram.data() + i * n;
                for (int64_t j = i; j < n; ++j)
                  out[j] += row[i] * row[j];
              }
            }
            gram->tokens += rows;
          });
  window = std::min(window, (*interpreter)->maxContext());
  for (size_t first = 0; first < ids.size(); first += window) {
    (*interpreter)->reset();
    auto logits = (*interpreter)
                      ->forward(ids.slice(
                          first, std::min<size_t>(window, ids.size() - first)));
    if (!logits)
      return module.emitError()
                 << pass
                 << ": calibration: " << llvm::toString(logits.takeError()),
             failure();
  }
  for (InputGram &gram : grams) {
    const int64_t n = gram.cols + 1;
    for (int64_t i = 0; i < n && !gram.gram.empty(); ++i)
      for (int64_t j = 0; j < i; ++j)
        gram.gram[i * n + j] = gram.gram[j * n + i];
  }
  return grams;
}

/// [w, b] as one `[rows, cols + 1]` matrix: the bias is the weight of a
/// constant input column.
static std::vector<float> withBiasColumn(ArrayRef<float> weights,
                                         ArrayRef<float> bias, int64_t rows,
                                         int64_t cols) {
  std::vector<float> augmented(rows * (cols + 1));
  for (int64_t r = 0; r < rows; ++r) {
    std::copy_n(weights.begin() + r * cols, cols,
                augmented.begin() + r * (cols + 1));
    augmented[r * (cols + 1) + cols] = bias.empty() ? 0.0f : bias[r];
  }
  return augmented;
}

/// Splits a `[rows, k + 1]` repair into weights and bias.
static RepairedProjection splitBiasColumn(const prune::ColumnRepair &repair,
                                          int64_t rows, int64_t k) {
  RepairedProjection result;
  for (int64_t r = 0; r < rows; ++r) {
    result.weights.insert(result.weights.end(),
                          repair.weights.begin() + r * (k + 1),
                          repair.weights.begin() + r * (k + 1) + k);
    result.bias.push_back(repair.weights[r * (k + 1) + k]);
  }
  result.refit = repair.refit;
  return result;
}

RepairedProjection llm::repairProjection(ArrayRef<float> weights,
                                         ArrayRef<float> bias, int64_t rows,
                                         int64_t cols, const InputGram *gram,
                                         ArrayRef<int64_t> kept, bool refit,
                                         double dampening) {
  RepairedProjection result;
  if (!gram || gram->tokens == 0) {
    result.weights = prune::selectColumns(weights, rows, cols, kept);
    result.bias.assign(bias.begin(), bias.end());
    return result;
  }
  std::vector<int64_t> columns(kept.begin(), kept.end());
  columns.push_back(cols);
  return splitBiasColumn(
      prune::pruneColumns(withBiasColumn(weights, bias, rows, cols), rows,
                          cols + 1, gram->gram, columns, refit, dampening),
      rows, kept.size());
}

FailureOr<TargetStatistics>
llm::measureTowardTarget(ModuleOp module, Value current, ModuleOp original,
                         Value target, ArrayRef<int64_t> kept, StringRef pass,
                         ArrayRef<int64_t> ids, int64_t window) {
  auto pruned = reference::Interpreter::create(module);
  if (!pruned)
    return module.emitError()
               << pass << ": " << llvm::toString(pruned.takeError()),
           failure();
  auto reference = reference::Interpreter::create(original);
  if (!reference)
    return module.emitError()
               << pass << ": " << llvm::toString(reference.takeError()),
           failure();
  // Each window's rows of X and of Z, captured as the projections run.
  std::vector<float> x, z;
  int64_t n = 0, rows = 0;
  (*reference)
      ->setLinearObserver(
          [&](Value weight, ArrayRef<float> input, int64_t count, int64_t in) {
            if (weight != target)
              return;
            x.assign(input.begin(), input.end());
            n = in;
            rows = count;
          });
  (*pruned)->setLinearObserver(
      [&](Value weight, ArrayRef<float> input, int64_t count, int64_t in) {
        if (weight != current)
          return;
        z.clear();
        for (int64_t t = 0; t < count; ++t)
          for (int64_t c : kept)
            z.push_back(input[t * in + c]);
      });
  const int64_t k = kept.size();
  TargetStatistics stats;
  window = std::min(window, (*pruned)->maxContext());
  std::vector<double> xRow, zRow;
  for (size_t first = 0; first < ids.size(); first += window) {
    ArrayRef<int64_t> slice =
        ids.slice(first, std::min<size_t>(window, ids.size() - first));
    for (reference::Interpreter *interpreter :
         {reference->get(), pruned->get()}) {
      interpreter->reset();
      auto logits = interpreter->forward(slice);
      if (!logits)
        return module.emitError()
                   << pass
                   << ": calibration: " << llvm::toString(logits.takeError()),
               failure();
    }
    if (stats.gram.empty()) {
      stats.targetGram.assign((n + 1) * (n + 1), 0.0);
      stats.cross.assign((n + 1) * (k + 1), 0.0);
      stats.gram.assign((k + 1) * (k + 1), 0.0);
    }
    for (int64_t t = 0; t < rows; ++t) {
      xRow.assign(x.begin() + t * n, x.begin() + (t + 1) * n);
      xRow.push_back(1.0);
      zRow.assign(z.begin() + t * k, z.begin() + (t + 1) * k);
      zRow.push_back(1.0);
      for (int64_t i = 0; i <= n; ++i) {
        for (int64_t j = 0; j <= n; ++j)
          stats.targetGram[i * (n + 1) + j] += xRow[i] * xRow[j];
        for (int64_t j = 0; j <= k; ++j)
          stats.cross[i * (k + 1) + j] += xRow[i] * zRow[j];
      }
      for (int64_t i = 0; i <= k; ++i)
        for (int64_t j = 0; j <= k; ++j)
          stats.gram[i * (k + 1) + j] += zRow[i] * zRow[j];
    }
  }
  return stats;
}

RepairedProjection llm::repairTowardTarget(ArrayRef<float> weights,
                                           ArrayRef<float> bias, int64_t rows,
                                           int64_t cols,
                                           const TargetStatistics &statistics,
                                           ArrayRef<int64_t> kept, bool refit,
                                           double dampening) {
  std::vector<int64_t> columns(kept.begin(), kept.end());
  columns.push_back(cols);
  return splitBiasColumn(prune::pruneColumnsTowardTarget(
                             withBiasColumn(weights, bias, rows, cols), rows,
                             cols + 1, statistics.targetGram, statistics.cross,
                             statistics.gram, columns, refit, dampening),
                         rows, kept.size());
}

void llm::setPrunedBias(Value current, WeightOp like, ArrayRef<float> bias,
                        llvm::function_ref<void(Value)> setOperand) {
  auto shape = {static_cast<int64_t>(bias.size())};
  if (current) {
    auto old = current.getDefiningOp<WeightOp>();
    setOperand(createPrunedWeight(old, shape, bias).getResult());
    if (old->use_empty())
      old->erase();
    return;
  }
  OpBuilder builder(like);
  auto type = RankedTensorType::get(shape, builder.getF32Type());
  auto blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(
      ArrayRef<char>(reinterpret_cast<const char *>(bias.data()),
                     bias.size() * sizeof(float)),
      /*align=*/64);
  std::string name = (like.getName() + ".bias").str();
  auto value = DenseResourceElementsAttr::get(
      type, getResourceKey(name, ".pruned"), std::move(blob));
  setOperand(
      builder.create<WeightOp>(like.getLoc(), type, name, value).getResult());
}

llvm::Expected<double>
llm::measureCalibrationLoss(reference::Interpreter &interpreter,
                            ArrayRef<int64_t> ids, int64_t window) {
  window = std::min(window, interpreter.maxContext());
  if (window < 2)
    return llvm::createStringError("the calibration window must hold at "
                                   "least two tokens");
  int64_t vocab = interpreter.vocabSize();
  double total = 0.0;
  int64_t predicted = 0;
  for (size_t first = 0; first + 1 < ids.size(); first += window) {
    ArrayRef<int64_t> slice =
        ids.slice(first, std::min<size_t>(window, ids.size() - first));
    interpreter.reset();
    auto logits = interpreter.forward(slice);
    if (!logits)
      return logits.takeError();
    for (size_t t = 0; t + 1 < slice.size(); ++t) {
      const float *row = logits->data() + t * vocab;
      float max = *std::max_element(row, row + vocab);
      double sum = 0.0;
      for (int64_t i = 0; i < vocab; ++i)
        sum += std::exp(static_cast<double>(row[i] - max));
      total += max + std::log(sum) - row[slice[t + 1]];
      ++predicted;
    }
  }
  if (predicted == 0)
    return llvm::createStringError("too few calibration tokens");
  return total / static_cast<double>(predicted);
}

llvm::Expected<std::vector<float>>
llm::measureLogProbabilities(reference::Interpreter &interpreter,
                             ArrayRef<int64_t> ids, int64_t window) {
  window = std::min(window, interpreter.maxContext());
  if (window < 1)
    return llvm::createStringError("the calibration window must be positive");
  const int64_t vocab = interpreter.vocabSize();
  std::vector<float> result;
  result.reserve(ids.size() * vocab);
  for (size_t first = 0; first < ids.size(); first += window) {
    interpreter.reset();
    auto logits = interpreter.forward(
        ids.slice(first, std::min<size_t>(window, ids.size() - first)));
    if (!logits)
      return logits.takeError();
    for (size_t row = 0; row < logits->size(); row += vocab) {
      const float *values = logits->data() + row;
      float max = *std::max_element(values, values + vocab);
      double sum = 0.0;
      for (int64_t i = 0; i < vocab; ++i)
        sum += std::exp(static_cast<double>(values[i] - max));
      float logSum = max + static_cast<float>(std::log(sum));
      for (int64_t i = 0; i < vocab; ++i)
        result.push_back(values[i] - logSum);
    }
  }
  return result;
}

llvm::Expected<double>
llm::measureDivergence(reference::Interpreter &interpreter,
                       ArrayRef<int64_t> ids, int64_t window,
                       ArrayRef<float> reference) {
  auto current = measureLogProbabilities(interpreter, ids, window);
  if (!current)
    return current.takeError();
  if (current->size() != reference.size() || ids.empty())
    return llvm::createStringError("the reference log-probabilities do not "
                                   "match the calibration tokens");
  double total = 0.0;
  for (size_t i = 0; i < reference.size(); ++i)
    total += std::exp(static_cast<double>(reference[i])) *
             (reference[i] - (*current)[i]);
  return total / static_cast<double>(ids.size());
}

void llm::updateModelHeads(ModuleOp module) {
  auto model = module->getAttrOfType<ModelAttr>(kModelAttrName);
  if (!model)
    return;
  int64_t heads = 0, kvHeads = 0;
  module.walk([&](Operation *op) {
    if (auto block = dyn_cast<SelfAttentionOp>(op)) {
      heads = std::max<int64_t>(heads, block.getNumHeads());
      kvHeads = std::max<int64_t>(kvHeads, block.getNumKvHeads());
    } else if (auto attention = dyn_cast<AttentionOp>(op)) {
      heads = std::max<int64_t>(heads, attention.getNumHeads());
      kvHeads = std::max<int64_t>(kvHeads, attention.getNumKvHeads());
    }
  });
  if (heads == 0)
    return;
  module->setAttr(
      kModelAttrName,
      ModelAttr::get(module.getContext(), model.getArch(), model.getVocabSize(),
                     model.getHiddenSize(), model.getNumLayers(), heads,
                     kvHeads, model.getHeadDim(), model.getMaxContext(),
                     model.getBosId(), model.getEosId(), model.getTokenizer()));
}
