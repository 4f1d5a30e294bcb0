//===- ModelDescriptorTest.cpp - ms_model in C and in LLVM IR ---*- C++ -*-===//
//
// Part of the Microscale project.
//
// The compiler emits `ms_model` as an LLVM struct and the runtime reads it
// as struct ms_model_info; both are expanded from model_info.def. These
// tests check that the expansions agree where it matters: every field at
// the offset the C compiler gives it, on this host and on a 32-bit target,
// with the value the emitter was given.
//
//===----------------------------------------------------------------------===//

#include "microscale/Target/ModelDescriptor.h"
#include "microscale/runtime.h"

#include "llvm/IR/Constants.h"
#include "llvm/IR/DataLayout.h"
#include "llvm/IR/GlobalVariable.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <vector>

using namespace mlir::microscale;

namespace {

/// Offsets of the C struct's fields, in model_info.def's order.
const std::vector<size_t> cOffsets = {
#define MS_MODEL_INFO_INT(name, description) offsetof(ms_model_info, name),
#define MS_MODEL_INFO_STRING(name, description) offsetof(ms_model_info, name),
#include "microscale/model_info.def"
};

TEST(ModelDescriptor, LayoutMatchesTheHostCStruct) {
  llvm::LLVMContext context;
  llvm::StructType *type = getModelInfoType(context);
  // x86-64 and AArch64 Linux lay out i64 and pointers alike.
  llvm::DataLayout layout("e-m:e-i64:64-i128:128-n32:64-S128");
  ASSERT_EQ(cOffsets.size(), type->getNumElements());
  const llvm::StructLayout *fields = layout.getStructLayout(type);
  for (unsigned i = 0; i < cOffsets.size(); ++i)
    EXPECT_EQ(cOffsets[i], fields->getElementOffset(i)) << "field " << i;
  EXPECT_EQ(sizeof(ms_model_info), fields->getSizeInBytes());
}

TEST(ModelDescriptor, IntegersStayEightBytesOnThirtyTwoBitTargets) {
  // Cortex-M (ARM EABI): 4-byte pointers, 8-byte aligned int64_t.
  llvm::LLVMContext context;
  llvm::StructType *type = getModelInfoType(context);
  llvm::DataLayout layout(
      "e-m:e-p:32:32-Fi8-i64:64-v128:64:128-a:0:32-n32-S64");
  const llvm::StructLayout *fields = layout.getStructLayout(type);
  uint64_t offset = 0;
  unsigned i = 0;
#define MS_MODEL_INFO_INT(name, description)                                   \
  EXPECT_EQ(offset, fields->getElementOffset(i++)) << #name;                   \
  offset += 8;
#define MS_MODEL_INFO_STRING(name, description)                                \
  EXPECT_EQ(offset, fields->getElementOffset(i++)) << #name;                   \
  offset += 4;
#include "microscale/model_info.def"
  // The struct ends padded to its int64_t alignment.
  EXPECT_EQ(llvm::alignTo(offset, 8), fields->getSizeInBytes());
}

TEST(ModelDescriptor, DefinesMsModelWithTheGivenValues) {
  llvm::LLVMContext context;
  llvm::Module module("descriptor", context);
  ModelDescriptor descriptor;
  descriptor.vocab_size = 512;
  descriptor.eos_id = -1;
  descriptor.arena_bytes = int64_t(1) << 40; // beyond 32 bits
  descriptor.arch = "llama";
  descriptor.build_flags = "--opt 3";
  descriptor.model_blake3 = "ab01";
  llvm::GlobalVariable *global = defineModelDescriptor(module, descriptor);
  ASSERT_EQ(global, module.getNamedGlobal("ms_model"));
  EXPECT_TRUE(global->isConstant());
  EXPECT_EQ(llvm::GlobalValue::ExternalLinkage, global->getLinkage());
  auto *value = llvm::cast<llvm::ConstantStruct>(global->getInitializer());
  auto integer = [&](size_t offset) {
    for (unsigned i = 0; i < cOffsets.size(); ++i)
      if (cOffsets[i] == offset)
        return llvm::cast<llvm::ConstantInt>(value->getOperand(i))
            ->getSExtValue();
    ADD_FAILURE() << "no field at offset " << offset;
    return int64_t(0);
  };
  auto string = [&](size_t offset) {
    for (unsigned i = 0; i < cOffsets.size(); ++i)
      if (cOffsets[i] == offset) {
        auto *text = llvm::cast<llvm::GlobalVariable>(value->getOperand(i));
        // LLVM folds "" (one NUL byte) into zeroinitializer.
        if (text->getInitializer()->isNullValue())
          return std::string();
        return llvm::cast<llvm::ConstantDataArray>(text->getInitializer())
            ->getAsCString()
            .str();
      }
    ADD_FAILURE() << "no field at offset " << offset;
    return std::string();
  };
  EXPECT_EQ(512, integer(offsetof(ms_model_info, vocab_size)));
  EXPECT_EQ(-1, integer(offsetof(ms_model_info, eos_id)));
  EXPECT_EQ(int64_t(1) << 40, integer(offsetof(ms_model_info, arena_bytes)));
  EXPECT_EQ(0, integer(offsetof(ms_model_info, num_layers)));
  EXPECT_EQ("llama", string(offsetof(ms_model_info, arch)));
  EXPECT_EQ("--opt 3", string(offsetof(ms_model_info, build_flags)));
  EXPECT_EQ("", string(offsetof(ms_model_info, compression)));
  EXPECT_EQ("ab01", string(offsetof(ms_model_info, model_blake3)));
}

} // namespace
