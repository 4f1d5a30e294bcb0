//===- LLMDialect.td - llm dialect definition --------------*- tablegen -*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_DIALECT_LLM_IR_LLMDIALECT_TD
#define MICROSCALE_DIALECT_LLM_IR_LLMDIALECT_TD

include "mlir/IR/OpBase.td"

def LLM_Dialect : Dialect {
  let name = "llm";
  let summary = "decoder-only language models with explicit structure";
  let description = [{
    The level at which Microscale compresses models. Heads, layers, norms,
    attention, MLPs and the KV cache are explicit ops and attributes, so
    compression passes can reason about them without pattern matching.

    Tensors are `[batch, sequence, features]` (the batch dimension is kept so
    raised modules stay shape-compatible with the ONNX graph; generated code
    runs batch 1). Positions are implicit: a call's tokens occupy positions
    `cache_length .. cache_length + sequence - 1`, where `cache_length` is the
    number of tokens already in the KV cache.
  }];
  let cppNamespace = "::mlir::microscale::llm";
  let useDefaultAttributePrinterParser = 1;
}

#endif // MICROSCALE_DIALECT_LLM_IR_LLMDIALECT_TD
