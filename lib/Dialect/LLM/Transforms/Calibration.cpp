//===- Calibration.cpp - what weights see on calibration text ---*- C++ -*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#include "microscale/Dialect/LLM/Transforms/Calibration.h"
#include "microscale/Reference/Interpreter.h"
#include "microscale/Support/RegularFile.h"
#include "microscale/Tokenizer/Encode.h"
#include "microscale/Tokenizer/TokenizerTables.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cmath>
#include <map>
#include <random>

using namespace mlir;
using namespace mlir::microscale;
using namespace mlir::microscale::llm;

/// Which input a matrix of `role` reads.
static std::optional<InputSource> getInputSource(WeightRole role) {
  switch (role) {
  case WeightRole::Linear:
  case WeightRole::QueryProj:
  case WeightRole::KeyProj:
  case WeightRole::ValueProj:
  case WeightRole::UpProj:
  case WeightRole::GateProj:
  case WeightRole::Logits:
    return InputSource::OpInput;
  case WeightRole::OutputProj:
    return InputSource::AttentionOutput;
  case WeightRole::DownProj:
    return InputSource::MLPHidden;
  default:
    return std::nullopt;
  }
}

std::vector<InputGroup> llm::findInputGroups(ModuleOp module) {
  std::vector<InputGroup> groups;
  std::map<std::pair<Operation *, InputSource>, size_t> index;
  for (WeightRef ref : findWeights(module, {}, std::nullopt)) {
    std::optional<InputSource> source = getInputSource(ref.use.role);
    WeightOp weight = getWeightOp(ref.use);
    if (!source || !weight)
      continue;
    auto [it, inserted] =
        index.insert({{ref.user.getOperation(), *source}, groups.size()});
    if (inserted) {
      groups.emplace_back();
      groups.back().user = ref.user.getOperation();
      groups.back().source = *source;
    }
    InputGroup &group = groups[it->second];
    group.weights.push_back(weight);
    group.roles.push_back(ref.use.role);
  }
  return groups;
}

llvm::Expected<std::vector<int64_t>>
llm::readCalibrationIds(ModuleOp module, StringRef path, int64_t maxTokens,
                        StringRef modelDir) {
  auto model = module->getAttrOfType<ModelAttr>(kModelAttrName);
  if (!model)
    return llvm::createStringError("calibration needs a raised model (no "
                                   "#llm.model)");
  if (model.getTokenizer().empty())
    return llvm::createStringError(
        "calibration needs the model's tokenizer to read '" + path +
        "' (pass --tokenizer)");
  auto dir = module->getAttrOfType<StringAttr>("onnx.model_dir");
  auto blob = buildModelTokenizerBlob(model.getTokenizer(),
                                      dir ? dir.getValue() : modelDir,
                                      model.getVocabSize());
  if (!blob)
    return blob.takeError();
  auto file = mlir::microscale::readRegularFile(path);
  if (!file)
    return llvm::createStringError(path + ": " +
                                   llvm::toString(file.takeError()));
  // Tokens are rarely shorter than a byte on average; reading 16 bytes per
  // token wanted (cut at a line end) bounds the work on large files.
  StringRef text = (*file)->getBuffer();
  if (maxTokens > 0 && static_cast<uint64_t>(maxTokens) < text.size() / 16) {
    size_t end = text.find('\n', maxTokens * 16);
    text = text.take_front(end == StringRef::npos ? text.size() : end + 1);
  }
  auto ids = encodeText(*blob, text, /*addBos=*/true);
  if (!ids)
    return llvm::createStringError(path + ": " +
                                   llvm::toString(ids.takeError()));
  if (ids->size() < 2)
    return llvm::createStringError(path + ": too little calibration text");
  std::vector<int64_t> result(ids->begin(), ids->end());
  if (maxTokens > 0 && static_cast<int64_t>(result.size()) > maxTokens)
    result.resize(maxTokens);
  return result;
}

llvm::Error llm::collectInputStatistics(ModuleOp module, ArrayRef<int64_t> ids,
                                        int64_t window,
                                        std::vector<InputGroup> &groups) {
  auto interpreter = reference::Interpreter::create(module);
  if (!interpreter)
    return interpreter.takeError();
  window = std::min(window, (*interpreter)->maxContext());
  if (window < 1)
    return llvm::createStringError("the calibration window must be positive");
  // The first matrix of each group stands for the group: its siblings see
  // the same input.
  llvm::DenseMap<Value, InputGroup *> leaders;
  for (InputGroup &group : groups)
    leaders.try_emplace(group.weights.front().getResult(), &group);
  (*interpreter)
      ->setLinearObserver(
          [&](Value weight, ArrayRef<float> input, int64_t rows, int64_t in) {
            auto it = leaders.find(weight);
            if (it == leaders.end())
              return;
            quant::InputStatistics &stats = it->second->stats;
            stats.cols = in;
            quant::accumulateStatistics(stats, input, rows);
          });
  for (size_t first = 0; first < ids.size(); first += window) {
    (*interpreter)->reset();
    ArrayRef<int64_t> slice =
        ids.slice(first, std::min<size_t>(window, ids.size() - first));
    auto logits = (*interpreter)->forward(slice);
    if (!logits)
      return logits.takeError();
  }
  return llvm::Error::success();
}

/// Draws an id from softmax(`logits`).
static int64_t sample(ArrayRef<float> logits, std::mt19937_64 &rng) {
  float maxLogit = *std::max_element(logits.begin(), logits.end());
  std::vector<double> weights(logits.size());
  for (size_t i = 0; i < logits.size(); ++i)
    weights[i] = std::exp(static_cast<double>(logits[i]) - maxLogit);
  std::discrete_distribution<int64_t> pick(weights.begin(), weights.end());
  return pick(rng);
}

llvm::Expected<std::vector<int64_t>>
llm::generateCalibrationIds(ModuleOp module, int64_t maxTokens,
                            int64_t window) {
  auto model = module->getAttrOfType<ModelAttr>(kModelAttrName);
  if (!model)
    return llvm::createStringError("calibration needs a raised model (no "
                                   "#llm.model)");
  auto interpreter = reference::Interpreter::create(module);
  if (!interpreter)
    return interpreter.takeError();
  window = std::min(window, (*interpreter)->maxContext());
  if (window < 2 || maxTokens < 2)
    return llvm::createStringError("too few calibration tokens to generate");
  std::mt19937_64 rng(0x6d6963726f); // Fixed: the same model, the same text.
  int64_t start = model.getBosId() >= 0 ? model.getBosId() : 0;
  int64_t vocab = model.getVocabSize();
  std::vector<int64_t> ids;
  while (static_cast<int64_t>(ids.size()) < maxTokens) {
    (*interpreter)->reset();
    int64_t next = start, length = 0;
    while (length < window && static_cast<int64_t>(ids.size()) < maxTokens) {
      ids.push_back(next);
      ++length;
      auto logits = (*interpreter)->forward({next});
      if (!logits)
        return logits.takeError();
      next = sample(ArrayRef(*logits).take_back(vocab), rng);
      if (next == model.getEosId())
        break;
    }
  }
  return ids;
}

llvm::Expected<std::vector<int64_t>>
llm::getCalibrationIds(ModuleOp module, StringRef path, int64_t maxTokens,
                       int64_t window, StringRef modelDir) {
  if (path == "self")
    return generateCalibrationIds(module, maxTokens, window);
  return readCalibrationIds(module, path, maxTokens, modelDir);
}
