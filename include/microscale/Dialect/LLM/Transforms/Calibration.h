//===- Calibration.h - what weights see on calibration text -----*- C++ -*-===//
//
// Part of the Microscale project.
//
// Calibration-aware quantization needs, for every weight matrix, the
// statistics of its input on representative text (H = X^T X and mean |x|).
// This runs the float model on the reference interpreter — the judge of
// every compressed model — over tokenized calibration text and collects
// them, once per input that several matrices share.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_DIALECT_LLM_TRANSFORMS_CALIBRATION_H
#define MICROSCALE_DIALECT_LLM_TRANSFORMS_CALIBRATION_H

#include "microscale/Dialect/LLM/IR/LLMOps.h"
#include "microscale/Quant/Calibrated.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <vector>

namespace mlir::microscale::llm {

/// Where the input of a group of matrices comes from.
enum class InputSource {
  /// The op's main input (Q/K/V of a block, up/gate of an MLP, a linear,
  /// the logits).
  OpInput,
  /// The attention output inside a block (read by its output projection).
  AttentionOutput,
  /// The gated or activated MLP hidden state (read by the down projection).
  MLPHidden,
};

/// Matrices that read the same input, and that input's statistics.
struct InputGroup {
  Operation *user = nullptr;
  InputSource source = InputSource::OpInput;
  SmallVector<WeightOp> weights;
  SmallVector<WeightRole> roles;
  quant::InputStatistics stats;
};

/// The groups of `module`'s quantizable matrices (layer projections and the
/// logits), in program order, with empty statistics.
std::vector<InputGroup> findInputGroups(ModuleOp module);

/// Token ids of the first `maxTokens` tokens of the text file `path`, with
/// the model's tokenizer (resolved against `modelDir` when relative; the
/// module's `onnx.model_dir` wins). Errors name the file.
llvm::Expected<std::vector<int64_t>> readCalibrationIds(ModuleOp module,
                                                        StringRef path,
                                                        int64_t maxTokens,
                                                        StringRef modelDir);

/// Runs `module` on the reference interpreter over `ids` in windows of
/// `window` tokens (each from an empty KV cache) and fills the statistics
/// of `groups`.
llvm::Error collectInputStatistics(ModuleOp module, ArrayRef<int64_t> ids,
                                   int64_t window,
                                   std::vector<InputGroup> &groups);

} // namespace mlir::microscale::llm

#endif // MICROSCALE_DIALECT_LLM_TRANSFORMS_CALIBRATION_H
