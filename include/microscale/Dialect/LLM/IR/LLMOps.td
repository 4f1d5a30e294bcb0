//===- LLMOps.td - llm dialect operations ------------------*- tablegen -*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_DIALECT_LLM_IR_LLMOPS_TD
#define MICROSCALE_DIALECT_LLM_IR_LLMOPS_TD

include "microscale/Dialect/LLM/IR/LLMDialect.td"
include "microscale/Dialect/LLM/IR/LLMAttrs.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "mlir/IR/OpBase.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

class LLM_Op<string mnemonic, list<Trait> traits = []> :
    Op<LLM_Dialect, mnemonic, traits>;

def LLM_F32Tensor : RankedTensorOf<[F32]>;
def LLM_IdTensor : RankedTensorOf<[I32, I64]>;

//===----------------------------------------------------------------------===//
// Weights
//===----------------------------------------------------------------------===//

def LLM_WeightOp : LLM_Op<"weight", [ConstantLike, Pure]> {
  let summary = "a named model weight";
  let description = [{
    A constant tensor of the model, named after its source initializer. The
    value is normally a `dense_resource` blob so that weights never pass
    through text.
  }];
  let arguments = (ins StrAttr:$name, ElementsAttr:$value);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$name attr-dict `:` type($output) `=` $value";
  let hasFolder = 1;
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Embeddings
//===----------------------------------------------------------------------===//

def LLM_EmbeddingOp : LLM_Op<"embedding", [Pure]> {
  let summary = "token embedding lookup";
  let description = [{
    `result[b, s, :] = table[ids[b, s], :]`. The table is `[vocab, hidden]`.
  }];
  let arguments = (ins LLM_F32Tensor:$table, LLM_IdTensor:$ids);
  let results = (outs LLM_F32Tensor:$result);
  let assemblyFormat = "$table `,` $ids attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def LLM_PositionEmbeddingOp : LLM_Op<"position_embedding", [Pure]> {
  let summary = "learned absolute position embedding";
  let description = [{
    `result[b, s, :] = table[cache_length + s, :]`: the positions of the
    tokens `ids` (only their shape is used). The table is
    `[max_positions, hidden]`.
  }];
  let arguments = (ins LLM_F32Tensor:$table, LLM_IdTensor:$ids);
  let results = (outs LLM_F32Tensor:$result);
  let assemblyFormat = "$table `,` $ids attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Normalization
//===----------------------------------------------------------------------===//

def LLM_RMSNormOp : LLM_Op<"rms_norm", [Pure]> {
  let summary = "RMSNorm over the last dimension";
  let description = [{
    `result = x / sqrt(mean(x^2) + epsilon) * gain`.
  }];
  let arguments = (ins LLM_F32Tensor:$input, LLM_F32Tensor:$gain, F64Attr:$epsilon);
  let results = (outs LLM_F32Tensor:$result);
  let assemblyFormat = "$input `,` $gain attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def LLM_LayerNormOp : LLM_Op<"layer_norm", [Pure]> {
  let summary = "LayerNorm over the last dimension, with optional bias";
  let description = [{
    `result = (x - mean(x)) / sqrt(var(x) + epsilon) * gain + bias`.
  }];
  let arguments = (ins LLM_F32Tensor:$input, LLM_F32Tensor:$gain,
                       Optional<LLM_F32Tensor>:$bias, F64Attr:$epsilon);
  let results = (outs LLM_F32Tensor:$result);
  let assemblyFormat = [{
    $input `,` $gain (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Linear algebra
//===----------------------------------------------------------------------===//

def LLM_LinearOp : LLM_Op<"linear", [Pure]> {
  let summary = "dense projection of the last dimension";
  let description = [{
    `result = input @ weight^T + bias`, with `weight` laid out
    `[out_features, in_features]` (one row per output channel, the layout
    per-channel quantization and GEMV kernels want).
  }];
  let arguments = (ins LLM_F32Tensor:$input, LLM_F32Tensor:$weight,
                       Optional<LLM_F32Tensor>:$bias);
  let results = (outs LLM_F32Tensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    int64_t getInFeatures();
    int64_t getOutFeatures();
  }];
}

def LLM_AddOp : LLM_Op<"add", [Pure, SameOperandsAndResultType]> {
  let summary = "residual addition";
  let arguments = (ins LLM_F32Tensor:$lhs, LLM_F32Tensor:$rhs);
  let results = (outs LLM_F32Tensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($result)";
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

def LLM_RopeOp : LLM_Op<"rope", [Pure, SameOperandsAndResultType]> {
  let summary = "rotary position embedding";
  let description = [{
    Rotates each head of `input` (`[batch, seq, heads * head_dim]`) by the
    angle `position * theta^(-2i / rotary_dim)` for pair `i`, at the implicit
    positions `cache_length + s`. `rotate_half` pairs `(x[i], x[i + d/2])`;
    `interleaved` pairs `(x[2i], x[2i + 1])`. Only the first `rotary_dim`
    dimensions of each head rotate.
  }];
  let arguments = (ins LLM_F32Tensor:$input, I64Attr:$head_dim, I64Attr:$rotary_dim,
                       F64Attr:$theta, LLM_RopeStyleAttr:$style);
  let results = (outs LLM_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def LLM_AttentionOp : LLM_Op<"attention", []> {
  let summary = "causal multi-head attention with a KV cache";
  let description = [{
    `q` is `[batch, seq, num_heads * head_dim]`, `k` and `v` are
    `[batch, seq, num_kv_heads * head_dim]` (grouped-query attention when
    `num_kv_heads < num_heads`; query head `h` reads kv head
    `h / (num_heads / num_kv_heads)`).

    KV-cache semantics: the op owns cache slot `layer`. It appends this call's
    `k` and `v` at positions `cache_length .. cache_length + seq - 1`, then
    each query at position `p` attends, with weights
    `softmax(scale * q . k)`, to every cached key at a position `<= p`.
    The result is the per-head weighted sum of values, heads concatenated.
  }];
  let arguments = (ins LLM_F32Tensor:$query, LLM_F32Tensor:$key, LLM_F32Tensor:$value,
                       I64Attr:$num_heads, I64Attr:$num_kv_heads,
                       I64Attr:$head_dim, F64Attr:$scale, I64Attr:$layer);
  let results = (outs LLM_F32Tensor:$result);
  let assemblyFormat = [{
    $query `,` $key `,` $value attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// MLP and output
//===----------------------------------------------------------------------===//

def LLM_MLPOp : LLM_Op<"mlp", [Pure, AttrSizedOperandSegments]> {
  let summary = "feed-forward block, gated (SwiGLU) or plain";
  let description = [{
    Plain: `down(act(up(x)))`. Gated: `down(act(gate(x)) * up(x))`; with
    `silu` this is SwiGLU. Each projection is a `llm.linear` with weight
    `[out_features, in_features]` and optional bias.
  }];
  let arguments = (ins LLM_F32Tensor:$input,
                       LLM_F32Tensor:$up_weight, Optional<LLM_F32Tensor>:$up_bias,
                       Optional<LLM_F32Tensor>:$gate_weight,
                       Optional<LLM_F32Tensor>:$gate_bias,
                       LLM_F32Tensor:$down_weight, Optional<LLM_F32Tensor>:$down_bias,
                       LLM_ActivationAttr:$activation);
  let results = (outs LLM_F32Tensor:$result);
  let assemblyFormat = [{
    $input `up` $up_weight (`bias` $up_bias^)?
           (`gate` $gate_weight^)? (`gate_bias` $gate_bias^)?
           `down` $down_weight (`bias` $down_bias^)?
           attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    bool isGated() { return getGateWeight() != nullptr; }
    int64_t getIntermediateSize();
  }];
}

def LLM_LogitsOp : LLM_Op<"logits", [Pure]> {
  let summary = "projection of the final hidden state onto the vocabulary";
  let description = [{
    `result = input @ weight^T + bias`, weight `[vocab, hidden]`. `tied` says
    the weight is the token embedding table.
  }];
  let arguments = (ins LLM_F32Tensor:$input, LLM_F32Tensor:$weight,
                       Optional<LLM_F32Tensor>:$bias, UnitAttr:$tied);
  let results = (outs LLM_F32Tensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

#endif // MICROSCALE_DIALECT_LLM_IR_LLMOPS_TD
