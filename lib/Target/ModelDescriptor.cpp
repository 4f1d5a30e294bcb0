//===- ModelDescriptor.cpp - the `ms_model` descriptor ----------*- C++ -*-===//
//
// Part of the Microscale project.
//
// Expands model_info.def, the list runtime.h's struct ms_model_info is
// expanded from too, into the LLVM struct type and constant of `ms_model`:
// a field added to the list is a field of both, in the same place.
//
//===----------------------------------------------------------------------===//

#include "microscale/Target/ModelDescriptor.h"
#include "microscale/Target/Target.h"

#include "llvm/IR/Constants.h"
#include "llvm/IR/GlobalVariable.h"
#include "llvm/IR/Module.h"

using namespace mlir;
using namespace mlir::microscale;

static constexpr llvm::StringLiteral kTypeName = "ms_model_info";

llvm::StructType *
mlir::microscale::getModelInfoType(llvm::LLVMContext &context) {
  if (auto *existing = llvm::StructType::getTypeByName(context, kTypeName))
    return existing;
  llvm::Type *i64 = llvm::Type::getInt64Ty(context);
  llvm::Type *ptr = llvm::PointerType::getUnqual(context);
  llvm::SmallVector<llvm::Type *> fields = {
#define MS_MODEL_INFO_INT(name, description) i64,
#define MS_MODEL_INFO_STRING(name, description) ptr,
#include "microscale/model_info.def"
  };
  return llvm::StructType::create(context, fields, kTypeName);
}

/// A private constant C string, as a pointer.
static llvm::Constant *cString(llvm::Module &module, llvm::StringRef text) {
  auto *data = llvm::ConstantDataArray::getString(module.getContext(), text);
  auto *global = new llvm::GlobalVariable(
      module, data->getType(), /*isConstant=*/true,
      llvm::GlobalValue::PrivateLinkage, data, "ms_str");
  global->setUnnamedAddr(llvm::GlobalValue::UnnamedAddr::Global);
  return global;
}

llvm::GlobalVariable *
mlir::microscale::defineModelDescriptor(llvm::Module &module,
                                        const ModelDescriptor &descriptor) {
  llvm::LLVMContext &context = module.getContext();
  llvm::Type *i64 = llvm::Type::getInt64Ty(context);
  llvm::SmallVector<llvm::Constant *> values = {
#define MS_MODEL_INFO_INT(name, description)                                   \
  llvm::ConstantInt::get(i64, descriptor.name),
#define MS_MODEL_INFO_STRING(name, description)                                \
  cString(module, descriptor.name),
#include "microscale/model_info.def"
  };
  llvm::StructType *type = getModelInfoType(context);
  return new llvm::GlobalVariable(
      module, type, /*isConstant=*/true, llvm::GlobalValue::ExternalLinkage,
      llvm::ConstantStruct::get(type, values), "ms_model");
}

ModelDescriptor mlir::microscale::describeProgram(llm::ModelAttr model,
                                                  const ProgramSizes &sizes,
                                                  llvm::StringRef triple,
                                                  const ProgramInfo &info) {
  ModelDescriptor d;
  d.vocab_size = model.getVocabSize();
  d.hidden_size = model.getHiddenSize();
  d.num_layers = model.getNumLayers();
  d.num_heads = model.getNumHeads();
  d.num_kv_heads = model.getNumKvHeads();
  d.head_dim = model.getHeadDim();
  d.max_context = sizes.maxContext;
  d.max_tokens = sizes.maxTokens;
  d.bos_id = model.getBosId();
  d.eos_id = model.getEosId();
  d.weight_bytes = sizes.weightBytes;
  d.arena_bytes = sizes.arenaBytes;
  d.arch = model.getArch().str();
  d.target = triple.str();
  d.compression = info.compression;
  d.build_flags = info.buildFlags;
  d.microscale_version = info.version;
  d.microscale_commit = info.commit;
  d.model_blake3 = info.modelBlake3;
  return d;
}
