//===- MemoryPlan.h - static arena layout ------------------------*- C++
//-*-===//
//
// Part of the Microscale project.
//
// Generated programs allocate nothing at run time: every activation, scratch
// buffer and the KV cache live at offsets in one arena whose size the
// compiler knows. This planner packs buffers whose lifetimes do not overlap
// into the same bytes.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_CONVERSION_MEMORYPLAN_H
#define MICROSCALE_CONVERSION_MEMORYPLAN_H

#include "llvm/ADT/ArrayRef.h"

#include <cstdint>
#include <vector>

namespace mlir::microscale {

/// One buffer: its size and the first and last program step that use it
/// (inclusive). Buffers live at the same time iff their step ranges overlap.
struct BufferRequest {
  int64_t bytes;
  int64_t firstStep;
  int64_t lastStep;
};

struct MemoryPlan {
  std::vector<int64_t> offsets; // One per request, multiples of alignment.
  int64_t totalBytes = 0;
};

/// Greedy-by-size placement: largest buffers first, each at the lowest
/// aligned offset that does not overlap a placed buffer alive at the same
/// time. Deterministic for a given input.
MemoryPlan planMemory(llvm::ArrayRef<BufferRequest> requests,
                      int64_t alignment);

} // namespace mlir::microscale

#endif // MICROSCALE_CONVERSION_MEMORYPLAN_H
