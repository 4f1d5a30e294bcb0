//===- Activations.h - 8-bit activation blocks -------------------*- C++
//-*-===//
//
// Part of the Microscale project.
//
// Formats ending in `_a8` multiply activations quantized in blocks of
// MS_ACT_BLOCK features (runtime/include/microscale/quant_activations.h
// defines the math, shared with the runtime kernels bit for bit). The
// reference interpreter replaces each block by what its codes stand for
// (d * q) before the float product: the same sums, in another order.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_QUANT_ACTIVATIONS_H
#define MICROSCALE_QUANT_ACTIVATIONS_H

#include "llvm/ADT/ArrayRef.h"

#include <cstdint>

namespace mlir::microscale::quant {

/// Features per activation block.
int64_t activationBlock();

/// Replaces each row of x ([rows, cols]) by its 8-bit blocks' values, d * q.
void fakeQuantizeActivations(llvm::MutableArrayRef<float> x, int64_t rows,
                             int64_t cols);

/// Floats of scratch an `_a8` kernel needs for `rows` rows of `cols`
/// features (runtime/include/microscale/kernels.def).
int64_t activationScratchFloats(int64_t rows, int64_t cols);

} // namespace mlir::microscale::quant

#endif // MICROSCALE_QUANT_ACTIVATIONS_H
