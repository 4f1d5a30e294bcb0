//===- Driver.h - what the driver's commands share --------------*- C++ -*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_TOOLS_MICROSCALE_DRIVER_H
#define MICROSCALE_TOOLS_MICROSCALE_DRIVER_H

#include "microscale/Pipelines/Compress.h"
#include "microscale/Pipelines/Pipelines.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/Twine.h"

#include <string>

namespace mlir::microscale::driver {

/// Prints `message` as the driver's error and returns the exit code 1.
int fail(const llvm::Twine &message);

/// Imports (and optionally raises) an ONNX model, or parses an .mlir file;
/// when raised, applies the compression flags. Diagnostics go to stderr.
OwningOpRef<ModuleOp> loadModel(llvm::StringRef path, MLIRContext &context,
                                bool raiseToLLM);

/// Same as loadModel(path, context, true) but without compression: the
/// float model the compressed one is compared against.
OwningOpRef<ModuleOp> loadFloatModel(llvm::StringRef path,
                                     MLIRContext &context);

/// The compression flags of the command line, for the model at `path`.
CompressionOptions compressionOptionsFromFlags(llvm::StringRef path);

/// `microscale eval`'s flags.
struct EvalOptions {
  std::string model;
  std::string data;
  int64_t ctx = 0;
  bool json = false;
  bool csv = false;
  int runs = 3;
  /// Empty: a temporary folder, removed afterwards.
  std::string workDir;
  /// How both programs are compiled (target, runtime folder, sizes).
  CompileOptions compile;
};

/// Builds the float and the compressed program of `options.model` and
/// prints one row comparing them.
int runEval(MLIRContext &context, const EvalOptions &options,
            const CompressionOptions &compression);

} // namespace mlir::microscale::driver

#endif // MICROSCALE_TOOLS_MICROSCALE_DRIVER_H
