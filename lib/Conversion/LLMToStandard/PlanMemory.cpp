//===- PlanMemory.cpp - one static arena for every buffer -------*- C++ -*-===//
//
// Part of the Microscale project.
//
// Gives every buffer of the program bytes in one arena global, `ms_arena`:
// the function's allocations (activations, scratch) at offsets chosen by the
// lifetime-aware planner of MemoryPlan.h, then the persistent globals (the
// KV caches), which keep their bytes across calls. Each allocation and each
// use of a persistent global becomes a `memref.view` into the arena, so the
// program allocates nothing at run time and its memory need is one number,
// known at compile time.
//
//===----------------------------------------------------------------------===//

#include "microscale/Conversion/MemoryPlan.h"
#include "microscale/Conversion/Passes.h"

#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/Support/MathExtras.h"

namespace mlir::microscale {
#define GEN_PASS_DEF_PLANMEMORYPASS
#include "microscale/Conversion/Passes.h.inc"
} // namespace mlir::microscale

using namespace mlir;
using namespace mlir::microscale;

namespace {

constexpr int64_t kArenaAlignment = 64;
/// The arena is one static global, addressed PC-relative in the small code
/// model: at most 2 GiB.
constexpr int64_t kMaxArenaBytes = INT32_MAX;
constexpr llvm::StringLiteral kArenaName = "ms_arena";

int64_t alignTo(int64_t value) {
  return (value + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
}

/// Bytes of a statically shaped memref; fails for one the arena cannot
/// hold (dynamic shape, non-identity layout).
FailureOr<int64_t> bytesOf(Operation *op, MemRefType type) {
  if (!type.hasStaticShape() || !type.getLayout().isIdentity() ||
      !type.getElementType().isIntOrFloat())
    return op->emitError("cannot place a buffer of type ")
           << type << " in the static arena: it needs a static shape, an "
           << "identity layout and integer or float elements";
  // Checked: a large --max-context makes KV caches of any size.
  int64_t bytes = (type.getElementTypeBitWidth() + 7) / 8;
  for (int64_t dim : type.getShape())
    if (llvm::MulOverflow(bytes, dim, bytes) || bytes > kMaxArenaBytes)
      return op->emitError("a buffer of type ")
             << type << " needs more than " << kMaxArenaBytes
             << " bytes, the arena's limit (lower --max-context or "
                "--max-tokens)";
  return bytes;
}

/// The first and last top-level op of `body` that use `buffer`, following
/// views of it.
BufferRequest lifetimeOf(Value buffer, int64_t bytes, Block &body,
                         const llvm::DenseMap<Operation *, int64_t> &steps) {
  int64_t definition =
      steps.lookup(body.findAncestorOpInBlock(*buffer.getDefiningOp()));
  BufferRequest request{bytes, definition, definition};
  bool used = false;
  SmallVector<Value> worklist{buffer};
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    for (Operation *user : value.getUsers()) {
      int64_t step = steps.lookup(body.findAncestorOpInBlock(*user));
      request.firstStep = used ? std::min(request.firstStep, step) : step;
      request.lastStep = used ? std::max(request.lastStep, step) : step;
      used = true;
      if (auto view = dyn_cast<ViewLikeOpInterface>(user))
        if (view.getViewSource() == value)
          worklist.append(user->result_begin(), user->result_end());
    }
  }
  return request;
}

/// Where each allocation and persistent global goes in the arena.
struct ArenaPlan {
  SmallVector<std::pair<Operation *, int64_t>> placements;
  int64_t size = 0;
};

bool allocates(func::FuncOp func) {
  return func.walk([](memref::AllocOp) { return WalkResult::interrupt(); })
      .wasInterrupted();
}

/// The one function with allocations, or null when there is none.
FailureOr<func::FuncOp> findPlannedFunction(ModuleOp module) {
  func::FuncOp planned;
  for (auto func : module.getOps<func::FuncOp>()) {
    if (func.isExternal() || !allocates(func))
      continue;
    if (planned)
      return func.emitError("the arena is planned for one function, but '")
             << planned.getName() << "' also allocates";
    if (!func.getBody().hasOneBlock())
      return func.emitError("memory planning needs a one-block function");
    planned = func;
  }
  return planned;
}

/// Places the function's allocations by lifetime at the start of the arena.
LogicalResult planAllocations(func::FuncOp func, ArenaPlan &plan) {
  Block &body = func.getBody().front();
  llvm::DenseMap<Operation *, int64_t> steps;
  for (Operation &op : body)
    steps[&op] = steps.size();
  SmallVector<memref::AllocOp> allocs;
  SmallVector<BufferRequest> requests;
  WalkResult walk = func.walk([&](memref::AllocOp alloc) {
    FailureOr<int64_t> bytes = bytesOf(alloc, alloc.getType());
    if (failed(bytes))
      return WalkResult::interrupt();
    allocs.push_back(alloc);
    requests.push_back(lifetimeOf(alloc, *bytes, body, steps));
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();
  MemoryPlan memoryPlan = planMemory(requests, kArenaAlignment);
  for (auto [alloc, offset] : llvm::zip(allocs, memoryPlan.offsets))
    plan.placements.push_back({alloc, offset});
  plan.size = memoryPlan.totalBytes;
  return success();
}

/// Persistent globals follow the planned buffers, each in its own bytes.
/// Only their get_global uses can become views.
LogicalResult planGlobals(ModuleOp module, ArenaPlan &plan) {
  for (auto global : module.getOps<memref::GlobalOp>()) {
    if (global.getConstant() || !global.isUninitialized())
      continue;
    FailureOr<int64_t> bytes = bytesOf(global, global.getType());
    if (failed(bytes))
      return failure();
    if (std::optional<SymbolTable::UseRange> uses =
            SymbolTable::getSymbolUses(global, module))
      for (SymbolTable::SymbolUse use : *uses)
        if (!isa<memref::GetGlobalOp>(use.getUser()))
          return use.getUser()->emitError("cannot place global '")
                 << global.getSymName()
                 << "' in the arena: it is used other than by get_global";
    plan.placements.push_back({global, plan.size});
    plan.size += alignTo(*bytes);
  }
  return success();
}

Value viewInArena(OpBuilder &builder, Location loc, MemRefType arenaType,
                  int64_t offset, MemRefType type) {
  Value arena = builder.create<memref::GetGlobalOp>(loc, arenaType, kArenaName);
  Value start = builder.create<arith::ConstantIndexOp>(loc, offset);
  return builder.create<memref::ViewOp>(loc, type, arena, start, ValueRange{});
}

/// Every placed allocation, and every use of a placed global, becomes a
/// view into the arena.
void replaceByViews(ModuleOp module, const ArenaPlan &plan,
                    MemRefType arenaType) {
  OpBuilder builder(module.getContext());
  for (auto [op, offset] : plan.placements) {
    if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
      // Arena bytes are never freed.
      for (Operation *user : llvm::make_early_inc_range(alloc->getUsers()))
        if (isa<memref::DeallocOp>(user))
          user->erase();
      builder.setInsertionPoint(alloc);
      alloc.replaceAllUsesWith(viewInArena(builder, alloc.getLoc(), arenaType,
                                           offset, alloc.getType()));
      alloc.erase();
      continue;
    }
    auto global = cast<memref::GlobalOp>(op);
    SmallVector<Operation *> users;
    if (std::optional<SymbolTable::UseRange> uses =
            SymbolTable::getSymbolUses(global, module))
      for (SymbolTable::SymbolUse use : *uses)
        users.push_back(use.getUser());
    for (Operation *user : users) {
      builder.setInsertionPoint(user);
      user->replaceAllUsesWith(ValueRange{viewInArena(
          builder, user->getLoc(), arenaType, offset, global.getType())});
      user->erase();
    }
    global.erase();
  }
}

struct PlanMemoryPass
    : public microscale::impl::PlanMemoryPassBase<PlanMemoryPass> {
  using PlanMemoryPassBase::PlanMemoryPassBase;
  void runOnOperation() override;
};

} // namespace

void PlanMemoryPass::runOnOperation() {
  ModuleOp module = getOperation();
  if (module.lookupSymbol(kArenaName)) {
    module.emitError("the module already has an arena '") << kArenaName << "'";
    return signalPassFailure();
  }
  ArenaPlan plan;
  FailureOr<func::FuncOp> func = findPlannedFunction(module);
  if (failed(func) || (*func && failed(planAllocations(*func, plan))) ||
      failed(planGlobals(module, plan)))
    return signalPassFailure();

  if (plan.size > kMaxArenaBytes) {
    module.emitError("the arena needs ")
        << plan.size << " bytes, more than its limit of " << kMaxArenaBytes
        << " (lower --max-context or --max-tokens)";
    return signalPassFailure();
  }
  OpBuilder builder = OpBuilder::atBlockBegin(module.getBody());
  auto arenaType = MemRefType::get({plan.size}, builder.getI8Type());
  builder.create<memref::GlobalOp>(module.getLoc(), kArenaName,
                                   builder.getStringAttr("private"), arenaType,
                                   builder.getUnitAttr(), /*constant=*/false,
                                   builder.getI64IntegerAttr(kArenaAlignment));
  replaceByViews(module, plan, arenaType);
  module->setAttr("ms.arena_bytes", builder.getI64IntegerAttr(plan.size));
}
