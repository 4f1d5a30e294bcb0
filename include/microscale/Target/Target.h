//===- Target.h - code generation for one target ----------------*- C++ -*-===//
//
// Part of the Microscale project.
//
// Everything that depends on the target lives behind `TargetBackend`: the
// LLVM TargetMachine, the index width, and how objects become a program.
// Adding AArch64 Linux or Cortex-M means adding a backend, not changing the
// lowering.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_TARGET_TARGET_H
#define MICROSCALE_TARGET_TARGET_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"
#include "llvm/Target/TargetMachine.h"

#include <memory>
#include <string>
#include <vector>

namespace llvm {
class LLVMContext;
class Module;
} // namespace llvm

namespace mlir::microscale {

/// What the user asked for, shaped like clang's flags.
struct TargetOptions {
  std::string triple;   // Empty: the host.
  std::string cpu;      // Empty: generic; "native": the host CPU.
  std::string features; // LLVM feature string, e.g. "+avx2".
  unsigned optLevel = 2;
};

/// One code generation target.
class TargetBackend {
public:
  virtual ~TargetBackend();

  const std::string &getTriple() const { return triple; }

  /// The LLVM TargetMachine emitting objects for this target.
  virtual llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
  createTargetMachine(const TargetOptions &options) const;

  /// Links `objects` and the target's runtime library into a statically
  /// linked executable at `output`.
  virtual llvm::Error linkExecutable(llvm::ArrayRef<std::string> objects,
                                     llvm::StringRef runtimeLibrary,
                                     llvm::StringRef output) const = 0;

  /// Path of this target's runtime library under `runtimeDir`.
  virtual std::string runtimeLibrary(llvm::StringRef runtimeDir) const = 0;

protected:
  explicit TargetBackend(std::string triple) : triple(std::move(triple)) {}
  std::string triple;
};

/// The backend for `options.triple` (the host when empty), or an error
/// naming the unsupported triple.
llvm::Expected<std::unique_ptr<TargetBackend>>
getTargetBackend(const TargetOptions &options);

/// Facts the generated `ms_model` descriptor carries besides the module's.
struct ProgramInfo {
  std::string compression = "none";
  std::string buildFlags;
  /// The compiler's identity (microscale/Version.h).
  std::string version;
  std::string commit;
  /// BLAKE3 of the model file's bytes, in hex.
  std::string modelBlake3;
};

/// Translates a module `microscale-compile-pipeline` lowered to the LLVM
/// dialect, adds the `ms_model` descriptor and the tokenizer blob, and
/// optimizes it for `machine`. Strips the module's own attributes.
llvm::Expected<std::unique_ptr<llvm::Module>>
translateProgram(ModuleOp module, llvm::LLVMContext &context,
                 llvm::TargetMachine &machine, const ProgramInfo &info,
                 llvm::ArrayRef<uint8_t> tokenizerBlob, unsigned optLevel);

/// Writes `module` as an object file (or assembly) through `machine`.
llvm::Error emitObject(llvm::Module &module, llvm::TargetMachine &machine,
                       llvm::raw_pwrite_stream &os, bool assembly = false);

} // namespace mlir::microscale

#endif // MICROSCALE_TARGET_TARGET_H
