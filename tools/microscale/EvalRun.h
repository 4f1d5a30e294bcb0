//===- EvalRun.h - running the programs `microscale eval` built -*- C++ -*-===//
//
// Part of the Microscale project.
//
// Quality: both programs score the same text with `perplexity
// --logprobs-out`, each streaming its next-token log-distributions through
// a pipe; the rows are compared in lockstep as they arrive, so memory is two
// rows whatever the vocabulary and text. Speed: each program's own `bench`.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_TOOLS_EVALRUN_H
#define MICROSCALE_TOOLS_EVALRUN_H

#include "EvalReport.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <string>

namespace mlir::microscale::driver {

/// A program `eval` compiled.
struct EvalProgram {
  std::string path;
  /// How messages name it: "the float program".
  std::string name;
  int64_t maxContext = 0;
};

/// Scores `dataPath` in windows of `ctx` tokens with both programs and
/// compares their distributions at every scored position. Each program's
/// stderr goes to a log beside it (`<path>.perplexity.log`); a failure
/// quotes its last line.
llvm::Expected<EvalQuality> compareQuality(const EvalProgram &floatProgram,
                                           const EvalProgram &compressed,
                                           llvm::StringRef dataPath,
                                           int64_t ctx);

/// Prefill and decode tokens/s at one thread, medians of `runs` runs of
/// the program's `bench`.
llvm::Expected<EvalSpeed> benchProgram(const EvalProgram &program, int runs);

} // namespace mlir::microscale::driver

#endif // MICROSCALE_TOOLS_EVALRUN_H
