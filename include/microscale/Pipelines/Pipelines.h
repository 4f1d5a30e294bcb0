//===- Pipelines.h - the compile pipeline, reusable -------------*- C++ -*-===//
//
// Part of the Microscale project.
//
// The pass pipelines that take a raised `llm` module to the LLVM dialect,
// and `compile()`, which runs them and emits the requested artifact. The
// `microscale compile` driver, `microscale-opt` and any in-process caller
// (a sweep compiling many variants) share this one definition.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_PIPELINES_PIPELINES_H
#define MICROSCALE_PIPELINES_PIPELINES_H

#include "microscale/Target/Target.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassOptions.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>

namespace mlir {
class OpPassManager;
} // namespace mlir

namespace mlir::microscale {

/// Options of `microscale-compile-pipeline`, spelled as `microscale compile`
/// spells them.
struct CompilePipelineOptions
    : public PassPipelineOptions<CompilePipelineOptions> {
  Option<int64_t> maxTokens{*this, "max-tokens",
                            llvm::cl::desc("Most tokens per forward call"),
                            llvm::cl::init(64)};
  Option<int64_t> maxContext{
      *this, "max-context",
      llvm::cl::desc("KV-cache positions (0: the model's max_context)"),
      llvm::cl::init(0)};
  Option<unsigned> indexBitwidth{
      *this, "index-bitwidth",
      llvm::cl::desc("Bits of an index on the target (its pointer width)"),
      llvm::cl::init(64)};
};

/// Raised `llm` module -> `ms_forward` in upstream dialects plus runtime
/// kernel calls, with the arena planned (blocks are expanded first).
void buildLLMToStandardPipeline(OpPassManager &pm, int64_t maxTokens,
                                int64_t maxContext);

/// Upstream dialects -> the LLVM dialect, with `index` as wide as the
/// target's pointers and memrefs of static shape passed as bare pointers
/// (the runtime ABI is plain C).
void buildStandardToLLVMPipeline(OpPassManager &pm, unsigned indexBitwidth);

/// Both stages: what `microscale compile` runs before translation to LLVM IR.
void buildCompilePipeline(OpPassManager &pm,
                          const CompilePipelineOptions &options);

/// Registers `microscale-compile-pipeline` (and its two stages) for
/// `microscale-opt`.
void registerMicroscalePipelines();

/// What `compile()` produces.
enum class EmitKind { Executable, Object, Assembly, LLVMIR, MLIR };

/// Everything `compile()` needs besides the module.
struct CompileOptions {
  TargetOptions target;
  EmitKind emit = EmitKind::Executable;
  int64_t maxTokens = 64;
  int64_t maxContext = 0; // 0: the model's.
  /// Folder holding `<triple>/libmicroscale_runtime.a`.
  std::string runtimeDir;
  /// Folder the model's relative tokenizer path is resolved against (the
  /// module's `onnx.model_dir` wins when present).
  std::string modelDir;
  /// Recorded in the program's descriptor (`info` prints them).
  std::string buildFlags;
  std::string compression = "none";
  std::string version;
  std::string commit;
  std::string modelBlake3;
};

/// Sizes of the compiled program, as the lowering planned them.
struct CompileResult {
  int64_t weightBytes = 0;
  int64_t arenaBytes = 0;
  int64_t maxContext = 0;
  int64_t maxTokens = 0;
  bool hasTokenizer = false;
};

/// Compiles a raised module (consumed: it is lowered in place) into
/// `outputPath`. The file appears whole or not at all.
llvm::Expected<CompileResult> compile(ModuleOp module,
                                      const CompileOptions &options,
                                      llvm::StringRef outputPath);

} // namespace mlir::microscale

#endif // MICROSCALE_PIPELINES_PIPELINES_H
