//===- ActivationScaling.h - fold input scales into producers ---*- C++ -*-===//
//
// Part of the Microscale project.
//
// Activation-aware scaling (AWQ family) multiplies the input channels of a
// group of matrices by s and divides their input by s. The division must
// land somewhere exact: in the gain (and bias) of the norm that produces
// the input, in the rows of the value projection that produce an
// attention output, or in the rows of the up projection that produce a
// gated MLP's hidden state. This finds where, for one input group.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_DIALECT_LLM_TRANSFORMS_ACTIVATIONSCALING_H
#define MICROSCALE_DIALECT_LLM_TRANSFORMS_ACTIVATIONSCALING_H

#include "microscale/Dialect/LLM/Transforms/Calibration.h"

#include <optional>

namespace mlir::microscale::llm {

/// The dense weights that absorb 1/s for a group. Input channel `c` of the
/// group corresponds to element (or row) `channelOf(c)`... of each target:
/// for norms and the MLP's up rows it is `c`; for an attention output it is
/// the value row of c's kv head (`tiedChannels` > 1 query heads share it,
/// so s must be equal across them).
struct FoldTarget {
  /// Vectors (norm gain, norm bias) scaled elementwise, or matrices (value,
  /// up) whose rows are scaled; biases of those matrices are vectors.
  SmallVector<WeightOp> vectors;
  SmallVector<WeightOp> rowMatrices;
  /// Attention output: head_dim and query heads per kv head; 0 otherwise.
  int64_t headDim = 0;
  int64_t queriesPerKvHead = 1;

  /// The element/row of a target holding input channel `c`.
  int64_t targetChannel(int64_t c) const {
    if (headDim == 0)
      return c;
    int64_t head = c / headDim, dim = c % headDim;
    return (head / queriesPerKvHead) * headDim + dim;
  }
};

/// Where 1/s can go for `group`, or std::nullopt when nothing can absorb it
/// exactly (a non-gated MLP, a norm or projection with other users, a
/// matrix of the group used elsewhere, e.g. tied logits).
std::optional<FoldTarget> findFoldTarget(const InputGroup &group);

} // namespace mlir::microscale::llm

#endif // MICROSCALE_DIALECT_LLM_TRANSFORMS_ACTIVATIONSCALING_H
