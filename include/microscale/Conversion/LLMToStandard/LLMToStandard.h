//===- LLMToStandard.h - llm to loops, buffers and kernel ops ---*- C++ -*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_CONVERSION_LLMTOSTANDARD_LLMTOSTANDARD_H
#define MICROSCALE_CONVERSION_LLMTOSTANDARD_LLMTOSTANDARD_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::microscale {

/// The types of the generated program:
///  - an activation `tensor<?x...x?xFxT>` is its buffer, a flat row-major
///    `memref<(maxTokens * F) x T>` of which a call uses the first `n` rows;
///  - token ids (an integer tensor) are the `memref<maxTokens x i32>`
///    argument of ms_forward;
///  - a weight (a statically shaped tensor) is its storage, chosen by its
///    encoding in convertWeightType.
class LLMToStandardTypeConverter : public TypeConverter {
public:
  LLMToStandardTypeConverter(MLIRContext *context, int64_t maxTokens);

  /// The storage of a weight: dense (no encoding) is the flat tensor,
  /// `#llm.quant` the flat packed codes (its scales and zero points are
  /// globals the kernel ops take besides). A new weight encoding is a case
  /// here returning the type of its storage. Null when the encoding has no
  /// lowering.
  Type convertWeightType(RankedTensorType type) const;
  /// The buffer of an activation with a static feature dimension; null
  /// otherwise.
  MemRefType convertActivationType(RankedTensorType type) const;
  /// The token ids argument of ms_forward.
  MemRefType getTokensType() const;

  int64_t getMaxTokens() const { return maxTokens; }

private:
  MLIRContext *context;
  int64_t maxTokens;
};

} // namespace mlir::microscale

#endif // MICROSCALE_CONVERSION_LLMTOSTANDARD_LLMTOSTANDARD_H
