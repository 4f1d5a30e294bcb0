//===- MemoryPlan.cpp - static arena layout ---------------------*- C++ -*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#include "microscale/Conversion/MemoryPlan.h"

#include "llvm/ADT/STLExtras.h"

#include <algorithm>
#include <numeric>

using namespace mlir::microscale;

static int64_t alignTo(int64_t value, int64_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

MemoryPlan mlir::microscale::planMemory(llvm::ArrayRef<BufferRequest> requests,
                                        int64_t alignment) {
  MemoryPlan plan;
  plan.offsets.assign(requests.size(), 0);
  std::vector<size_t> order(requests.size());
  std::iota(order.begin(), order.end(), 0);
  // Largest first; ties by first use then index: a total order, so the
  // plan is deterministic.
  llvm::sort(order, [&](size_t a, size_t b) {
    if (requests[a].bytes != requests[b].bytes)
      return requests[a].bytes > requests[b].bytes;
    if (requests[a].firstStep != requests[b].firstStep)
      return requests[a].firstStep < requests[b].firstStep;
    return a < b;
  });

  std::vector<size_t> placed;
  for (size_t index : order) {
    const BufferRequest &request = requests[index];
    // Address ranges of placed buffers alive at the same time, by offset.
    std::vector<std::pair<int64_t, int64_t>> busy;
    for (size_t other : placed) {
      const BufferRequest &o = requests[other];
      if (o.lastStep < request.firstStep || request.lastStep < o.firstStep)
        continue;
      busy.push_back({plan.offsets[other], plan.offsets[other] + o.bytes});
    }
    llvm::sort(busy);
    int64_t offset = 0;
    for (auto [begin, end] : busy) {
      if (offset + request.bytes <= begin)
        break;
      offset = std::max(offset, alignTo(end, alignment));
    }
    plan.offsets[index] = offset;
    plan.totalBytes = std::max(plan.totalBytes, offset + request.bytes);
    placed.push_back(index);
  }
  plan.totalBytes = alignTo(plan.totalBytes, alignment);
  return plan;
}
