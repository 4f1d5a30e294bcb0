//===- FuzzImport.cpp - libFuzzer target: ONNX import and raising -*- C++
//-*-===//
//
// Part of the Microscale project.
//
// Feeds each input to the importer as an ONNX file and, when it imports,
// raises it to the llm dialect. Any input may be rejected; none may crash,
// hang or exhaust memory (libFuzzer's -timeout and -rss_limit_mb enforce
// the last two). test/Fuzz runs it briefly on the importer's fixtures.
//
//===----------------------------------------------------------------------===//

#include "microscale/Dialect/LLM/IR/LLMDialect.h"
#include "microscale/Dialect/LLM/Transforms/Passes.h"
#include "microscale/Dialect/ONNX/IR/ONNXDialect.h"
#include "microscale/Import/ONNXImporter.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <string>

using namespace mlir;
using namespace mlir::microscale;

namespace {
/// The importer reads files; every input is written to this one, which sits
/// in its own folder so external data lookups stay inside it.
const std::string &inputPath() {
  static const std::string path = [] {
    llvm::SmallString<128> dir;
    if (llvm::sys::fs::createUniqueDirectory("microscale-fuzz", dir))
      llvm::report_fatal_error("cannot create a temporary folder");
    return (dir + "/input.onnx").str();
  }();
  return path;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  {
    std::error_code error;
    llvm::raw_fd_ostream out(inputPath(), error);
    if (error)
      llvm::report_fatal_error("cannot write the fuzz input");
    out.write(reinterpret_cast<const char *>(data), size);
  }
  DialectRegistry registry;
  registry.insert<llm::LLMDialect, onnx::ONNXDialect, func::FuncDialect>();
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  // Rejections are expected; only crashes matter.
  ScopedDiagnosticHandler quiet(&context,
                                [](Diagnostic &) { return success(); });
  auto module = importONNXModel(inputPath(), &context);
  if (!module) {
    llvm::consumeError(module.takeError());
    return 0;
  }
  PassManager pm(&context);
  llm::buildRaisePipeline(pm);
  (void)pm.run(**module);
  return 0;
}
