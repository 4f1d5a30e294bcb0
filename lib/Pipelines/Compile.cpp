//===- Compile.cpp - the compile() API --------------------------*- C++ -*-===//
//
// Part of the Microscale project.
//
// Runs the compile pipeline on a raised module and writes one artifact: the
// lowered `.mlir`, LLVM IR, assembly, an object, or a static executable
// linked with the target's runtime. Every file is written through a
// temporary and renamed, so a failure never leaves a partial output.
//
//===----------------------------------------------------------------------===//

#include "microscale/Dialect/LLM/IR/LLMDialect.h"
#include "microscale/Pipelines/Pipelines.h"
#include "microscale/Tokenizer/TokenizerTables.h"

#include "mlir/IR/AsmState.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>

using namespace mlir;
using namespace mlir::microscale;

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Writes `emit` to `path` through a temporary file in the same folder.
static llvm::Error
writeAtomically(llvm::StringRef path,
                llvm::function_ref<llvm::Error(llvm::StringRef)> emit) {
  llvm::SmallString<256> temporary;
  if (std::error_code ec =
          llvm::sys::fs::createUniqueFile(path + ".tmp-%%%%%%", temporary))
    return llvm::createStringError(ec, "cannot create '" + path +
                                           "': " + ec.message());
  if (llvm::Error error = emit(temporary)) {
    llvm::sys::fs::remove(temporary);
    return error;
  }
  if (std::error_code ec = llvm::sys::fs::rename(temporary, path)) {
    llvm::sys::fs::remove(temporary);
    return llvm::createStringError(ec, "cannot write '" + path +
                                           "': " + ec.message());
  }
  return llvm::Error::success();
}

/// Opens `path` for writing and lets `write` fill it.
static llvm::Error
writeFile(llvm::StringRef path,
          llvm::function_ref<llvm::Error(llvm::raw_pwrite_stream &)> write) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec)
    return llvm::createStringError(ec, "cannot write '" + path +
                                           "': " + ec.message());
  return write(os);
}

/// Writes `path` whole or not at all; "-" is stdout, written as it goes.
static llvm::Error writeFileAtomically(
    llvm::StringRef path,
    llvm::function_ref<llvm::Error(llvm::raw_pwrite_stream &)> write) {
  if (path == "-")
    return writeFile(path, write);
  return writeAtomically(path, [&](llvm::StringRef temporary) {
    return writeFile(temporary, write);
  });
}

/// The tokenizer tables of the tokenizer recorded at raising (relative to
/// the model's folder), checked against the model's vocabulary; empty when
/// the model records none.
static llvm::Expected<std::vector<uint8_t>>
loadTokenizerBlob(ModuleOp module, llm::ModelAttr model,
                  const CompileOptions &options) {
  if (model.getTokenizer().empty())
    return std::vector<uint8_t>();
  auto dir = module->getAttrOfType<StringAttr>("onnx.model_dir");
  return buildModelTokenizerBlob(model.getTokenizer(),
                                 dir ? dir.getValue()
                                     : llvm::StringRef(options.modelDir),
                                 model.getVocabSize());
}

/// Reads the sizes the lowering recorded on the module.
static CompileResult readPlannedSizes(ModuleOp module) {
  auto fact = [&](llvm::StringRef name) -> int64_t {
    auto attr = module->getAttrOfType<IntegerAttr>(name);
    return attr ? attr.getInt() : 0;
  };
  CompileResult result;
  result.weightBytes = fact("ms.weight_bytes");
  result.arenaBytes = fact("ms.arena_bytes");
  result.maxContext = fact("ms.max_context");
  result.maxTokens = fact("ms.max_tokens");
  return result;
}

static llvm::Error
runPipeline(ModuleOp module, llvm::function_ref<void(OpPassManager &)> build) {
  PassManager pm(module.getContext());
  // --mlir-print-ir-after-all and friends reach every pipeline.
  if (failed(applyPassManagerCLOptions(pm)))
    return makeError("invalid pass manager options");
  build(pm);
  if (failed(pm.run(module)))
    return makeError("lowering failed");
  return llvm::Error::success();
}

/// Emits the object for `llvmModule` and links it with the runtime.
static llvm::Error linkProgram(llvm::Module &llvmModule,
                               llvm::TargetMachine &machine,
                               const TargetBackend &backend,
                               const CompileOptions &options,
                               llvm::StringRef outputPath) {
  return writeAtomically(outputPath, [&](llvm::StringRef path) -> llvm::Error {
    llvm::SmallString<256> object;
    if (std::error_code ec =
            llvm::sys::fs::createTemporaryFile("microscale", "o", object))
      return llvm::createStringError(ec, "cannot create a temporary file: " +
                                             ec.message());
    llvm::FileRemover removeObject(object);
    if (llvm::Error e = writeFile(object, [&](llvm::raw_pwrite_stream &os) {
          return emitObject(llvmModule, machine, os);
        }))
      return e;
    return backend.linkExecutable({std::string(object)},
                                  backend.runtimeLibrary(options.runtimeDir),
                                  path);
  });
}

llvm::Expected<CompileResult>
mlir::microscale::compile(ModuleOp module, const CompileOptions &options,
                          llvm::StringRef outputPath) {
  auto model = module->getAttrOfType<llm::ModelAttr>(llm::kModelAttrName);
  if (!model)
    return makeError("not a raised model (no #llm.model)");
  if (options.maxTokens < 1)
    return makeError("--max-tokens must be positive");

  if (options.emit == EmitKind::MLIR) {
    if (llvm::Error e = runPipeline(module, [&](OpPassManager &pm) {
          buildLLMToStandardPipeline(pm, options.maxTokens, options.maxContext);
        }))
      return std::move(e);
    CompileResult result = readPlannedSizes(module);
    if (llvm::Error e = writeFileAtomically(
            outputPath, [&](llvm::raw_pwrite_stream &os) -> llvm::Error {
              OpPrintingFlags flags;
              flags.elideLargeResourceString(64);
              module->print(os, flags);
              return llvm::Error::success();
            }))
      return std::move(e);
    return result;
  }

  // Target errors come before any work.
  auto backend = getTargetBackend(options.target);
  if (!backend)
    return backend.takeError();
  auto machine = (*backend)->createTargetMachine(options.target);
  if (!machine)
    return machine.takeError();
  auto tokenizerBlob = loadTokenizerBlob(module, model, options);
  if (!tokenizerBlob)
    return tokenizerBlob.takeError();

  CompilePipelineOptions pipelineOptions;
  pipelineOptions.maxTokens = options.maxTokens;
  pipelineOptions.maxContext = options.maxContext;
  pipelineOptions.indexBitwidth =
      (*machine)->createDataLayout().getPointerSizeInBits();
  if (llvm::Error e = runPipeline(module, [&](OpPassManager &pm) {
        buildCompilePipeline(pm, pipelineOptions);
      }))
    return std::move(e);
  CompileResult result = readPlannedSizes(module);
  result.hasTokenizer = !tokenizerBlob->empty();

  ProgramInfo info;
  info.compression = options.compression;
  info.buildFlags = options.buildFlags;
  info.version = options.version;
  info.commit = options.commit;
  info.modelBlake3 = options.modelBlake3;
  llvm::LLVMContext llvmContext;
  auto llvmModule = translateProgram(module, llvmContext, **machine, info,
                                     *tokenizerBlob, options.target.optLevel);
  if (!llvmModule)
    return llvmModule.takeError();

  llvm::Error error = llvm::Error::success();
  switch (options.emit) {
  case EmitKind::LLVMIR:
    error = writeFileAtomically(
        outputPath, [&](llvm::raw_pwrite_stream &os) -> llvm::Error {
          (*llvmModule)->print(os, nullptr);
          return llvm::Error::success();
        });
    break;
  case EmitKind::Object:
  case EmitKind::Assembly:
    error = writeFileAtomically(outputPath, [&](llvm::raw_pwrite_stream &os) {
      return emitObject(**llvmModule, **machine, os,
                        options.emit == EmitKind::Assembly);
    });
    break;
  case EmitKind::Executable:
  case EmitKind::MLIR:
    error =
        linkProgram(**llvmModule, **machine, **backend, options, outputPath);
    break;
  }
  if (error)
    return std::move(error);
  return result;
}
