//===- Eval.cpp - `microscale eval` -----------------------------*- C++ -*-===//
//
// Part of the Microscale project.
//
// `microscale eval MODEL [compression flags] --data TEXT --ctx N` compiles
// the float model and the compressed model into two programs in a work
// folder, then measures what compression cost: both programs score the same
// ids (perplexity, and KL divergence and top-1 agreement of their next-token
// distributions, compared as they stream: EvalRun.cpp), each benchmarks
// itself at one thread, and the sizes come from the compiler. One row
// (EvalReport.h) is the result; a sweep repeats it.
//
//===----------------------------------------------------------------------===//

#include "Driver.h"
#include "EvalReport.h"
#include "EvalRun.h"

#include "microscale/Dialect/LLM/IR/LLMOps.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::microscale;
using namespace mlir::microscale::driver;

namespace {
/// Progress goes to stderr; the row alone goes to stdout.
llvm::raw_ostream &progress() { return llvm::errs() << "eval: "; }

/// Flags that need no model to be checked, checked before any compiling.
llvm::Error checkOptions(const EvalOptions &options) {
  if (options.ctx < 2)
    return llvm::createStringError("--ctx must be at least 2 (got %lld)",
                                   static_cast<long long>(options.ctx));
  if (options.runs < 1 || options.runs > 100)
    return llvm::createStringError("--runs must be between 1 and 100");
  if (options.json && options.csv)
    return llvm::createStringError("--json and --csv exclude each other");
  llvm::sys::fs::file_status status;
  if (std::error_code error = llvm::sys::fs::status(options.data, status))
    return llvm::createStringError("--data '" + options.data +
                                   "': " + error.message());
  if (status.type() != llvm::sys::fs::file_type::regular_file)
    return llvm::createStringError("--data '" + options.data +
                                   "' is not a regular file");
  int fd;
  if (std::error_code error = llvm::sys::fs::openFileForRead(options.data, fd))
    return llvm::createStringError("--data '" + options.data +
                                   "': " + error.message());
  llvm::sys::Process::SafelyCloseFileDescriptor(fd);
  if (status.getSize() == 0)
    return llvm::createStringError("--data '" + options.data + "' is empty");
  return llvm::Error::success();
}

/// Elements of all weight tensors: the denominator of bits per weight.
int64_t countWeightParameters(ModuleOp module) {
  int64_t count = 0;
  module.walk([&](llm::WeightOp weight) {
    count += cast<ShapedType>(weight.getType()).getNumElements();
  });
  return count;
}

/// A compiled program and its sizes.
struct BuiltProgram {
  EvalProgram program;
  int64_t weightBytes = 0, executableBytes = 0;
};

llvm::Expected<BuiltProgram> build(ModuleOp module,
                                   const CompileOptions &options,
                                   llvm::StringRef path, llvm::StringRef name) {
  auto result = compile(module, options, path);
  if (!result)
    return llvm::createStringError("cannot compile " + name + ": " +
                                   llvm::toString(result.takeError()));
  BuiltProgram built;
  built.program = {path.str(), name.str(), result->maxContext};
  built.weightBytes = result->weightBytes;
  uint64_t size = 0;
  if (std::error_code error = llvm::sys::fs::file_size(path, size))
    return llvm::createStringError(path + ": " + error.message());
  built.executableBytes = static_cast<int64_t>(size);
  return built;
}
} // namespace

namespace {
struct EvalPrograms {
  BuiltProgram floatProgram, compressedProgram;
  int64_t weightParameters = 0;
};

/// Compiles the float and the compressed program into `workDir`. Errors
/// are printed here.
std::optional<EvalPrograms> buildPrograms(MLIRContext &context,
                                          const EvalOptions &options,
                                          const CompressionOptions &compression,
                                          llvm::StringRef workDir) {
  EvalPrograms programs;
  auto pathOf = [&](llvm::StringRef file) {
    llvm::SmallString<256> path(workDir);
    llvm::sys::path::append(path, file);
    return std::string(path);
  };
  progress() << "compiling the float program\n";
  OwningOpRef<ModuleOp> floatModule = loadFloatModel(options.model, context);
  if (!floatModule)
    return std::nullopt;
  programs.weightParameters = countWeightParameters(*floatModule);
  CompileOptions floatOptions = options.compile;
  floatOptions.compression = "none";
  auto floatBuilt =
      build(*floatModule, floatOptions, pathOf("float"), "the float program");
  if (!floatBuilt)
    return fail(llvm::toString(floatBuilt.takeError())), std::nullopt;
  programs.floatProgram = std::move(*floatBuilt);
  floatModule = nullptr;
  int64_t maxContext = programs.floatProgram.program.maxContext;
  if (options.ctx > maxContext)
    return fail("--ctx " + llvm::Twine(options.ctx) +
                " exceeds the model's context of " + llvm::Twine(maxContext)),
           std::nullopt;

  progress() << "compressing (" << compression.describe()
             << ") and compiling the compressed program\n";
  OwningOpRef<ModuleOp> compressedModule =
      loadModel(options.model, context, /*raiseToLLM=*/true);
  if (!compressedModule)
    return std::nullopt;
  CompileOptions compressedOptions = options.compile;
  compressedOptions.compression = compression.describe();
  auto compressedBuilt = build(*compressedModule, compressedOptions,
                               pathOf("compressed"), "the compressed program");
  if (!compressedBuilt)
    return fail(llvm::toString(compressedBuilt.takeError())), std::nullopt;
  programs.compressedProgram = std::move(*compressedBuilt);
  return programs;
}

/// The folder programs are built in: `--work-dir` (kept) or a temporary
/// folder the caller removes.
llvm::Expected<std::string> makeWorkDir(const EvalOptions &options) {
  llvm::SmallString<256> path(options.workDir);
  std::error_code error =
      path.empty()
          ? llvm::sys::fs::createUniqueDirectory("microscale-eval", path)
          : llvm::sys::fs::create_directories(path);
  if (error)
    return llvm::createStringError("cannot create the work folder '" + path +
                                   "': " + error.message());
  return std::string(path);
}
} // namespace

int driver::runEval(MLIRContext &context, const EvalOptions &options,
                    const CompressionOptions &compression) {
  if (llvm::Error error = checkOptions(options))
    return fail(llvm::toString(std::move(error)));
  auto workDir = makeWorkDir(options);
  if (!workDir)
    return fail(llvm::toString(workDir.takeError()));
  auto removeWorkDir = llvm::make_scope_exit([&] {
    if (options.workDir.empty())
      llvm::sys::fs::remove_directories(*workDir);
  });

  std::optional<EvalPrograms> programs =
      buildPrograms(context, options, compression, *workDir);
  if (!programs)
    return 1;
  const EvalProgram &floatProgram = programs->floatProgram.program;
  const EvalProgram &compressedProgram = programs->compressedProgram.program;

  progress() << "scoring '" << options.data << "' with both programs\n";
  auto quality = compareQuality(floatProgram, compressedProgram, options.data,
                                options.ctx);
  if (!quality)
    return fail(llvm::toString(quality.takeError()));
  progress() << "benchmarking both programs at one thread\n";
  auto floatSpeed = benchProgram(floatProgram, options.runs);
  if (!floatSpeed)
    return fail(llvm::toString(floatSpeed.takeError()));
  auto compressedSpeed = benchProgram(compressedProgram, options.runs);
  if (!compressedSpeed)
    return fail(llvm::toString(compressedSpeed.takeError()));

  EvalRow row;
  row.model = options.model;
  row.compression = compression.describe();
  row.ctx = options.ctx;
  row.quality = *quality;
  row.floatWeightBytes = programs->floatProgram.weightBytes;
  row.compressedWeightBytes = programs->compressedProgram.weightBytes;
  row.weightParameters = programs->weightParameters;
  row.floatExecutableBytes = programs->floatProgram.executableBytes;
  row.compressedExecutableBytes = programs->compressedProgram.executableBytes;
  row.floatSpeed = *floatSpeed;
  row.compressedSpeed = *compressedSpeed;
  EvalFormat format = options.json  ? EvalFormat::JSON
                      : options.csv ? EvalFormat::CSV
                                    : EvalFormat::Table;
  printEvalRows(row, format, llvm::outs());
  return 0;
}
