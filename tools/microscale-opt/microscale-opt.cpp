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

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  registry.insert<mlir::microscale::kernel::KernelDialect,
                  mlir::microscale::llm::LLMDialect,
                  mlir::microscale::onnx::ONNXDialect,
                  mlir::arith::ArithDialect, mlir::func::FuncDialect,
                  mlir::LLVM::LLVMDialect, mlir::math::MathDialect,
                  mlir::memref::MemRefDialect, mlir::scf::SCFDialect>();
  mlir::microscale::llm::registerLLMPasses();
  mlir::microscale::registerConversionPasses();
  mlir::microscale::registerLLMToStandardPipeline();
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  mlir::registerSymbolDCEPass();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "Microscale optimizer driver\n", registry));
}
