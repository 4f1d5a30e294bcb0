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

    Weights are tensors whose type may carry an *encoding*
    (`#llm.quant`, `#llm.sparse`); without one a weight is dense, `f32` or
    `f16`/`bf16`. Every op that reads weights implements
    `WeightUserOpInterface`, which names each weight operand's role and
    layer, so compression passes find "every weight" or "the K and V
    projections of layer 3" without knowing the ops.

    Units that compression removes are one op each: a layer's attention is
    one `llm.self_attention` (its Q/K/V/O projections, RoPE and KV-cache
    slot), its feed-forward one `llm.mlp`. A head is a slice of that op's
    weights (rows of Q/K/V, columns of O) and of its cache slot; an MLP
    channel is a row of up/gate and a column of down; a layer is the pair
    of blocks (and the norms feeding them) between two residual adds.
    Blocks are formed after raising (`llm-form-blocks`) and expanded into
    the primitive ops (`llm-expand-blocks`) where a consumer wants those.

    The module's `llm.model` attribute records the model's facts; the
    dialect verifies them against the ops (see `#llm.model`).
  }];
  let cppNamespace = "::mlir::microscale::llm";
  let useDefaultAttributePrinterParser = 1;
  let hasOperationAttrVerify = 1;
}

#endif // MICROSCALE_DIALECT_LLM_IR_LLMDIALECT_TD
