//===- microscale-opt.cpp - run Microscale passes on .mlir files -*- C++
//-*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#include "microscale/Conversion/Passes.h"
#include "microscale/Dialect/Kernel/IR/KernelOps.h"
#include "microscale/Dialect/LLM/IR/LLMDialect.h"
#include "microscale/Dialect/LLM/Transforms/Passes.h"
#include "microscale/Dialect/ONNX/IR/ONNXDialect.h"
#include "microscale/Pipelines/Pipelines.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  registry
      .insert<mlir::microscale::kernel::KernelDialect,
              mlir::microscale::llm::LLMDialect,
              mlir::microscale::onnx::ONNXDialect, mlir::func::FuncDialect>();
  // The dialects the lowering produces, so each stage's output parses.
  registry.insert<mlir::arith::ArithDialect, mlir::cf::ControlFlowDialect,
                  mlir::LLVM::LLVMDialect, mlir::math::MathDialect,
                  mlir::memref::MemRefDialect, mlir::scf::SCFDialect>();
  mlir::microscale::llm::registerLLMPasses();
  mlir::microscale::registerConversionPasses();
  mlir::microscale::registerMicroscalePipelines();
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  mlir::registerSymbolDCEPass();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "Microscale optimizer driver\n", registry));
}
