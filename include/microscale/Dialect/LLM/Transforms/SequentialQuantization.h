//===- SequentialQuantization.h - layer by layer, toward float --*- C++ -*-===//
//
// Part of the Microscale project.
//
// Quantizes a model's matrices one decoder layer at a time. Each layer's
// statistics are measured on a model whose earlier layers are already
// quantized, and each matrix is quantized toward the float model's output
// (TargetCorrection.h), so a layer repairs the error the layers before it
// left instead of compounding it.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_DIALECT_LLM_TRANSFORMS_SEQUENTIALQUANTIZATION_H
#define MICROSCALE_DIALECT_LLM_TRANSFORMS_SEQUENTIALQUANTIZATION_H

#include "microscale/Dialect/LLM/Transforms/Calibration.h"
#include "microscale/Quant/Quant.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/MapVector.h"

#include <functional>
#include <optional>

namespace mlir::microscale::llm {

/// Quantizes one matrix given its (corrected) values and input statistics
/// (null when the matrix has none, e.g. an untied embedding).
using MatrixQuantizer = std::function<quant::QuantizedMatrix(
    llvm::ArrayRef<float> values, int64_t rows, int64_t cols,
    const quant::Format &format, const quant::InputStatistics *stats)>;

struct SequentialPlan {
  /// Every matrix to quantize and its format.
  llvm::MapVector<Operation *, quant::Format> formats;
  /// Float values to start from for weights a pass edited (activation
  /// scales); others are read from the IR.
  const llvm::DenseMap<Operation *, std::vector<float>> *editedValues;
  /// Float statistics of `groups` (from the unquantized model), used by
  /// matrices quantized before any layer (a tied embedding).
  std::vector<InputGroup> *groups;
  MatrixQuantizer quantizer;
  int64_t window = 256;
  /// Ridge of the target correction, as a fraction of H~'s mean diagonal.
  double dampening = 0.01;
};

/// Quantizes every matrix of `plan` and returns its storage: embeddings
/// first, then layer by layer, then the rest (the logits).
llvm::Expected<llvm::DenseMap<Operation *, quant::QuantizedMatrix>>
quantizeSequentially(ModuleOp module, llvm::ArrayRef<int64_t> ids,
                     const SequentialPlan &plan);

} // namespace mlir::microscale::llm

#endif // MICROSCALE_DIALECT_LLM_TRANSFORMS_SEQUENTIALQUANTIZATION_H
