//===- LLMOps.td - llm dialect operations ------------------*- tablegen -*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_DIALECT_LLM_IR_LLMOPS_TD
#define MICROSCALE_DIALECT_LLM_IR_LLMOPS_TD

include "microscale/Dialect/LLM/IR/LLMDialect.td"
include "microscale/Dialect/LLM/IR/LLMAttrs.td"
include "microscale/Dialect/LLM/IR/LLMInterfaces.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "mlir/IR/OpBase.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

class LLM_Op<string mnemonic, list<Trait> traits = []> :
    Op<LLM_Dialect, mnemonic, traits>;

/// Activations, norm parameters, biases and position tables: plain f32.
def LLM_F32Tensor : Type<
    And<[RankedTensorOf<[F32]>.predicate,
         CPred<"!::llvm::cast<::mlir::RankedTensorType>($_self).getEncoding()">]>,
    "ranked tensor of f32 without encoding", "::mlir::RankedTensorType">;

/// Matrices compression rewrites: f32/f16/bf16, dense or encoded.
def LLM_WeightTensor : Type<
    And<[RankedTensorOf<[F32, F16, BF16]>.predicate,
         CPred<"::mlir::microscale::llm::isWeightEncoding("
               "::llvm::cast<::mlir::RankedTensorType>($_self).getEncoding())">]>,
    "ranked tensor of f32/f16/bf16, dense or with an #llm.quant or "
    "#llm.sparse encoding", "::mlir::RankedTensorType">;

class LLM_WeightUser<list<string> overridden = []> :
    DeclareOpInterfaceMethods<LLM_WeightUserOpInterface, overridden>;
def LLM_IdTensor : RankedTensorOf<[I32, I64]>;

//===----------------------------------------------------------------------===//
// Weights
//===----------------------------------------------------------------------===//

def LLM_WeightOp : LLM_Op<"weight", [ConstantLike, Pure]> {
  let summary = "a named model weight and its storage";
  let description = [{
    A constant tensor of the model, named after its source initializer. The
    result type is the *logical* weight (the shape and element type the math
    sees); its encoding says how the attributes store it:

    - no encoding (dense): `value` has exactly the result type.
    - `#llm.quant`: `value` holds the packed codes, `scales` the per-group
      scales and, for asymmetric encodings, `zero_points` the zero points.
    - `#llm.sparse`: `value` holds the kept values, `indices` their
      positions and, for `csr`, `offsets` the row starts.

    The verifier checks every storage attribute's type against the logical
    type and the encoding (see the encodings for the layouts), and rejects
    storage the encoding does not use. Values are normally `dense_resource`
    blobs so that weights never pass through text.

    ```mlir
    %w = llm.weight "wq" : tensor<8x8xf32> = dense_resource<wq> : tensor<8x8xf32>
    %q = llm.weight "up" : tensor<12x40xf32, #llm.quant<bits = 4, group = 32,
        symmetric = false, scale = f16>>
        = dense_resource<up> : tensor<12x20xi8>
        scales dense_resource<up_s> : tensor<12x2xf16>
        zero_points dense_resource<up_z> : tensor<12x2xi8>
    ```

    Only dense weights fold to their value: an encoded weight's value is not
    the logical tensor, so it must never stand in for it. An encoded weight
    folds to a dictionary of its storage attributes instead (a constant op
    must fold), so rewrites that unique constants merge two weights only
    when they store the same data.
  }];
  let arguments = (ins StrAttr:$name, ElementsAttr:$value,
                       OptionalAttr<ElementsAttr>:$scales,
                       OptionalAttr<ElementsAttr>:$zero_points,
                       OptionalAttr<ElementsAttr>:$indices,
                       OptionalAttr<ElementsAttr>:$offsets);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = [{
    $name attr-dict `:` type($output) `=` $value
      (`scales` $scales^)? (`zero_points` $zero_points^)?
      (`indices` $indices^)? (`offsets` $offsets^)?
  }];
  let builders = [
    // A dense weight: its value has the result type.
    OpBuilder<(ins "::mlir::Type":$type, "::llvm::StringRef":$name,
                   "::mlir::ElementsAttr":$value), [{
      build($_builder, $_state, type, $_builder.getStringAttr(name), value,
            nullptr, nullptr, nullptr, nullptr);
    }]>
  ];
  let hasFolder = 1;
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The encoding of the result type (null for a dense weight).
    ::mlir::Attribute getEncoding() { return getType().getEncoding(); }
    /// Bytes of all storage attributes together (what the weight costs in
    /// the program).
    int64_t getStorageBytes();
  }];
}

//===----------------------------------------------------------------------===//
// Embeddings
//===----------------------------------------------------------------------===//

def LLM_EmbeddingOp : LLM_Op<"embedding", [Pure, LLM_WeightUser<>]> {
  let summary = "token embedding lookup";
  let description = [{
    `result[b, s, :] = table[ids[b, s], :]`. The table is `[vocab, hidden]`,
    dense or `#llm.quant` (one row per token, groups along `hidden`); a
    sparse table is rejected (row gathers gain nothing from it).
  }];
  let arguments = (ins LLM_WeightTensor:$table, LLM_IdTensor:$ids);
  let results = (outs LLM_F32Tensor:$result);
  let assemblyFormat = "$table `,` $ids attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def LLM_PositionEmbeddingOp : LLM_Op<"position_embedding",
                                   [Pure, LLM_WeightUser<>]> {
  let summary = "learned absolute position embedding";
  let description = [{
    `result[b, s, :] = table[cache_length + s, :]`: the positions of the
    tokens `ids` (only their shape is used). The table is
    `[max_positions, hidden]`, dense f32; the `#llm.model` verifier keeps
    `max_context` within its rows, so no position can read past it.
  }];
  let arguments = (ins LLM_F32Tensor:$table, LLM_IdTensor:$ids);
  let results = (outs LLM_F32Tensor:$result);
  let assemblyFormat = "$table `,` $ids attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Normalization
//===----------------------------------------------------------------------===//

def LLM_RMSNormOp : LLM_Op<"rms_norm",
                         [Pure, LLM_WeightUser<["getWeightLayer"]>]> {
  let summary = "RMSNorm over the last dimension";
  let description = [{
    `result = x / sqrt(mean(x^2) + epsilon) * gain`. The gain is dense f32.
    Its layer (for `WeightUserOpInterface`) is that of the block it feeds.
  }];
  let arguments = (ins LLM_F32Tensor:$input, LLM_F32Tensor:$gain, F64Attr:$epsilon);
  let results = (outs LLM_F32Tensor:$result);
  let assemblyFormat = "$input `,` $gain attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def LLM_LayerNormOp : LLM_Op<"layer_norm",
                           [Pure, LLM_WeightUser<["getWeightLayer"]>]> {
  let summary = "LayerNorm over the last dimension, with optional bias";
  let description = [{
    `result = (x - mean(x)) / sqrt(var(x) + epsilon) * gain + bias`. Gain
    and bias are dense f32. Its layer (for `WeightUserOpInterface`) is that
    of the block it feeds.
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

def LLM_LinearOp : LLM_Op<"linear", [Pure, LLM_WeightUser<>]> {
  let summary = "projection of the last dimension";
  let description = [{
    `result = input @ weight^T + bias`, with `weight` laid out
    `[out_features, in_features]` (one row per output channel, the layout
    per-channel quantization and GEMV kernels want). The weight may be
    dense, `#llm.quant` or `#llm.sparse`; the bias is dense f32.
  }];
  let arguments = (ins LLM_F32Tensor:$input, LLM_WeightTensor:$weight,
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

def LLM_SelfAttentionOp : LLM_Op<"self_attention",
    [AttrSizedOperandSegments, LLM_WeightUser<["getWeightLayer"]>]> {
  let summary = "attention block: Q/K/V projections, RoPE, attention, output";
  let description = [{
    One layer's attention as one op that owns its weights, the way `llm.mlp`
    owns its projections:

    ```
    q = linear(input, q_weight, q_bias)      [.., num_heads * head_dim]
    k = linear(input, k_weight, k_bias)      [.., num_kv_heads * head_dim]
    v = linear(input, v_weight, v_bias)      [.., num_kv_heads * head_dim]
    q, k = rope(q), rope(k)                  if `rope` is present
    a = attention(q, k, v)                   KV-cache slot `layer`
    result = linear(a, o_weight, o_bias)
    ```

    with the semantics of `llm.linear`, `llm.rope` and `llm.attention`.

    Why a block: everything a head is lives in this op — rows
    `h * head_dim ..` of Q (and of K/V for its kv group), the matching
    columns of O, and the slice of KV-cache slot `layer` — so removing a
    head or a layer rewrites one op, and the cache shrinks with its
    attributes. Projections may be dense, `#llm.quant` or `#llm.sparse`;
    biases are dense f32.

    `llm-form-blocks` folds raised `linear (+ rope) -> llm.attention ->
    linear` chains into this op; `llm-expand-blocks` expands it back into
    those ops for consumers that want primitives.

    ```mlir
    %a = llm.self_attention %h q %wq k %wk v %wv o %wo
        {head_dim = 8 : i64, layer = 0 : i64, num_heads = 8 : i64,
         num_kv_heads = 4 : i64, scale = 0.35355339059327379 : f64,
         rope = #llm.rope<theta = 1.000000e+04 : f64, rotary_dim = 8,
                          style = rotate_half>}
        : (...) -> tensor<?x?x64xf32>
    ```
  }];
  let arguments = (ins LLM_F32Tensor:$input,
                       LLM_WeightTensor:$q_weight, Optional<LLM_F32Tensor>:$q_bias,
                       LLM_WeightTensor:$k_weight, Optional<LLM_F32Tensor>:$k_bias,
                       LLM_WeightTensor:$v_weight, Optional<LLM_F32Tensor>:$v_bias,
                       LLM_WeightTensor:$o_weight, Optional<LLM_F32Tensor>:$o_bias,
                       I64Attr:$num_heads, I64Attr:$num_kv_heads,
                       I64Attr:$head_dim, F64Attr:$scale, I64Attr:$layer,
                       OptionalAttr<LLM_RopeAttr>:$rope);
  let results = (outs LLM_F32Tensor:$result);
  let assemblyFormat = [{
    $input `q` $q_weight (`bias` $q_bias^)? `k` $k_weight (`bias` $k_bias^)?
           `v` $v_weight (`bias` $v_bias^)? `o` $o_weight (`bias` $o_bias^)?
           attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// MLP and output
//===----------------------------------------------------------------------===//

def LLM_MLPOp : LLM_Op<"mlp", [Pure, AttrSizedOperandSegments,
                                LLM_WeightUser<["getWeightLayer"]>]> {
  let summary = "feed-forward block, gated (SwiGLU) or plain";
  let description = [{
    Plain: `down(act(up(x)))`. Gated: `down(act(gate(x)) * up(x))`; with
    `silu` this is SwiGLU. Each projection is a `llm.linear` with weight
    `[out_features, in_features]` (dense, `#llm.quant` or `#llm.sparse`)
    and optional dense bias.

    The op owns all three projections, so an MLP channel `c` is one place:
    row `c` of up and gate (and their biases) and column `c` of down.
    `layer`, when present, is the decoder layer (set by raising).
  }];
  let arguments = (ins LLM_F32Tensor:$input,
                       LLM_WeightTensor:$up_weight, Optional<LLM_F32Tensor>:$up_bias,
                       Optional<LLM_WeightTensor>:$gate_weight,
                       Optional<LLM_F32Tensor>:$gate_bias,
                       LLM_WeightTensor:$down_weight, Optional<LLM_F32Tensor>:$down_bias,
                       LLM_ActivationAttr:$activation,
                       OptionalAttr<I64Attr>:$layer);
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

def LLM_LogitsOp : LLM_Op<"logits", [Pure, LLM_WeightUser<>]> {
  let summary = "projection of the final hidden state onto the vocabulary";
  let description = [{
    `result = input @ weight^T + bias`, weight `[vocab, hidden]` (dense,
    `#llm.quant` or `#llm.sparse`), bias dense f32. `tied` says the weight
    is the token embedding table.
  }];
  let arguments = (ins LLM_F32Tensor:$input, LLM_WeightTensor:$weight,
                       Optional<LLM_F32Tensor>:$bias, UnitAttr:$tied);
  let results = (outs LLM_F32Tensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

#endif // MICROSCALE_DIALECT_LLM_IR_LLMOPS_TD
