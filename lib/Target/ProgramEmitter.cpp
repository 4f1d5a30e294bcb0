//===- ProgramEmitter.cpp - lowered module to an object file ----*- C++ -*-===//
//
// Part of the Microscale project.
//
// Takes the module `microscale-compile-pipeline` produced (the LLVM
// dialect plus the facts the lowering recorded), translates it to LLVM IR,
// adds the data
// the runtime reads (the `ms_model` descriptor and the tokenizer blob),
// optimizes for the target and emits an object.
//
//===----------------------------------------------------------------------===//

#include "microscale/Dialect/LLM/IR/LLMDialect.h"
#include "microscale/Target/Target.h"

#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/GlobalVariable.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/Passes/PassBuilder.h"

using namespace mlir;
using namespace mlir::microscale;

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

static int64_t intAttr(ModuleOp module, StringRef name) {
  auto attr = module->getAttrOfType<IntegerAttr>(name);
  return attr ? attr.getInt() : 0;
}

/// A private constant C string, as a pointer.
static llvm::Constant *cString(llvm::Module &module, StringRef text) {
  auto *data = llvm::ConstantDataArray::getString(module.getContext(), text);
  auto *global = new llvm::GlobalVariable(
      module, data->getType(), /*isConstant=*/true,
      llvm::GlobalValue::PrivateLinkage, data, "ms_str");
  global->setUnnamedAddr(llvm::GlobalValue::UnnamedAddr::Global);
  return global;
}

llvm::Expected<std::unique_ptr<llvm::Module>>
mlir::microscale::translateProgram(ModuleOp module, llvm::LLVMContext &context,
                                   llvm::TargetMachine &machine,
                                   const ProgramInfo &info,
                                   llvm::ArrayRef<uint8_t> tokenizerBlob,
                                   unsigned optLevel) {
  auto model = module->getAttrOfType<llm::ModelAttr>(llm::kModelAttrName);
  if (!model || !module->hasAttr("ms.arena_bytes"))
    return makeError("module is not lowered by convert-llm-to-standard");
  int64_t arenaBytes = intAttr(module, "ms.arena_bytes");
  int64_t weightBytes = intAttr(module, "ms.weight_bytes");
  int64_t maxTokens = intAttr(module, "ms.max_tokens");
  int64_t maxContext = intAttr(module, "ms.max_context");
  // The LLVM translation accepts no foreign module attributes.
  for (NamedAttribute attr : llvm::to_vector(module->getAttrs()))
    module->removeAttr(attr.getName());

  llvm::DataLayout dataLayout = machine.createDataLayout();
  registerBuiltinDialectTranslation(*module.getContext());
  registerLLVMDialectTranslation(*module.getContext());
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, context, "microscale_model");
  if (!llvmModule)
    return makeError("translation to LLVM IR failed");
  llvmModule->setDataLayout(dataLayout);
  llvmModule->setTargetTriple(machine.getTargetTriple().str());

  // The descriptor `ms_model` (struct ms_model_info in runtime.h).
  llvm::Type *i64 = llvm::Type::getInt64Ty(context);
  llvm::Type *ptr = llvm::PointerType::getUnqual(context);
  SmallVector<llvm::Type *> fields(12, i64);
  fields.append(4, ptr);
  auto *infoType = llvm::StructType::create(context, fields, "ms_model_info");
  auto number = [&](int64_t v) { return llvm::ConstantInt::get(i64, v); };
  SmallVector<llvm::Constant *> values = {
      number(model.getVocabSize()),
      number(model.getHiddenSize()),
      number(model.getNumLayers()),
      number(model.getNumHeads()),
      number(model.getNumKvHeads()),
      number(model.getHeadDim()),
      number(maxContext),
      number(maxTokens),
      number(model.getBosId()),
      number(model.getEosId()),
      number(weightBytes),
      number(arenaBytes),
      cString(*llvmModule, model.getArch()),
      cString(*llvmModule, machine.getTargetTriple().str()),
      cString(*llvmModule, info.compression),
      cString(*llvmModule, info.buildFlags)};
  new llvm::GlobalVariable(*llvmModule, infoType, /*isConstant=*/true,
                           llvm::GlobalValue::ExternalLinkage,
                           llvm::ConstantStruct::get(infoType, values),
                           "ms_model");

  auto *blob = llvm::ConstantDataArray::get(context, tokenizerBlob);
  auto *blobGlobal = new llvm::GlobalVariable(
      *llvmModule, blob->getType(), /*isConstant=*/true,
      llvm::GlobalValue::ExternalLinkage, blob, "ms_tokenizer_blob");
  blobGlobal->setAlignment(llvm::Align(8));
  new llvm::GlobalVariable(
      *llvmModule, i64, /*isConstant=*/true, llvm::GlobalValue::ExternalLinkage,
      number(tokenizerBlob.size()), "ms_tokenizer_blob_size");

  // Optimize the generated loops for the target.
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder passBuilder(&machine);
  passBuilder.registerModuleAnalyses(mam);
  passBuilder.registerCGSCCAnalyses(cgam);
  passBuilder.registerFunctionAnalyses(fam);
  passBuilder.registerLoopAnalyses(lam);
  passBuilder.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::OptimizationLevel level = optLevel == 0   ? llvm::OptimizationLevel::O0
                                  : optLevel == 1 ? llvm::OptimizationLevel::O1
                                  : optLevel == 2 ? llvm::OptimizationLevel::O2
                                                  : llvm::OptimizationLevel::O3;
  llvm::ModulePassManager modulePasses =
      level == llvm::OptimizationLevel::O0
          ? passBuilder.buildO0DefaultPipeline(level)
          : passBuilder.buildPerModuleDefaultPipeline(level);
  modulePasses.run(*llvmModule, mam);
  return std::move(llvmModule);
}

llvm::Error mlir::microscale::emitObject(llvm::Module &module,
                                         llvm::TargetMachine &machine,
                                         llvm::raw_pwrite_stream &os,
                                         bool assembly) {
  llvm::legacy::PassManager passes;
  if (machine.addPassesToEmitFile(passes, os, nullptr,
                                  assembly ? llvm::CodeGenFileType::AssemblyFile
                                           : llvm::CodeGenFileType::ObjectFile))
    return makeError("the target cannot emit this file type");
  passes.run(module);
  return llvm::Error::success();
}
