//===- Pruning.h - what the structured-pruning passes share -----*- C++ -*-===//
//
// Part of the Microscale project.
//
// The pruning passes read float weights, write smaller ones, measure the
// model's loss on calibration text with the reference interpreter and keep
// `#llm.model` in step with the ops. The math that does not need MLIR is in
// microscale/Prune/Prune.h.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_DIALECT_LLM_TRANSFORMS_PRUNING_H
#define MICROSCALE_DIALECT_LLM_TRANSFORMS_PRUNING_H

#include "microscale/Dialect/LLM/IR/LLMOps.h"
#include "microscale/Dialect/LLM/Transforms/Calibration.h"
#include "microscale/Reference/Interpreter.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

#include <vector>

namespace mlir::microscale::llm {

/// The `llm.weight` behind the weight operand `value` as float32 values:
/// it must be a dense weight used by this one operand (pruning rewrites
/// it). Errors, reported at `user` and prefixed with `pass`, say why not;
/// a quantized weight is told that pruning runs before quantization.
FailureOr<std::vector<float>> readPrunableWeight(Operation *user, Value value,
                                                 StringRef pass);

/// A dense `llm.weight` named like `like`, of its element type, holding
/// `values` in `shape`; created before `like`.
WeightOp createPrunedWeight(WeightOp like, ArrayRef<int64_t> shape,
                            ArrayRef<float> values);

/// Replaces the weight behind `operand` by `values` in `shape` (the old
/// weight is erased).
void replacePrunedWeight(OpOperand &operand, ArrayRef<int64_t> shape,
                         ArrayRef<float> values);

/// Calibration token ids for a pruning pass (`path` a text file or
/// `self`); errors are emitted on `module`, prefixed with `pass`.
FailureOr<std::vector<int64_t>>
getPruningCalibrationIds(ModuleOp module, StringRef pass, StringRef path,
                         int64_t tokens, int64_t window, StringRef modelDir);

/// What a pruning pass measures at the input X (`[tokens, cols]`) of a
/// projection: the Gram matrix of [X, 1], `[(cols + 1)^2]` row-major. Its
/// top-left block is H = X^T X; its last row and column hold the sums of X
/// and the token count, so a refit may also move what removed inputs
/// contributed on average into the bias.
struct InputGram {
  int64_t cols = 0;
  int64_t tokens = 0;
  std::vector<double> gram;

  /// H = X^T X alone, `[cols, cols]`.
  std::vector<double> hessian() const;
};

/// The input Gram matrices of the weight operands `weights` (one per
/// projection, in order), measured on `ids` (windows of `window` tokens) by
/// the reference interpreter. Errors are emitted on `module`.
FailureOr<std::vector<InputGram>>
measureInputGrams(ModuleOp module, StringRef pass, ArrayRef<Value> weights,
                  ArrayRef<int64_t> ids, int64_t window);

/// Removes every input column of the projection `weights` (`[rows, cols]`)
/// but `kept`, and refits the kept columns together with the bias (`rows`
/// values; zeros for a projection without one) on `gram` when `refit`
/// (see prune::pruneColumns: never worse than the plain cut). Returns the
/// new `[rows, kept.size()]` weights and bias, and whether the refit won.
struct RepairedProjection {
  std::vector<float> weights, bias;
  bool refit = false;
};
RepairedProjection repairProjection(ArrayRef<float> weights,
                                    ArrayRef<float> bias, int64_t rows,
                                    int64_t cols, const InputGram *gram,
                                    ArrayRef<int64_t> kept, bool refit,
                                    double dampening);

/// What the repair toward the float model needs for one projection: the
/// float model feeds it X, the model pruned so far Z, both on the same
/// calibration tokens; with a constant column appended to each,
/// `targetGram` = [X,1]^T [X,1], `cross` = [X,1]^T [Z_S,1] and `gram` =
/// [Z_S,1]^T [Z_S,1], where Z_S are the columns the pruned projection
/// keeps (see prune::pruneColumnsTowardTarget).
struct TargetStatistics {
  std::vector<double> targetGram, cross, gram;
};

/// Measures TargetStatistics for the projection whose weight operand is
/// `current` in `module` and `target` in `original` (the float model), Z_S
/// being the columns `kept` of the current input. Errors are emitted on
/// `module`.
FailureOr<TargetStatistics>
measureTowardTarget(ModuleOp module, Value current, ModuleOp original,
                    Value target, ArrayRef<int64_t> kept, StringRef pass,
                    ArrayRef<int64_t> ids, int64_t window);

/// repairProjection toward the float model's output (see
/// prune::pruneColumnsTowardTarget): the kept columns and the bias are
/// refit so that the pruned model's input reproduces the float model's
/// output of this projection.
RepairedProjection
repairTowardTarget(ArrayRef<float> weights, ArrayRef<float> bias, int64_t rows,
                   int64_t cols, const TargetStatistics &statistics,
                   ArrayRef<int64_t> kept, bool refit, double dampening);

/// Sets a bias operand whose value is `current` (null when absent) to
/// `bias`: the weight behind it is replaced, or a new one named after
/// `like` plus ".bias" is created; `setOperand` attaches the new value.
void setPrunedBias(Value current, WeightOp like, ArrayRef<float> bias,
                   llvm::function_ref<void(Value)> setOperand);

/// The mean negative log-likelihood per predicted token of `ids` (each
/// window of `window` tokens from an empty KV cache predicts its own next
/// tokens) on `interpreter`.
llvm::Expected<double>
measureCalibrationLoss(reference::Interpreter &interpreter,
                       ArrayRef<int64_t> ids, int64_t window);

/// The log-probabilities of every position of `ids` (windows as above),
/// `[ids.size(), vocab]`: the reference measureDivergence compares with.
llvm::Expected<std::vector<float>>
measureLogProbabilities(reference::Interpreter &interpreter,
                        ArrayRef<int64_t> ids, int64_t window);

/// The mean KL divergence per position of `interpreter`'s next-token
/// distributions from `reference` (measureLogProbabilities of the float
/// model): the expected loss increase on the float model's own text,
/// without the noise of scoring sampled tokens.
llvm::Expected<double> measureDivergence(reference::Interpreter &interpreter,
                                         ArrayRef<int64_t> ids, int64_t window,
                                         ArrayRef<float> reference);

/// Sets `#llm.model`'s num_heads and num_kv_heads to the largest over the
/// module's attention units (after heads were pruned).
void updateModelHeads(ModuleOp module);

} // namespace mlir::microscale::llm

#endif // MICROSCALE_DIALECT_LLM_TRANSFORMS_PRUNING_H
