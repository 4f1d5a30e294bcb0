//===- LLMOps.h - llm dialect operations ------------------------*- C++ -*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_DIALECT_LLM_IR_LLMOPS_H
#define MICROSCALE_DIALECT_LLM_IR_LLMOPS_H

#include "microscale/Dialect/LLM/IR/LLMDialect.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "microscale/Dialect/LLM/IR/LLMOps.h.inc"

#endif // MICROSCALE_DIALECT_LLM_IR_LLMOPS_H
