//===- Pipeline.cpp - raised llm module to upstream dialects ----*- C++ -*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#include "microscale/Conversion/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

using namespace mlir;
using namespace mlir::microscale;

void mlir::microscale::buildLLMToStandardPipeline(
    OpPassManager &pm, const ConvertLLMToStandardPassOptions &options) {
  pm.addPass(createConvertLLMToStandardPass(options));
  // Plan before the kernel ops become calls: the planner sees each kernel
  // op as one use of its buffers.
  pm.addPass(createPlanMemoryPass());
  pm.addPass(createConvertKernelToCallsPass());
}

namespace {
struct LLMToStandardPipelineOptions
    : public PassPipelineOptions<LLMToStandardPipelineOptions> {
  Option<int64_t> maxTokens{
      *this, "max-tokens",
      llvm::cl::desc("Most tokens one ms_forward call processes"),
      llvm::cl::init(64)};
  Option<int64_t> maxContext{
      *this, "max-context",
      llvm::cl::desc("KV-cache positions (default: the model's max_context)"),
      llvm::cl::init(0)};
};
} // namespace

void mlir::microscale::registerLLMToStandardPipeline() {
  PassPipelineRegistration<LLMToStandardPipelineOptions>(
      "microscale-llm-to-standard",
      "Lower a raised llm module to upstream dialects and runtime calls: "
      "convert-llm-to-standard, microscale-plan-memory, "
      "convert-kernel-to-calls",
      [](OpPassManager &pm, const LLMToStandardPipelineOptions &options) {
        ConvertLLMToStandardPassOptions lowering;
        lowering.maxTokens = options.maxTokens;
        lowering.maxContext = options.maxContext;
        buildLLMToStandardPipeline(pm, lowering);
      });
}
