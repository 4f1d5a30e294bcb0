//===- LLMAttrs.td - llm dialect attributes ----------------*- tablegen -*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_DIALECT_LLM_IR_LLMATTRS_TD
#define MICROSCALE_DIALECT_LLM_IR_LLMATTRS_TD

include "microscale/Dialect/LLM/IR/LLMDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def LLM_RopeStyle : I32EnumAttr<"RopeStyle", "pairing of rotary dimensions", [
  I32EnumAttrCase<"RotateHalf", 0, "rotate_half">,
  I32EnumAttrCase<"Interleaved", 1, "interleaved">
]> {
  let cppNamespace = "::mlir::microscale::llm";
  let genSpecializedAttr = 0;
}
def LLM_RopeStyleAttr : EnumAttr<LLM_Dialect, LLM_RopeStyle, "rope_style">;

def LLM_Activation : I32EnumAttr<"Activation", "MLP activation function", [
  I32EnumAttrCase<"SiLU", 0, "silu">,
  I32EnumAttrCase<"GELU", 1, "gelu">,
  I32EnumAttrCase<"GELUTanh", 2, "gelu_tanh">,
  I32EnumAttrCase<"ReLU", 3, "relu">
]> {
  let cppNamespace = "::mlir::microscale::llm";
  let genSpecializedAttr = 0;
}
def LLM_ActivationAttr : EnumAttr<LLM_Dialect, LLM_Activation, "activation">;

def LLM_SparseFormat : I32EnumAttr<"SparseFormat", "storage of a sparse weight", [
  I32EnumAttrCase<"CSR", 0, "csr">,
  I32EnumAttrCase<"NOfM", 1, "n_of_m">,
  I32EnumAttrCase<"Bitmask", 2, "bitmask">
]> {
  let cppNamespace = "::mlir::microscale::llm";
  let genSpecializedAttr = 0;
}

def LLM_WeightRole : I32EnumAttr<"WeightRole", "what a weight is to the op using it", [
  I32EnumAttrCase<"TokenEmbedding", 0, "token_embedding">,
  I32EnumAttrCase<"PositionEmbedding", 1, "position_embedding">,
  I32EnumAttrCase<"NormGain", 2, "norm_gain">,
  I32EnumAttrCase<"NormBias", 3, "norm_bias">,
  I32EnumAttrCase<"Linear", 4, "linear">,
  I32EnumAttrCase<"LinearBias", 5, "linear_bias">,
  I32EnumAttrCase<"QueryProj", 6, "q_proj">,
  I32EnumAttrCase<"QueryBias", 7, "q_bias">,
  I32EnumAttrCase<"KeyProj", 8, "k_proj">,
  I32EnumAttrCase<"KeyBias", 9, "k_bias">,
  I32EnumAttrCase<"ValueProj", 10, "v_proj">,
  I32EnumAttrCase<"ValueBias", 11, "v_bias">,
  I32EnumAttrCase<"OutputProj", 12, "o_proj">,
  I32EnumAttrCase<"OutputBias", 13, "o_bias">,
  I32EnumAttrCase<"UpProj", 14, "up_proj">,
  I32EnumAttrCase<"UpBias", 15, "up_bias">,
  I32EnumAttrCase<"GateProj", 16, "gate_proj">,
  I32EnumAttrCase<"GateBias", 17, "gate_bias">,
  I32EnumAttrCase<"DownProj", 18, "down_proj">,
  I32EnumAttrCase<"DownBias", 19, "down_bias">,
  I32EnumAttrCase<"Logits", 20, "logits">,
  I32EnumAttrCase<"LogitsBias", 21, "logits_bias">
]> {
  let cppNamespace = "::mlir::microscale::llm";
  let genSpecializedAttr = 0;
}

//===----------------------------------------------------------------------===//
// Weight encodings
//===----------------------------------------------------------------------===//

def LLM_QuantAttr : AttrDef<LLM_Dialect, "Quant"> {
  let mnemonic = "quant";
  let summary = "encoding of a weight quantized group-wise along its input";
  let description = [{
    Used as the *encoding* of a weight's `RankedTensorType`, the way
    `sparse_tensor` encodes sparsity: the tensor type keeps the logical
    `[out_features, in_features]` shape and float element type that the math
    sees, and the encoding says how `llm.weight` stores it. Passes that do
    not care about storage (shape checks, pruning by rows) keep working on
    the logical type; a weight's form changes without changing its users.

    ```mlir
    %w = llm.weight "layers.0.mlp.up" : tensor<172x64xf32, #llm.quant<bits = 4,
        group = 32, symmetric = true, scale = f16>>
        = dense_resource<up_q> : tensor<172x32xi8>
        scales dense_resource<up_s> : tensor<172x2xf16>
    ```

    - `bits` (2..8): width of one code.
    - `group`: number of consecutive input features that share a scale (and
      zero point). `0`, the default, means one group per output row
      (per-channel). When `in_features` is not a multiple of `group` the last
      group of each row is shorter (a tail group): the group count is
      `ceil(in_features / group)`.
    - `symmetric`: codes are signed two's complement in
      `[-(2^(bits-1) - 1), 2^(bits-1) - 1]` and `w = scale * code`;
      otherwise codes are unsigned in `[0, 2^bits - 1]` and
      `w = scale * (code - zero_point)`.
    - `scale`: element type of the scales: `f16`, `bf16` or `f32`, or `i8`
      for 8-bit logarithmic codes: code `c` in [0, 255] stands for
      `scale_max * 2^(-c / 32)` (`runtime/include/microscale/quant_scale.h`
      computes it), a quarter of a half float's bits within 1.1 %.
    - `scale_max` (with `scale = i8` only): the scale of code 0, the
      matrix's largest (an `f32`).
    - `activations` (optional, `i8`): the products of this weight take
      activations quantized to 8 bits in blocks of 32 features (one float
      scale per block, ties to even:
      `runtime/include/microscale/quant_activations.h`), so kernels compute
      each block as an integer dot product; absent, activations stay float.
      Needs `group` 0 or a multiple of 32. An embedding lookup has no
      activations and ignores it. Formats ending in `_a8` set it.

    Storage in `llm.weight` (checked by its verifier):
    - `value`: `tensor<out x ceil(in * bits / 8) x i8>`. Each row is its own
      bit stream of `in` codes, least significant bits first, padded to a
      whole byte, so a row starts on a byte boundary (what a GEMV kernel
      wants); with 4 bits, element `2j` is the low nibble of byte `j`.
    - `scales`: `tensor<out x groups x scale>`.
    - `zero_points` (asymmetric only): `tensor<out x ceil(groups * bits / 8)
      x i8>`, each row's unsigned zero points packed like its codes (a zero
      point is a code: 4 bits wide for 4-bit codes).
  }];
  let parameters = (ins
    "int64_t":$bits,
    DefaultValuedParameter<"int64_t", "0",
                           "input features per group (0: whole row)">:$group,
    "::mlir::BoolAttr":$symmetric,
    "::mlir::Type":$scale,
    OptionalParameter<"::mlir::FloatAttr",
                      "largest scale (logarithmic i8 scales only)">:$scale_max,
    OptionalParameter<"::mlir::Type",
                      "i8: activations quantized in blocks">:$activations
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    bool isSymmetric() const { return getSymmetric().getValue(); }
    /// Whether products take 8-bit activation blocks.
    bool hasInt8Activations() const { return static_cast<bool>(getActivations()); }
    /// Input features per group for rows of `inFeatures` features.
    int64_t getGroupSize(int64_t inFeatures) const;
    /// Groups per row, counting a shorter tail group.
    int64_t getNumGroups(int64_t inFeatures) const;
    /// Bytes of one packed row.
    int64_t getRowBytes(int64_t inFeatures) const;
    /// Bytes of one row's packed zero points.
    int64_t getZeroPointRowBytes(int64_t inFeatures) const;
    /// Storage of `value`, `scales` and `zero_points` for a weight whose
    /// logical type is `logical` (`[out, in]`).
    ::mlir::RankedTensorType getPackedType(::mlir::RankedTensorType logical) const;
    ::mlir::RankedTensorType getScalesType(::mlir::RankedTensorType logical) const;
    ::mlir::RankedTensorType getZeroPointsType(::mlir::RankedTensorType logical) const;
  }];
}

def LLM_SparseAttr : AttrDef<LLM_Dialect, "Sparse"> {
  let mnemonic = "sparse";
  let summary = "encoding of a weight stored without its zeros";
  let description = [{
    Like `#llm.quant`, the encoding of a weight's tensor type: the logical
    `[out_features, in_features]` shape and float element type stay, and
    `llm.weight` holds only the kept values plus metadata.

    ```mlir
    %w = llm.weight "fc" : tensor<8x16xf32, #llm.sparse<pattern = "2:4",
        format = n_of_m>> = dense_resource<v> : tensor<8x8xf32>
        indices dense_resource<i> : tensor<8x8xi8>
    %b = llm.weight "up" : tensor<4x10xf32, #llm.sparse<pattern =
        "unstructured", format = bitmask, quant = #llm.quant<bits = 8,
        symmetric = true, scale = f16>>> = dense_resource<v> : tensor<17xi8>
        scales dense_resource<s> : tensor<4x1xf16>
        indices dense_resource<m> : tensor<4x2xi8>
        offsets dense_resource<o> : tensor<5xi32>
    ```

    - `pattern`: `"unstructured"`, or `"N:M"` (at most N non-zeros in each
      run of M consecutive input features of a row, 0 < N < M; a shorter
      tail run is allowed when `in_features % M != 0`).
    - `format = csr`: `value` is the `nnz` kept values (`tensor<nnz x T>`),
      `indices` their input feature (`tensor<nnz x iK>`), and `offsets` the
      row starts (`tensor<out+1 x iK>`), any pattern.
    - `format = n_of_m`: for an `N:M` pattern only, exactly N slots per run:
      `value` is `tensor<out x (ceil(in / M) * N) x T>` and `indices` the
      same shape of integers giving each slot's position inside its run
      (`0..M-1`); no `offsets`. Fixed-size rows keep the kernel branch-free.
    - `format = bitmask`: what the runtime's sparse kernels read
      (`microscale/Sparse/BitmaskStorage.h`). `indices` is `tensor<out x
      ceil(in / 8) x i8>`: one mask byte per block of 8 inputs of a row, bit
      j set when input `8 * block + j` is kept; `value` the `nnz` kept values
      row after row in input order (`tensor<nnz x T>`); `offsets` each
      row's first value and then `nnz` (`tensor<out+1 x i32>`). Any pattern.

    `T` is the logical element type, or with `quant` (`format = bitmask`
    only) the `i8` codes of a per-row symmetric 8-bit quantization
    (`#llm.quant<bits = 8, symmetric = true, scale = f16>`, `group` 0, the
    storage `--quantize int8` gives a dense weight), whose `scales` (`tensor<
    out x 1 x f16>`) the weight keeps: kept value = scale of its row * code.
    `llm-sparse-storage` encodes pruned weights this way.
  }];
  let parameters = (ins
    StringRefParameter<"\"unstructured\" or \"N:M\"">:$pattern,
    EnumParameter<LLM_SparseFormat>:$format,
    OptionalParameter<"::mlir::microscale::llm::QuantAttr",
                      "quantization of the kept values (bitmask only)">:$quant
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// (N, M) of an `N:M` pattern; std::nullopt for "unstructured" (or a
    /// malformed pattern, which the verifier rejects).
    std::optional<std::pair<int64_t, int64_t>> getBlockPattern() const;
    /// Storage of a bitmask weight whose logical type is `logical` (`[out,
    /// in]`) and that keeps `nonZeros` values.
    ::mlir::RankedTensorType getValuesType(::mlir::RankedTensorType logical,
                                           int64_t nonZeros) const;
    ::mlir::RankedTensorType getMasksType(::mlir::RankedTensorType logical) const;
    ::mlir::RankedTensorType getOffsetsType(::mlir::RankedTensorType logical) const;
  }];
}

def LLM_RopeAttr : AttrDef<LLM_Dialect, "Rope"> {
  let mnemonic = "rope";
  let summary = "rotary position embedding parameters of an attention block";
  let description = [{
    The parameters of `llm.rope` (see there) that `llm.self_attention`
    applies to its queries and keys; `head_dim` is the block's.

    ```mlir
    #llm.rope<theta = 1.000000e+04 : f64, rotary_dim = 8, style = rotate_half>
    ```
  }];
  let parameters = (ins
    "::mlir::FloatAttr":$theta,
    "int64_t":$rotary_dim,
    EnumParameter<LLM_RopeStyle>:$style
  );
  let assemblyFormat = "`<` struct(params) `>`";
}

def LLM_ModelAttr : AttrDef<LLM_Dialect, "Model"> {
  let mnemonic = "model";
  let summary = "model-level facts of a raised decoder";
  let description = [{
    Recorded on the module as `llm.model`. Every later stage (memory planning,
    the runtime, the tokenizer) reads the model's dimensions from here.

    The facts have one source: the dialect verifies them against the ops
    of the module, so a pass that changes the model (removing a layer, say)
    must update them or the module no longer verifies. Checked:

    - all sizes positive, `num_kv_heads` at most `num_heads` (each unit
      keeps its own heads a multiple of its kv heads; the largest counts of
      head-pruned layers need not divide each other),
      `bos_id` and `eos_id` in `[-1, vocab_size)` (-1: none);
    - `num_layers` attention units (`llm.attention` or
      `llm.self_attention`), whose `layer` attributes are exactly
      `0 .. num_layers - 1` (one KV-cache slot each); `llm.mlp` layers lie
      in that range;
    - every unit has `head_dim`; `num_heads` and `num_kv_heads` are the
      largest over the units (equal in an unpruned model; the largest
      sizes the buffers once head pruning makes layers differ);
    - token embedding tables are `[>= vocab_size, hidden_size]` and the
      logits weight is `[vocab_size, hidden_size]`;
    - `max_context` does not exceed the rows of any learned position
      table: a longer context is this error, never a read past the table.

    A module without `llm` compute ops (lowered already) is only checked
    for the first point.

    ```mlir
    module attributes {llm.model = #llm.model<arch = "llama", vocab_size = 512,
        hidden_size = 64, num_layers = 5, num_heads = 8, num_kv_heads = 4,
        head_dim = 8, max_context = 512, bos_id = 1, eos_id = 2,
        tokenizer = "tok512.model">} { ... }
    ```
  }];
  let parameters = (ins
    StringRefParameter<"architecture family">:$arch,
    "int64_t":$vocab_size,
    "int64_t":$hidden_size,
    "int64_t":$num_layers,
    "int64_t":$num_heads,
    "int64_t":$num_kv_heads,
    "int64_t":$head_dim,
    "int64_t":$max_context,
    "int64_t":$bos_id,
    "int64_t":$eos_id,
    StringRefParameter<"tokenizer file, relative to the model">:$tokenizer
  );
  let assemblyFormat = "`<` struct(params) `>`";
}

#endif // MICROSCALE_DIALECT_LLM_IR_LLMATTRS_TD
