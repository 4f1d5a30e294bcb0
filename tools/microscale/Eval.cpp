//===- Eval.cpp - `microscale eval` -----------------------------*- C++ -*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#include "Driver.h"

using namespace mlir;
using namespace mlir::microscale;

int driver::runEval(MLIRContext &context, const EvalOptions &options,
                    const CompressionOptions &compression) {
  return fail("eval: not available yet");
}
