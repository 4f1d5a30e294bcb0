//===- Compress.cpp - compression of a raised model -------------*- C++ -*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#include "microscale/Pipelines/Compress.h"
#include "microscale/Dialect/LLM/Transforms/Passes.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Path.h"

using namespace mlir;
using namespace mlir::microscale;

std::string CompressionOptions::describe() const {
  if (!enabled())
    return "none";
  std::string text = "quantize=" + quantize;
  if (quantizeWeights != "all")
    text += " weights=" + quantizeWeights;
  if (method != "rtn")
    text += " method=" + method +
            " calibration=" + llvm::sys::path::filename(calibrationFile).str() +
            ":" + std::to_string(calibrationTokens);
  for (const std::string &entry : overrides)
    text += " override=" + entry;
  return text;
}

llvm::Error mlir::microscale::compress(ModuleOp module,
                                       const CompressionOptions &options) {
  if (!options.enabled())
    return llvm::Error::success();
  if (options.quantize.empty())
    return llvm::createStringError(
        "--weight-budget and --bits-per-weight need --quantize (the format "
        "of the weights the budget does not keep wider)");
  if (options.weightBudget > 0 || options.bitsPerWeight > 0)
    return llvm::createStringError(
        "--weight-budget and --bits-per-weight are not supported yet");
  if (!options.calibrationFile.empty() && options.method == "rtn")
    return llvm::createStringError(
        "--calibration is only used by calibration-aware methods; "
        "--quantize-method rtn does not read it");

  PassManager pm(module.getContext());
  llm::QuantizeWeightsPassOptions quantize;
  quantize.format = options.quantize;
  quantize.weights = options.quantizeWeights;
  quantize.overrides = options.overrides;
  quantize.method = options.method;
  quantize.calibration = options.calibrationFile;
  quantize.calibrationTokens = options.calibrationTokens;
  quantize.modelDir = options.modelDir;
  pm.addPass(llm::createQuantizeWeightsPass(quantize));

  // Diagnostics become the error's text rather than going to stderr.
  std::string messages;
  ScopedDiagnosticHandler handler(module.getContext(), [&](Diagnostic &diag) {
    if (!messages.empty())
      messages += "\n";
    messages += diag.str();
    return success();
  });
  if (failed(pm.run(module)))
    return llvm::createStringError(messages.empty() ? "compression failed"
                                                    : messages);
  return llvm::Error::success();
}
