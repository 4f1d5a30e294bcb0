//===- MemoryPlanTest.cpp - static arena planning ---------------*- C++ -*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#include "microscale/Conversion/MemoryPlan.h"

#include <gtest/gtest.h>

using namespace mlir::microscale;

namespace {

/// True if two placed buffers alive at the same time share bytes.
bool overlaps(const BufferRequest &a, int64_t offsetA, const BufferRequest &b,
              int64_t offsetB) {
  bool together = !(a.lastStep < b.firstStep || b.lastStep < a.firstStep);
  bool sameBytes = offsetA < offsetB + b.bytes && offsetB < offsetA + a.bytes;
  return together && sameBytes;
}

void expectValid(const std::vector<BufferRequest> &requests,
                 const MemoryPlan &plan, int64_t alignment) {
  ASSERT_EQ(plan.offsets.size(), requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    EXPECT_EQ(plan.offsets[i] % alignment, 0) << "buffer " << i;
    EXPECT_LE(plan.offsets[i] + requests[i].bytes, plan.totalBytes);
    for (size_t j = i + 1; j < requests.size(); ++j)
      EXPECT_FALSE(
          overlaps(requests[i], plan.offsets[i], requests[j], plan.offsets[j]))
          << "buffers " << i << " and " << j;
  }
}

TEST(MemoryPlan, DisjointLifetimesShareBytes) {
  std::vector<BufferRequest> requests = {{100, 0, 1}, {100, 2, 3}, {100, 4, 5}};
  MemoryPlan plan = planMemory(requests, 64);
  expectValid(requests, plan, 64);
  EXPECT_EQ(plan.totalBytes, 128);
}

TEST(MemoryPlan, OverlappingLifetimesGetDistinctBytes) {
  std::vector<BufferRequest> requests = {{100, 0, 2}, {50, 1, 3}, {70, 2, 2}};
  MemoryPlan plan = planMemory(requests, 16);
  expectValid(requests, plan, 16);
  EXPECT_EQ(plan.totalBytes, 112 + 64 + 80);
}

TEST(MemoryPlan, ResidualStreamPattern) {
  // x0 lives through a block whose temporaries come and go.
  std::vector<BufferRequest> requests = {{256, 0, 6}, {256, 1, 2}, {512, 2, 3},
                                         {256, 3, 4}, {256, 4, 6}, {1024, 5, 5},
                                         {256, 6, 7}};
  MemoryPlan plan = planMemory(requests, 64);
  expectValid(requests, plan, 64);
  // Never more than the peak of simultaneously live bytes plus alignment.
  EXPECT_LE(plan.totalBytes, 256 + 256 + 1024 + 256);
}

TEST(MemoryPlan, Deterministic) {
  std::vector<BufferRequest> requests;
  for (int i = 0; i < 50; ++i)
    requests.push_back({int64_t(64 * (1 + (i * 7) % 5)), i, i + (i % 3)});
  MemoryPlan first = planMemory(requests, 64);
  MemoryPlan second = planMemory(requests, 64);
  expectValid(requests, first, 64);
  EXPECT_EQ(first.offsets, second.offsets);
  EXPECT_EQ(first.totalBytes, second.totalBytes);
}

} // namespace
