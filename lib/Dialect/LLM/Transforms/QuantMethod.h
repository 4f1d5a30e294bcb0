//===- QuantMethod.h - the steps a quantization method names ----*- C++ -*-===//
//
// Part of the Microscale project.
//
// One spelling of a quantization method for the passes that take one:
// llm-quantize-weights' `method` and llm-mixed-precision's `trial-method`.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_LIB_DIALECT_LLM_TRANSFORMS_QUANTMETHOD_H
#define MICROSCALE_LIB_DIALECT_LLM_TRANSFORMS_QUANTMETHOD_H

#include "llvm/ADT/StringRef.h"

#include <optional>

namespace mlir::microscale::llm {

/// The calibration-aware steps a method names, in the order they compose.
struct QuantMethod {
  bool activationScales = false;
  bool clip = false;
  bool gptq = false;
  bool refit = false;
  /// Layer by layer, each matrix toward the float model's output.
  bool sequential = false;

  bool needsCalibration() const {
    return activationScales || clip || gptq || refit || sequential;
  }
};

/// `rtn`, `calibrated` (awq+clip+gptq+refit) or steps joined by `+`: `awq`,
/// `clip`, `gptq`, `refit`, `seq`; nullopt for anything else.
std::optional<QuantMethod> parseQuantMethod(llvm::StringRef text);

} // namespace mlir::microscale::llm

#endif // MICROSCALE_LIB_DIALECT_LLM_TRANSFORMS_QUANTMETHOD_H
