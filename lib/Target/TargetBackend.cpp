//===- TargetBackend.cpp - target machines and linking ----------*- C++ -*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#include "microscale/Target/Target.h"

#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

using namespace mlir;
using namespace mlir::microscale;

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

TargetBackend::~TargetBackend() = default;

llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
TargetBackend::createTargetMachine(const TargetOptions &options) const {
  std::string error;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return makeError("target '" + triple + "': " + error);
  if (options.optLevel > 3)
    return makeError("-O" + llvm::Twine(options.optLevel) +
                     " is not an optimization level (0, 1, 2 or 3)");
  std::string cpu = options.cpu.empty() ? "generic" : options.cpu;
  std::string features = options.features;
  if (cpu == "native") {
    cpu = llvm::sys::getHostCPUName().str();
    if (features.empty()) {
      for (auto &feature : llvm::sys::getHostCPUFeatures())
        features += (feature.second ? ",+" : ",-") + feature.first().str();
    }
  }
  // LLVM only warns about an unknown CPU and may abort later; ask first.
  std::unique_ptr<llvm::MCSubtargetInfo> subtarget(
      target->createMCSubtargetInfo(triple, "", ""));
  if (cpu != "generic" && subtarget && !subtarget->isCPUStringValid(cpu))
    return makeError("unknown CPU '" + cpu + "' for '" + triple +
                     "' (llc-19 -mtriple=" + triple +
                     " -mcpu=help lists the valid ones; 'native' is the "
                     "host's)");
  llvm::CodeGenOptLevel level =
      options.optLevel == 0   ? llvm::CodeGenOptLevel::None
      : options.optLevel == 1 ? llvm::CodeGenOptLevel::Less
      : options.optLevel == 2 ? llvm::CodeGenOptLevel::Default
                              : llvm::CodeGenOptLevel::Aggressive;
  llvm::TargetOptions targetOptions;
  std::unique_ptr<llvm::TargetMachine> machine(
      target->createTargetMachine(triple, cpu, features, targetOptions,
                                  llvm::Reloc::Static, std::nullopt, level));
  if (!machine)
    return makeError("cannot create a target machine for '" + triple + "'");
  return std::move(machine);
}

namespace {

/// Static Linux executables linked by clang's driver with lld. x86-64
/// programs use musl's static C library (a small fraction of glibc's);
/// other architectures use the target's glibc.
class LinuxStaticBackend : public TargetBackend {
public:
  explicit LinuxStaticBackend(std::string triple)
      : TargetBackend(std::move(triple)) {}

  std::string runtimeLibrary(llvm::StringRef runtimeDir) const override {
    llvm::SmallString<256> path(runtimeDir);
    llvm::sys::path::append(path, triple, "libmicroscale_runtime.a");
    return std::string(path);
  }

  llvm::Error linkExecutable(llvm::ArrayRef<std::string> objects,
                             llvm::StringRef runtimeLibrary,
                             llvm::StringRef output) const override {
    auto clang = llvm::sys::findProgramByName("clang-19");
    if (!clang)
      clang =
          llvm::sys::findProgramByName("clang-19", {"/usr/lib/llvm-19/bin"});
    if (!clang)
      return makeError("cannot find clang-19 to drive the link (install "
                       "clang-19 and lld-19)");
    if (!llvm::sys::fs::exists(runtimeLibrary))
      return makeError("runtime library for '" + triple + "' not found at '" +
                       runtimeLibrary + "'");
    std::vector<std::string> args = {
        *clang, "-static", "-fuse-ld=lld", "-Wl,--gc-sections",
        "-s",   "-o",      output.str()};
    llvm::Triple parsed(triple);
    if (parsed.getArch() == llvm::Triple::x86_64) {
      std::string musl =
          "/usr/lib/" + parsed.getArchName().str() + "-linux-musl/";
      if (!llvm::sys::fs::exists(musl + "libc.a"))
        return makeError("musl's static C library is missing (" + musl +
                         "libc.a): install musl-dev");
      args.push_back("--target=" + parsed.getArchName().str() + "-linux-musl");
      args.push_back("-nostdlib");
      args.push_back(musl + "crt1.o");
      args.push_back(musl + "crti.o");
      args.insert(args.end(), objects.begin(), objects.end());
      args.push_back(runtimeLibrary.str());
      args.push_back(musl + "libc.a");
      args.push_back(musl + "crtn.o");
    } else {
      args.push_back("--target=" + triple);
      args.insert(args.end(), objects.begin(), objects.end());
      args.push_back(runtimeLibrary.str());
      args.push_back("-lpthread");
      args.push_back("-lm");
    }
    llvm::SmallVector<llvm::StringRef> argRefs(args.begin(), args.end());
    std::string error;
    int status = llvm::sys::ExecuteAndWait(*clang, argRefs, std::nullopt, {}, 0,
                                           0, &error);
    if (status != 0)
      return makeError("link failed" + (error.empty() ? "" : ": " + error));
    return llvm::Error::success();
  }
};

} // namespace

llvm::Expected<std::unique_ptr<TargetBackend>>
mlir::microscale::getTargetBackend(const TargetOptions &options) {
  std::string tripleName = options.triple.empty()
                               ? llvm::sys::getDefaultTargetTriple()
                               : llvm::Triple::normalize(options.triple);
  llvm::Triple triple(tripleName);
  if (triple.isOSLinux() && (triple.getArch() == llvm::Triple::x86_64 ||
                             triple.getArch() == llvm::Triple::aarch64)) {
    // Canonical spelling, which also names the runtime library folder.
    std::string canonical = (triple.getArchName() + "-linux-gnu").str();
    return std::make_unique<LinuxStaticBackend>(canonical);
  }
  return makeError("unsupported target '" + tripleName +
                   "' (supported: x86_64-linux-gnu, aarch64-linux-gnu)");
}
