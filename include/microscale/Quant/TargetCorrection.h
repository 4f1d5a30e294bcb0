//===- TargetCorrection.h - quantize toward the float output ----*- C++ -*-===//
//
// Part of the Microscale project.
//
// When the matrices before a linear are already quantized, its input is X~,
// not the float model's X. What should be kept is the float *output*
// X W^T, so the linear's problem is
//
//   min_Q ||X~ Q^T - X W^T||^2
//     = tr((Q - W*) H~ (Q - W*)^T) + const,
//   H~ = X~^T X~,  C = X~^T X,  W* = W C^T H~^-1,
//
// i.e. quantizing the corrected target W* under H~ with any method of
// Calibrated.h (they all minimize tr(dW H dW^T)) also undoes the error the
// earlier quantized matrices left in this linear's input.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_QUANT_TARGETCORRECTION_H
#define MICROSCALE_QUANT_TARGETCORRECTION_H

#include "llvm/ADT/ArrayRef.h"

#include <cstdint>
#include <vector>

namespace mlir::microscale::quant {

/// Accumulates `tokens` rows of X~ and X (both [tokens, cols]) into
/// `cross` = X~^T X ([cols, cols], sized here when empty).
void accumulateCrossStatistics(std::vector<double> &cross,
                               llvm::ArrayRef<float> quantizedInput,
                               llvm::ArrayRef<float> floatInput, int64_t tokens,
                               int64_t cols);

/// W* = (W C^T + lambda W) (H~ + lambda I)^-1 for `weights` [rows, cols],
/// the minimizer of ||X~ Q^T - X W^T||^2 + lambda ||Q - W||^2, where lambda
/// is `dampening` times the mean of H~'s diagonal (a ridge toward W keeps
/// the solve stable on few or correlated tokens). Returns `weights` unchanged
/// when H~ is empty or not positive definite even after damping.
std::vector<float> correctTarget(llvm::ArrayRef<float> weights, int64_t rows,
                                 int64_t cols,
                                 llvm::ArrayRef<double> quantizedHessian,
                                 llvm::ArrayRef<double> cross,
                                 double dampening = 0.01);

} // namespace mlir::microscale::quant

#endif // MICROSCALE_QUANT_TARGETCORRECTION_H
