//===- LLMDialect.h - llm dialect -------------------------------*- C++ -*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_DIALECT_LLM_IR_LLMDIALECT_H
#define MICROSCALE_DIALECT_LLM_IR_LLMDIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpImplementation.h"

#include "microscale/Dialect/LLM/IR/LLMOpsDialect.h.inc"

#include "microscale/Dialect/LLM/IR/LLMEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "microscale/Dialect/LLM/IR/LLMAttrs.h.inc"

namespace mlir::microscale::llm {
/// Name of the module attribute holding the model's `#llm.model` facts.
inline constexpr llvm::StringLiteral kModelAttrName = "llm.model";
/// Discardable attribute of an `llm.weight`: the quantization format an
/// earlier pass chose for it (a format name, or "float" to keep it), which
/// `llm-quantize-weights` applies unless an override names the weight.
inline constexpr llvm::StringLiteral kQuantizeFormatAttr = "llm.quantize";

/// True for the encodings a weight tensor type may carry: none (dense),
/// `#llm.quant` or `#llm.sparse`.
inline bool isWeightEncoding(Attribute encoding) {
  return !encoding || isa<QuantAttr, SparseAttr>(encoding);
}
} // namespace mlir::microscale::llm

#endif // MICROSCALE_DIALECT_LLM_IR_LLMDIALECT_H
