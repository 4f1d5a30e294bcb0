//===- SequentialQuantization.cpp - layer by layer, toward float -*- C++
//-*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#include "microscale/Dialect/LLM/Transforms/SequentialQuantization.h"
#include "microscale/Dialect/LLM/IR/WeightData.h"
#include "microscale/Quant/TargetCorrection.h"
#include "microscale/Reference/Interpreter.h"

#include <map>

using namespace mlir;
using namespace mlir::microscale;
using namespace mlir::microscale::llm;

namespace {

using reference::Interpreter;

/// The float model and the model quantized so far, run side by side.
class SequentialQuantizer {
public:
  SequentialQuantizer(ModuleOp module, ArrayRef<int64_t> ids,
                      const SequentialPlan &plan)
      : module(module), ids(ids), plan(plan) {}

  llvm::Expected<llvm::DenseMap<Operation *, quant::QuantizedMatrix>> run();

private:
  llvm::Error start();
  /// Quantizes `weight` from `values` and puts the result in the quantized
  /// model.
  llvm::Error commit(WeightOp weight, ArrayRef<float> values,
                     const quant::InputStatistics *stats);
  /// Measures H~ and C for the groups of one stage.
  llvm::Error measure(ArrayRef<InputGroup *> stage,
                      std::vector<std::vector<double>> &cross);
  std::vector<float> valuesOf(WeightOp weight);

  ModuleOp module;
  ArrayRef<int64_t> ids;
  const SequentialPlan &plan;
  std::unique_ptr<Interpreter> floatModel, quantizedModel;
  llvm::DenseMap<Operation *, quant::QuantizedMatrix> results;
};

std::vector<float> SequentialQuantizer::valuesOf(WeightOp weight) {
  auto it = plan.editedValues->find(weight);
  if (it != plan.editedValues->end())
    return it->second;
  auto read = readWeightValues(weight);
  if (!read) {
    llvm::consumeError(read.takeError());
    return {};
  }
  return std::move(*read);
}

llvm::Error SequentialQuantizer::start() {
  for (std::unique_ptr<Interpreter> *model : {&floatModel, &quantizedModel}) {
    auto created = Interpreter::create(module);
    if (!created)
      return created.takeError();
    *model = std::move(*created);
    for (auto &[op, values] : *plan.editedValues) {
      auto exchanged =
          (*model)->exchangeWeight(cast<WeightOp>(op).getResult(), values);
      if (!exchanged)
        return exchanged.takeError();
    }
  }
  return llvm::Error::success();
}

llvm::Error SequentialQuantizer::commit(WeightOp weight, ArrayRef<float> values,
                                        const quant::InputStatistics *stats) {
  RankedTensorType type = weight.getType();
  int64_t rows = type.getDimSize(0), cols = type.getDimSize(1);
  quant::QuantizedMatrix matrix =
      plan.quantizer(values, rows, cols, plan.formats.lookup(weight), stats);
  auto exchanged = quantizedModel->exchangeWeight(weight.getResult(),
                                                  quant::dequantize(matrix));
  if (!exchanged)
    return exchanged.takeError();
  results[weight] = std::move(matrix);
  return llvm::Error::success();
}

llvm::Error
SequentialQuantizer::measure(ArrayRef<InputGroup *> stage,
                             std::vector<std::vector<double>> &cross) {
  llvm::DenseMap<Value, size_t> leaders;
  for (auto [i, group] : llvm::enumerate(stage)) {
    leaders.try_emplace(group->weights.front().getResult(), i);
    group->stats = quant::InputStatistics();
  }
  cross.assign(stage.size(), {});
  std::vector<std::vector<float>> floatInputs(stage.size());
  floatModel->setLinearObserver(
      [&](Value weight, ArrayRef<float> input, int64_t, int64_t) {
        auto it = leaders.find(weight);
        if (it != leaders.end())
          floatInputs[it->second].assign(input.begin(), input.end());
      });
  quantizedModel->setLinearObserver([&](Value weight, ArrayRef<float> input,
                                        int64_t rows, int64_t in) {
    auto it = leaders.find(weight);
    if (it == leaders.end() || floatInputs[it->second].size() != input.size())
      return;
    quant::InputStatistics &stats = stage[it->second]->stats;
    stats.cols = in;
    quant::accumulateStatistics(stats, input, rows);
    quant::accumulateCrossStatistics(cross[it->second], input,
                                     floatInputs[it->second], rows, in);
  });
  int64_t window = std::min(plan.window, floatModel->maxContext());
  for (size_t first = 0; first < ids.size(); first += window) {
    ArrayRef<int64_t> slice =
        ids.slice(first, std::min<size_t>(window, ids.size() - first));
    for (Interpreter *model : {floatModel.get(), quantizedModel.get()}) {
      model->reset();
      auto logits = model->forward(slice);
      if (!logits)
        return logits.takeError();
    }
  }
  return llvm::Error::success();
}

llvm::Expected<llvm::DenseMap<Operation *, quant::QuantizedMatrix>>
SequentialQuantizer::run() {
  if (llvm::Error error = start())
    return std::move(error);
  // Stages: one per layer in order, then the matrices outside the layers.
  std::map<int64_t, SmallVector<InputGroup *>> stages;
  llvm::DenseMap<Operation *, InputGroup *> groupOf;
  for (InputGroup &group : *plan.groups) {
    auto user = cast<WeightUserOpInterface>(group.user);
    std::optional<int64_t> layer = user.getWeightLayer();
    stages[layer ? *layer : std::numeric_limits<int64_t>::max()].push_back(
        &group);
    for (WeightOp weight : group.weights)
      groupOf.try_emplace(weight, &group);
  }
  // Embedding tables go first, so every layer sees its quantized input; a
  // table tied to the logits uses the logits' float statistics.
  for (WeightRef ref :
       findWeights(module, {WeightRole::TokenEmbedding}, std::nullopt)) {
    WeightOp weight = getWeightOp(ref.use);
    if (!weight || !plan.formats.count(weight) || results.count(weight))
      continue;
    InputGroup *group = groupOf.lookup(weight);
    if (llvm::Error error =
            commit(weight, valuesOf(weight), group ? &group->stats : nullptr))
      return std::move(error);
  }
  for (auto &[layer, stage] : stages) {
    std::vector<std::vector<double>> cross;
    if (llvm::Error error = measure(stage, cross))
      return std::move(error);
    for (auto [group, groupCross] : llvm::zip(stage, cross)) {
      for (WeightOp weight : group->weights) {
        if (!plan.formats.count(weight) || results.count(weight))
          continue;
        RankedTensorType type = weight.getType();
        std::vector<float> target = quant::correctTarget(
            valuesOf(weight), type.getDimSize(0), type.getDimSize(1),
            group->stats.hessian, groupCross, plan.dampening);
        if (llvm::Error error = commit(weight, target, &group->stats))
          return std::move(error);
      }
    }
  }
  return std::move(results);
}

} // namespace

llvm::Expected<llvm::DenseMap<Operation *, quant::QuantizedMatrix>>
llm::quantizeSequentially(ModuleOp module, ArrayRef<int64_t> ids,
                          const SequentialPlan &plan) {
  return SequentialQuantizer(module, ids, plan).run();
}
