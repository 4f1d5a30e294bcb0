//===- Activations.cpp - 8-bit activation blocks
//---------------------------===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#include "microscale/Quant/Activations.h"

#include "microscale/quant_activations.h"

#include <algorithm>
#include <cassert>

using namespace mlir::microscale;

int64_t quant::activationBlock() { return MS_ACT_BLOCK; }

void quant::fakeQuantizeActivations(llvm::MutableArrayRef<float> x,
                                    int64_t rows, int64_t cols) {
  assert(static_cast<int64_t>(x.size()) >= rows * cols && "x too short");
  int8_t codes[MS_ACT_BLOCK];
  for (int64_t r = 0; r < rows; ++r) {
    float *row = x.data() + r * cols;
    for (int64_t begin = 0; begin < cols; begin += MS_ACT_BLOCK) {
      int64_t n = std::min<int64_t>(MS_ACT_BLOCK, cols - begin);
      float scale = ms_quantize_activation_block(row + begin, n, codes);
      for (int64_t i = 0; i < n; ++i)
        row[begin + i] = scale * static_cast<float>(codes[i]);
    }
  }
}

int64_t quant::activationScratchFloats(int64_t rows, int64_t cols) {
  return MS_ACT_SCRATCH_FLOATS(rows, cols);
}
