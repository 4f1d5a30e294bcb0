//===- LLMOps.h - llm dialect operations ------------------------*- C++ -*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_DIALECT_LLM_IR_LLMOPS_H
#define MICROSCALE_DIALECT_LLM_IR_LLMOPS_H

#include "microscale/Dialect/LLM/IR/LLMDialect.h"
#include "microscale/Dialect/LLM/IR/LLMInterfaces.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "microscale/Dialect/LLM/IR/LLMOps.h.inc"

namespace mlir::microscale::llm {

/// The `llm.weight` holding a weight use, or null (a function argument, say).
inline WeightOp getWeightOp(const WeightUse &use) {
  return use.getValue().getDefiningOp<WeightOp>();
}

/// A weight use together with the op that reads it.
struct WeightRef {
  WeightUserOpInterface user;
  WeightUse use;
};

/// Every weight use under `root`, in program order.
SmallVector<WeightRef> collectWeights(Operation *root);

/// The weight uses under `root` whose role is one of `roles` (any role when
/// empty) and whose op belongs to `layer` (any op when std::nullopt): e.g.
/// the K and V projections of layer 3.
SmallVector<WeightRef> findWeights(Operation *root, ArrayRef<WeightRole> roles,
                                   std::optional<int64_t> layer);

} // namespace mlir::microscale::llm

#endif // MICROSCALE_DIALECT_LLM_IR_LLMOPS_H
