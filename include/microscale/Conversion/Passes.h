//===- Passes.h - conversion passes -----------------------------*- C++ -*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_CONVERSION_PASSES_H
#define MICROSCALE_CONVERSION_PASSES_H

#include "microscale/Dialect/Kernel/IR/KernelOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
class OpPassManager;
} // namespace mlir

namespace mlir::microscale {

#define GEN_PASS_DECL
#include "microscale/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "microscale/Conversion/Passes.h.inc"

/// Adds the passes that take a raised llm module to the upstream dialects
/// the emitter lowers, in the order they need: convert-llm-to-standard,
/// microscale-plan-memory, convert-kernel-to-calls.
void addLLMToStandardPasses(OpPassManager &pm,
                            const ConvertLLMToStandardPassOptions &options);

} // namespace mlir::microscale

#endif // MICROSCALE_CONVERSION_PASSES_H
