//===- PrintWeights.cpp - list weights through their interface --*- C++ -*-===//
//
// Part of the Microscale project.
//
// A debugging pass and the test of `WeightUserOpInterface`: it asks for
// weights the way compression passes will (`findWeights` with roles and a
// layer) and prints what it gets.
//
//===----------------------------------------------------------------------===//

#include "microscale/Dialect/LLM/IR/LLMOps.h"
#include "microscale/Dialect/LLM/Transforms/Passes.h"

namespace mlir::microscale::llm {
#define GEN_PASS_DEF_PRINTWEIGHTSPASS
#include "microscale/Dialect/LLM/Transforms/Passes.h.inc"
} // namespace mlir::microscale::llm

using namespace mlir;
using namespace mlir::microscale;
using namespace mlir::microscale::llm;

namespace {

struct PrintWeightsPass
    : public llm::impl::PrintWeightsPassBase<PrintWeightsPass> {
  using PrintWeightsPassBase::PrintWeightsPassBase;

  void runOnOperation() override {
    SmallVector<WeightRole> wanted;
    for (const std::string &name : roles) {
      std::optional<WeightRole> role = symbolizeWeightRole(name);
      if (!role) {
        getOperation()->emitError("unknown weight role '") << name << "'";
        return signalPassFailure();
      }
      wanted.push_back(*role);
    }
    std::optional<int64_t> onlyLayer;
    if (layer >= 0)
      onlyLayer = layer;

    llvm::raw_ostream &os = llvm::outs();
    for (WeightRef ref : findWeights(getOperation(), wanted, onlyLayer)) {
      std::optional<int64_t> weightLayer = ref.user.getWeightLayer();
      if (weightLayer)
        os << "layer " << *weightLayer;
      else
        os << "layer -";
      WeightOp weight = getWeightOp(ref.use);
      os << " " << stringifyWeightRole(ref.use.role) << " '"
         << (weight ? weight.getName() : StringRef("?")) << "' "
         << ref.use.getType() << " in " << ref.user->getName() << "\n";
    }
    markAllAnalysesPreserved();
  }
};

} // namespace
