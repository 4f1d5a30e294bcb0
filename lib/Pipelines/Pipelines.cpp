//===- Pipelines.cpp - the registered compile pipeline ----------*- C++ -*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#include "microscale/Pipelines/Pipelines.h"
#include "microscale/Conversion/Passes.h"
#include "microscale/Dialect/LLM/Transforms/Passes.h"

#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MathToLibm/MathToLibm.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

using namespace mlir;
using namespace mlir::microscale;

void mlir::microscale::buildLLMToStandardPipeline(OpPassManager &pm,
                                                  int64_t maxTokens,
                                                  int64_t maxContext) {
  // Blocks are the units compression edits; the lowering handles the
  // primitive ops they expand to.
  pm.addPass(llm::createExpandBlocksPass());
  ConvertLLMToStandardPassOptions lowering;
  lowering.maxTokens = maxTokens;
  lowering.maxContext = maxContext;
  addLLMToStandardPasses(pm, lowering);
}

void mlir::microscale::buildStandardToLLVMPipeline(OpPassManager &pm,
                                                   unsigned indexBitwidth) {
  pm.addPass(createConvertSCFToCFPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createConvertMathToLLVMPass());
  ArithToLLVMConversionPassOptions arithOptions;
  arithOptions.indexBitwidth = indexBitwidth;
  pm.addPass(createArithToLLVMConversionPass(arithOptions));
  FinalizeMemRefToLLVMConversionPassOptions memrefOptions;
  memrefOptions.indexBitwidth = indexBitwidth;
  pm.addPass(createFinalizeMemRefToLLVMConversionPass(memrefOptions));
  ConvertFuncToLLVMPassOptions funcOptions;
  funcOptions.indexBitwidth = indexBitwidth;
  // Plain C calling convention: memrefs of static shape are bare pointers.
  funcOptions.useBarePtrCallConv = true;
  pm.addPass(createConvertFuncToLLVMPass(funcOptions));
  ConvertControlFlowToLLVMPassOptions cfOptions;
  cfOptions.indexBitwidth = indexBitwidth;
  pm.addPass(createConvertControlFlowToLLVMPass(cfOptions));
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void mlir::microscale::buildCompilePipeline(
    OpPassManager &pm, const CompilePipelineOptions &options) {
  buildLLMToStandardPipeline(pm, options.maxTokens, options.maxContext);
  buildStandardToLLVMPipeline(pm, options.indexBitwidth);
}

namespace {
struct IndexBitwidthOptions : public PassPipelineOptions<IndexBitwidthOptions> {
  Option<unsigned> indexBitwidth{
      *this, "index-bitwidth",
      llvm::cl::desc("Bits of an index on the target (its pointer width)"),
      llvm::cl::init(64)};
};
} // namespace

void mlir::microscale::registerMicroscalePipelines() {
  PassPipelineRegistration<CompilePipelineOptions>(
      "microscale-compile-pipeline",
      "Lower a raised llm module to the LLVM dialect, as `microscale "
      "compile` does before translation",
      buildCompilePipeline);
  PassPipelineRegistration<CompilePipelineOptions>(
      "microscale-llm-to-standard-pipeline",
      "First stage of microscale-compile-pipeline: llm to upstream dialects "
      "and runtime kernel calls",
      [](OpPassManager &pm, const CompilePipelineOptions &options) {
        buildLLMToStandardPipeline(pm, options.maxTokens, options.maxContext);
      });
  PassPipelineRegistration<IndexBitwidthOptions>(
      "microscale-standard-to-llvm-pipeline",
      "Second stage of microscale-compile-pipeline: upstream dialects to the "
      "LLVM dialect",
      [](OpPassManager &pm, const IndexBitwidthOptions &options) {
        buildStandardToLLVMPipeline(pm, options.indexBitwidth);
      });
}
