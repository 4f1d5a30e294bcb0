//===- ModelDescriptor.h - the `ms_model` descriptor ------------*- C++ -*-===//
//
// Part of the Microscale project.
//
// Generated programs carry `ms_model`, a struct ms_model_info (runtime.h)
// describing the compiled model. Its fields are listed once, in
// runtime/include/microscale/model_info.def; the C struct and the LLVM
// struct emitted here are both expanded from that list.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_TARGET_MODELDESCRIPTOR_H
#define MICROSCALE_TARGET_MODELDESCRIPTOR_H

#include "microscale/Dialect/LLM/IR/LLMDialect.h"

#include <cstdint>
#include <string>

namespace llvm {
class GlobalVariable;
class LLVMContext;
class Module;
class StructType;
} // namespace llvm

namespace mlir::microscale {

struct ProgramInfo;

/// The values of `ms_model`: one member per model_info.def field, named as
/// in the C struct.
struct ModelDescriptor {
#define MS_MODEL_INFO_INT(name, description) int64_t name = 0;
#define MS_MODEL_INFO_STRING(name, description) std::string name;
#include "microscale/model_info.def"
};

/// Sizes the lowering decided, which the module's llm.model does not hold.
struct ProgramSizes {
  int64_t maxContext = 0;
  int64_t maxTokens = 0;
  int64_t weightBytes = 0;
  int64_t arenaBytes = 0;
};

/// struct ms_model_info as an LLVM type: i64 for integers, a pointer for
/// strings, in model_info.def's order.
llvm::StructType *getModelInfoType(llvm::LLVMContext &context);

/// Defines the external constant `ms_model` in `module` with the values of
/// `descriptor`; strings become private constants.
llvm::GlobalVariable *defineModelDescriptor(llvm::Module &module,
                                            const ModelDescriptor &descriptor);

/// The descriptor of a program: the model's facts, the lowering's sizes,
/// `module`'s target triple and `info`.
ModelDescriptor describeProgram(llm::ModelAttr model, const ProgramSizes &sizes,
                                llvm::StringRef triple,
                                const ProgramInfo &info);

} // namespace mlir::microscale

#endif // MICROSCALE_TARGET_MODELDESCRIPTOR_H
