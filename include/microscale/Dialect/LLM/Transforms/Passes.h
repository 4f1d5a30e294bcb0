//===- Passes.h - llm dialect passes ----------------------------*- C++ -*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_DIALECT_LLM_TRANSFORMS_PASSES_H
#define MICROSCALE_DIALECT_LLM_TRANSFORMS_PASSES_H

#include "microscale/Dialect/LLM/IR/LLMDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::microscale::llm {

#define GEN_PASS_DECL
#include "microscale/Dialect/LLM/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "microscale/Dialect/LLM/Transforms/Passes.h.inc"

} // namespace mlir::microscale::llm

#endif // MICROSCALE_DIALECT_LLM_TRANSFORMS_PASSES_H
