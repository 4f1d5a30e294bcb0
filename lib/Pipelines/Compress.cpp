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
#include "llvm/Support/Format.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::microscale;

std::string CompressionOptions::describe() const {
  if (!enabled())
    return "none";
  std::string text;
  auto add = [&](const std::string &item) {
    text += (text.empty() ? "" : " ") + item;
  };
  if (!quantize.empty())
    add("quantize=" + quantize);
  if (weightBudget > 0)
    add("weight-budget=" + std::to_string(weightBudget));
  if (bitsPerWeight > 0) {
    std::string bits;
    llvm::raw_string_ostream(bits) << llvm::format("%g", bitsPerWeight);
    add("bits-per-weight=" + bits);
  }
  if (quantizeWeights != "all")
    add("weights=" + quantizeWeights);
  if (method != "rtn")
    add("method=" + method);
  if (method != "rtn" || usesBudget())
    add("calibration=" + llvm::sys::path::filename(calibrationFile).str() +
        ":" + std::to_string(calibrationTokens));
  for (const std::string &entry : overrides)
    add("override=" + entry);
  return text;
}

llvm::Error mlir::microscale::compress(ModuleOp module,
                                       const CompressionOptions &options) {
  if (!options.enabled())
    return llvm::Error::success();
  if (options.weightBudget > 0 && options.bitsPerWeight > 0)
    return llvm::createStringError(
        "--weight-budget and --bits-per-weight both set a budget: give one");
  if (options.usesBudget() && options.calibrationFile.empty())
    return llvm::createStringError(
        "--weight-budget and --bits-per-weight measure each weight's "
        "sensitivity on calibration text: pass --calibration FILE");
  if (!options.calibrationFile.empty() && options.method == "rtn" &&
      !options.usesBudget())
    return llvm::createStringError(
        "--calibration is only used by calibration-aware methods and "
        "budgets; --quantize-method rtn does not read it");

  PassManager pm(module.getContext());
  if (options.usesBudget()) {
    // Chooses the format of each matrix (llm.quantize) that
    // llm-quantize-weights then honours.
    llm::MixedPrecisionPassOptions mixed;
    mixed.budgetBytes = options.weightBudget;
    mixed.bitsPerWeight = options.bitsPerWeight;
    mixed.weights = options.quantizeWeights;
    mixed.calibration = options.calibrationFile;
    mixed.calibrationTokens =
        std::min(options.calibrationTokens, options.sensitivityTokens);
    mixed.modelDir = options.modelDir;
    // Trials like the method that follows (activation-aware scales aside).
    mixed.trialMethod = options.method == "rtn" ? "rtn" : "calibrated";
    pm.addPass(llm::createMixedPrecisionPass(mixed));
  }
  llm::QuantizeWeightsPassOptions quantize;
  // With a budget and no --quantize, every matrix the default would reach
  // carries its own llm.quantize, so the placeholder default is never used.
  quantize.format = options.quantize.empty() ? "int8" : options.quantize;
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
