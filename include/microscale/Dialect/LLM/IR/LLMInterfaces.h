//===- LLMInterfaces.h - llm dialect interfaces -----------------*- C++ -*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_DIALECT_LLM_IR_LLMINTERFACES_H
#define MICROSCALE_DIALECT_LLM_IR_LLMINTERFACES_H

#include "microscale/Dialect/LLM/IR/LLMDialect.h"

namespace mlir::microscale::llm {

/// One weight operand of a `WeightUserOpInterface` op and what it is.
struct WeightUse {
  OpOperand *operand;
  WeightRole role;

  Value getValue() const { return operand->get(); }
  /// The logical type; its encoding (if any) is the storage form.
  RankedTensorType getType() const {
    return cast<RankedTensorType>(getValue().getType());
  }
};

/// True for the roles of bias vectors (as opposed to matrices and gains).
bool isBiasRole(WeightRole role);

/// True for the matrices inside the decoder layers (projections), as
/// opposed to the embedding and the logits projection.
bool isLayerMatrixRole(WeightRole role);

/// True for the matrices quantization rewrites: the layer matrices, the
/// token embedding and the logits projection.
bool isQuantizableRole(WeightRole role);

} // namespace mlir::microscale::llm

#include "microscale/Dialect/LLM/IR/LLMInterfaces.h.inc"

#endif // MICROSCALE_DIALECT_LLM_IR_LLMINTERFACES_H
