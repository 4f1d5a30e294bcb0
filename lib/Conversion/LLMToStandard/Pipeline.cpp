//===- Pipeline.cpp - raised llm module to upstream dialects ----*- C++ -*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#include "microscale/Conversion/Passes.h"

#include "mlir/Pass/PassManager.h"

using namespace mlir;
using namespace mlir::microscale;

void mlir::microscale::addLLMToStandardPasses(
    OpPassManager &pm, const ConvertLLMToStandardPassOptions &options) {
  pm.addPass(createConvertLLMToStandardPass(options));
  // Plan before the kernel ops become calls: the planner sees each kernel
  // op as one use of its buffers.
  pm.addPass(createPlanMemoryPass());
  pm.addPass(createConvertKernelToCallsPass());
}
