//===- Passes.h - llm dialect passes ----------------------------*- C++ -*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_DIALECT_LLM_TRANSFORMS_PASSES_H
#define MICROSCALE_DIALECT_LLM_TRANSFORMS_PASSES_H

#include "microscale/Dialect/LLM/IR/LLMDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

namespace mlir::microscale::llm {

#define GEN_PASS_DECL
#include "microscale/Dialect/LLM/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "microscale/Dialect/LLM/Transforms/Passes.h.inc"

/// The passes that take an imported ONNX module to the `llm` dialect as the
/// driver presents it: raising, then block formation.
void buildRaisePipeline(OpPassManager &pm,
                        const RaiseONNXPassOptions &options = {});

/// The patterns of `llm-form-blocks` and `llm-expand-blocks`, for passes
/// that run them with others.
void populateFormBlocksPatterns(RewritePatternSet &patterns);
void populateExpandBlocksPatterns(RewritePatternSet &patterns);

} // namespace mlir::microscale::llm

#endif // MICROSCALE_DIALECT_LLM_TRANSFORMS_PASSES_H
