// RUN: microscale-opt %s --split-input-file --verify-diagnostics

func.func @linear_in_features(%x: tensor<?x?x4xf32>, %w: tensor<3x5xf32>) {
  // expected-error @+1 {{linear weight expects 5 input features but the input has 4}}
  %0 = llm.linear %x, %w : (tensor<?x?x4xf32>, tensor<3x5xf32>) -> tensor<?x?x3xf32>
  return
}

// -----

func.func @linear_out_features(%x: tensor<?x?x4xf32>, %w: tensor<3x4xf32>) {
  // expected-error @+1 {{result has 7 features but the weight gives 3}}
  %0 = llm.linear %x, %w : (tensor<?x?x4xf32>, tensor<3x4xf32>) -> tensor<?x?x7xf32>
  return
}

// -----

func.func @linear_bias(%x: tensor<?x?x4xf32>, %w: tensor<3x4xf32>, %b: tensor<2xf32>) {
  // expected-error @+1 {{linear bias has 2 elements but the input has 3 features}}
  %0 = llm.linear %x, %w, %b : (tensor<?x?x4xf32>, tensor<3x4xf32>, tensor<2xf32>) -> tensor<?x?x3xf32>
  return
}

// -----

func.func @rms_norm_gain(%x: tensor<?x?x4xf32>, %g: tensor<5xf32>) {
  // expected-error @+1 {{gain has 5 elements but the input has 4 features}}
  %0 = llm.rms_norm %x, %g {epsilon = 1.0e-5 : f64} : (tensor<?x?x4xf32>, tensor<5xf32>) -> tensor<?x?x4xf32>
  return
}

// -----

func.func @rms_norm_epsilon(%x: tensor<?x?x4xf32>, %g: tensor<4xf32>) {
  // expected-error @+1 {{epsilon must be non-negative}}
  %0 = llm.rms_norm %x, %g {epsilon = -1.0 : f64} : (tensor<?x?x4xf32>, tensor<4xf32>) -> tensor<?x?x4xf32>
  return
}

// -----

func.func @layer_norm_bias(%x: tensor<?x?x4xf32>, %g: tensor<4xf32>, %b: tensor<3xf32>) {
  // expected-error @+1 {{bias has 3 elements but the input has 4 features}}
  %0 = llm.layer_norm %x, %g, %b {epsilon = 1.0e-5 : f64} : (tensor<?x?x4xf32>, tensor<4xf32>, tensor<3xf32>) -> tensor<?x?x4xf32>
  return
}

// -----

func.func @attention_gqa(%q: tensor<?x?x48xf32>, %k: tensor<?x?x32xf32>) {
  // expected-error @+1 {{num_heads (6) must be a multiple of num_kv_heads (4)}}
  %0 = llm.attention %q, %k, %k {num_heads = 6 : i64, num_kv_heads = 4 : i64, head_dim = 8 : i64, scale = 0.35 : f64, layer = 0 : i64} : (tensor<?x?x48xf32>, tensor<?x?x32xf32>, tensor<?x?x32xf32>) -> tensor<?x?x48xf32>
  return
}

// -----

func.func @attention_query_features(%q: tensor<?x?x60xf32>, %k: tensor<?x?x32xf32>) {
  // expected-error @+1 {{query has 60 features, expected num_heads * head_dim = 64}}
  %0 = llm.attention %q, %k, %k {num_heads = 8 : i64, num_kv_heads = 4 : i64, head_dim = 8 : i64, scale = 0.35 : f64, layer = 0 : i64} : (tensor<?x?x60xf32>, tensor<?x?x32xf32>, tensor<?x?x32xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @attention_kv_features(%q: tensor<?x?x64xf32>, %k: tensor<?x?x16xf32>) {
  // expected-error @+1 {{key/value has 16 features, expected num_kv_heads * head_dim = 32}}
  %0 = llm.attention %q, %k, %k {num_heads = 8 : i64, num_kv_heads = 4 : i64, head_dim = 8 : i64, scale = 0.35 : f64, layer = 0 : i64} : (tensor<?x?x64xf32>, tensor<?x?x16xf32>, tensor<?x?x16xf32>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @rope_head_dim(%x: tensor<?x?x64xf32>) {
  // expected-error @+1 {{head_dim must be positive and even, got 7}}
  %0 = llm.rope %x {head_dim = 7 : i64, rotary_dim = 6 : i64, theta = 10000.0 : f64, style = #llm<rope_style rotate_half>} : tensor<?x?x64xf32>
  return
}

// -----

func.func @rope_rotary_dim(%x: tensor<?x?x64xf32>) {
  // expected-error @+1 {{rotary_dim must be even and in (0, head_dim], got 16}}
  %0 = llm.rope %x {head_dim = 8 : i64, rotary_dim = 16 : i64, theta = 10000.0 : f64, style = #llm<rope_style interleaved>} : tensor<?x?x64xf32>
  return
}

// -----

func.func @rope_features(%x: tensor<?x?x60xf32>) {
  // expected-error @+1 {{input features 60 are not a multiple of head_dim 8}}
  %0 = llm.rope %x {head_dim = 8 : i64, rotary_dim = 8 : i64, theta = 10000.0 : f64, style = #llm<rope_style rotate_half>} : tensor<?x?x60xf32>
  return
}

// -----

func.func @mlp_gate_shape(%x: tensor<?x?x4xf32>, %up: tensor<8x4xf32>, %gate: tensor<6x4xf32>, %down: tensor<4x8xf32>) {
  // expected-error @+1 {{gate and up weights differ in shape}}
  %0 = llm.mlp %x up %up gate %gate down %down {activation = #llm<activation silu>} : (tensor<?x?x4xf32>, tensor<8x4xf32>, tensor<6x4xf32>, tensor<4x8xf32>) -> tensor<?x?x4xf32>
  return
}

// -----

func.func @mlp_down_shape(%x: tensor<?x?x4xf32>, %up: tensor<8x4xf32>, %down: tensor<4x6xf32>) {
  // expected-error @+1 {{down weight must be [hidden, 8], got 'tensor<4x6xf32>'}}
  %0 = llm.mlp %x up %up down %down {activation = #llm<activation gelu>} : (tensor<?x?x4xf32>, tensor<8x4xf32>, tensor<4x6xf32>) -> tensor<?x?x4xf32>
  return
}

// -----

func.func @embedding_table(%t: tensor<8xf32>, %ids: tensor<?x?xi64>) {
  // expected-error @+1 {{table must be 2-D [rows, hidden], got 'tensor<8xf32>'}}
  %0 = llm.embedding %t, %ids : (tensor<8xf32>, tensor<?x?xi64>) -> tensor<?x?x4xf32>
  return
}

// -----

func.func @logits_weight(%x: tensor<?x?x4xf32>, %w: tensor<16x5xf32>) {
  // expected-error @+1 {{logits weight expects 5 input features but the input has 4}}
  %0 = llm.logits %x, %w : (tensor<?x?x4xf32>, tensor<16x5xf32>) -> tensor<?x?x16xf32>
  return
}

// -----

func.func @weight_type() {
  // expected-error @+1 {{value type 'tensor<2xf32>' does not match result type 'tensor<3xf32>'}}
  %0 = llm.weight "w" : tensor<3xf32> = dense<1.0> : tensor<2xf32>
  return
}

// -----

// expected-error @+1 {{#llm.quant bits must be in [2, 8], got 9}}
func.func @quant_bits(%w: tensor<4x8xf32, #llm.quant<bits = 9, symmetric = true, scale = f16>>) {
  return
}

// -----

// expected-error @+1 {{#llm.quant group must be positive (or 0 for one group per row), got -4}}
func.func @quant_group(%w: tensor<4x8xf32, #llm.quant<bits = 4, group = -4, symmetric = true, scale = f16>>) {
  return
}

// -----

// expected-error @+1 {{#llm.quant scale type must be f16, bf16, f32 or i8 (logarithmic codes), got 'i16'}}
func.func @quant_scale(%w: tensor<4x8xf32, #llm.quant<bits = 4, symmetric = true, scale = i16>>) {
  return
}

// -----

// expected-error @+1 {{#llm.quant scale_max goes with i8 scales, and only with them}}
func.func @quant_log8_without_scale_max(%w: tensor<4x8xf32, #llm.quant<bits = 4, symmetric = true, scale = i8>>) {
  return
}

// -----

// expected-error @+1 {{#llm.quant scale_max goes with i8 scales, and only with them}}
func.func @quant_scale_max_with_f16(%w: tensor<4x8xf32, #llm.quant<bits = 4, symmetric = true, scale = f16, scale_max = 1.0 : f32>>) {
  return
}

// -----

// expected-error @+1 {{#llm.quant scale_max must be a finite, non-negative f32}}
func.func @quant_negative_scale_max(%w: tensor<4x8xf32, #llm.quant<bits = 4, symmetric = true, scale = i8, scale_max = -1.0 : f32>>) {
  return
}

// -----

func.func @quant_packed_shape() {
  // 40 inputs at 4 bits are 20 bytes per row.
  // expected-error @+1 {{value has type 'tensor<4x40xi8>', expected 'tensor<4x20xi8>' for 'tensor<4x40xf32, #llm.quant<bits = 4, group = 32, symmetric = true, scale = f16>>'}}
  %w = llm.weight "w" : tensor<4x40xf32, #llm.quant<bits = 4, group = 32, symmetric = true, scale = f16>> = dense<0> : tensor<4x40xi8> scales dense<1.0> : tensor<4x2xf16>
  return
}

// -----

func.func @quant_tail_group() {
  // 40 inputs in groups of 32: a full group and a tail group of 8.
  // expected-error @+1 {{scales has type 'tensor<4x1xf16>', expected 'tensor<4x2xf16>'}}
  %w = llm.weight "w" : tensor<4x40xf32, #llm.quant<bits = 4, group = 32, symmetric = true, scale = f16>> = dense<0> : tensor<4x20xi8> scales dense<1.0> : tensor<4x1xf16>
  return
}

// -----

func.func @quant_missing_scales() {
  // expected-error @+1 {{the encoding #llm.quant<bits = 8, symmetric = true, scale = f32> needs scales}}
  %w = llm.weight "w" : tensor<4x8xf32, #llm.quant<bits = 8, symmetric = true, scale = f32>> = dense<0> : tensor<4x8xi8>
  return
}

// -----

func.func @quant_symmetric_zero_points() {
  // expected-error @+1 {{zero_points given, but the encoding #llm.quant<bits = 8, symmetric = true, scale = f32> does not use it}}
  %w = llm.weight "w" : tensor<4x8xf32, #llm.quant<bits = 8, symmetric = true, scale = f32>> = dense<0> : tensor<4x8xi8> scales dense<1.0> : tensor<4x1xf32> zero_points dense<0> : tensor<4x1xi8>
  return
}

// -----

func.func @quant_asymmetric_needs_zero_points() {
  // expected-error @+1 {{needs zero_points}}
  %w = llm.weight "w" : tensor<4x8xf32, #llm.quant<bits = 8, symmetric = false, scale = f32>> = dense<0> : tensor<4x8xi8> scales dense<1.0> : tensor<4x1xf32>
  return
}

// -----

func.func @dense_with_scales() {
  // expected-error @+1 {{scales given, but the dense weight does not use it}}
  %w = llm.weight "w" : tensor<4x8xf32> = dense<0.0> : tensor<4x8xf32> scales dense<1.0> : tensor<4x1xf32>
  return
}

// -----

func.func @quant_rank() {
  // expected-error @+1 {{an encoded weight must be a static 2-D [out, in] float tensor}}
  %w = llm.weight "w" : tensor<8xf32, #llm.quant<bits = 8, symmetric = true, scale = f32>> = dense<0> : tensor<8xi8>
  return
}

// -----

// expected-error @+1 {{#llm.sparse pattern must be "unstructured" or "N:M", got "half"}}
func.func @sparse_pattern(%w: tensor<4x8xf32, #llm.sparse<pattern = "half", format = csr>>) {
  return
}

// -----

// expected-error @+1 {{#llm.sparse pattern "4:4" needs 0 < N < M}}
func.func @sparse_n_m(%w: tensor<4x8xf32, #llm.sparse<pattern = "4:4", format = n_of_m>>) {
  return
}

// -----

// expected-error @+1 {{#llm.sparse format n_of_m needs an "N:M" pattern, not "unstructured"}}
func.func @sparse_format(%w: tensor<4x8xf32, #llm.sparse<pattern = "unstructured", format = n_of_m>>) {
  return
}

// -----

func.func @sparse_n_of_m_value() {
  // 2 of every 4 of 8 inputs: 4 slots per row.
  // expected-error @+1 {{value has type 'tensor<4x8xf32>', expected 'tensor<4x4xf32>'}}
  %w = llm.weight "w" : tensor<4x8xf32, #llm.sparse<pattern = "2:4", format = n_of_m>> = dense<0.0> : tensor<4x8xf32> indices dense<0> : tensor<4x8xi8>
  return
}

// -----

func.func @sparse_n_of_m_indices() {
  // expected-error @+1 {{n_of_m indices must be integers shaped like the value, 4, 4}}
  %w = llm.weight "w" : tensor<4x8xf32, #llm.sparse<pattern = "2:4", format = n_of_m>> = dense<0.0> : tensor<4x4xf32>
  return
}

// -----

func.func @sparse_csr_offsets() {
  // expected-error @+1 {{csr offsets must be 5 integers (one per row, plus the end)}}
  %w = llm.weight "w" : tensor<4x8xf32, #llm.sparse<pattern = "unstructured", format = csr>> = dense<0.0> : tensor<6xf32> indices dense<0> : tensor<6xi32> offsets dense<0> : tensor<4xi32>
  return
}

// -----

// expected-error @+1 {{#llm.sparse quant goes with format bitmask only}}
func.func @sparse_quant_format(%w: tensor<4x8xf32, #llm.sparse<pattern = "unstructured", format = csr, quant = #llm.quant<bits = 8, symmetric = true, scale = f16>>>) {
  return
}

// -----

// expected-error @+1 {{#llm.sparse quant must be #llm.quant<bits = 8, symmetric = true, scale = f16> (one group per row, float activations), got #llm.quant<bits = 4, group = 32, symmetric = true, scale = f16>}}
func.func @sparse_quant_kind(%w: tensor<4x64xf32, #llm.sparse<pattern = "unstructured", format = bitmask, quant = #llm.quant<bits = 4, group = 32, symmetric = true, scale = f16>>>) {
  return
}

// -----

func.func @sparse_bitmask_masks() {
  // One mask byte per 8 inputs: 10 inputs take 2.
  // expected-error @+1 {{indices has type 'tensor<2x1xi8>', expected 'tensor<2x2xi8>'}}
  %w = llm.weight "w" : tensor<2x10xf32, #llm.sparse<pattern = "unstructured", format = bitmask>> = dense<1.0> : tensor<4xf32> indices dense<0> : tensor<2x1xi8> offsets dense<0> : tensor<3xi32>
  return
}

// -----

func.func @sparse_bitmask_offsets() {
  // expected-error @+1 {{the encoding #llm.sparse<pattern = "unstructured", format = bitmask> needs offsets}}
  %w = llm.weight "w" : tensor<2x10xf32, #llm.sparse<pattern = "unstructured", format = bitmask>> = dense<1.0> : tensor<4xf32> indices dense<0> : tensor<2x2xi8>
  return
}

// -----

func.func @sparse_bitmask_values() {
  // Quantized values are i8 codes.
  // expected-error @+1 {{bitmask value must be a 1-D tensor of 'i8' (the kept values), got 'tensor<4xf32>'}}
  %w = llm.weight "w" : tensor<2x10xf32, #llm.sparse<pattern = "unstructured", format = bitmask, quant = #llm.quant<bits = 8, symmetric = true, scale = f16>>> = dense<1.0> : tensor<4xf32> scales dense<1.0> : tensor<2x1xf16> indices dense<0> : tensor<2x2xi8> offsets dense<0> : tensor<3xi32>
  return
}

// -----

func.func @sparse_bitmask_scales() {
  // expected-error @+1 {{the encoding #llm.sparse<pattern = "unstructured", format = bitmask, quant = <bits = 8, symmetric = true, scale = f16>> needs scales}}
  %w = llm.weight "w" : tensor<2x10xf32, #llm.sparse<pattern = "unstructured", format = bitmask, quant = #llm.quant<bits = 8, symmetric = true, scale = f16>>> = dense<1> : tensor<4xi8> indices dense<0> : tensor<2x2xi8> offsets dense<0> : tensor<3xi32>
  return
}

// -----

func.func @sparse_bitmask_f16() {
  // expected-error @+1 {{a bitmask weight holds f32 values or, with quant, i8 codes; got 'tensor<2x10xf16, #llm.sparse<pattern = "unstructured", format = bitmask>>'}}
  %w = llm.weight "w" : tensor<2x10xf16, #llm.sparse<pattern = "unstructured", format = bitmask>> = dense<1.0> : tensor<4xf16> indices dense<0> : tensor<2x2xi8> offsets dense<0> : tensor<3xi32>
  return
}

// -----

func.func @sparse_embedding(%t: tensor<16x8xf32, #llm.sparse<pattern = "2:4", format = n_of_m>>, %ids: tensor<?x?xi64>) {
  // expected-error @+1 {{the table may be dense or #llm.quant, not sparse}}
  %0 = llm.embedding %t, %ids : (tensor<16x8xf32, #llm.sparse<pattern = "2:4", format = n_of_m>>, tensor<?x?xi64>) -> tensor<?x?x8xf32>
  return
}

// -----

func.func @encoded_gain(%x: tensor<?x?x8xf32>, %g: tensor<8xf32, #llm.quant<bits = 8, symmetric = true, scale = f32>>) {
  // expected-error @+1 {{operand #1 must be ranked tensor of f32 without encoding}}
  %0 = llm.rms_norm %x, %g {epsilon = 1.0e-5 : f64} : (tensor<?x?x8xf32>, tensor<8xf32, #llm.quant<bits = 8, symmetric = true, scale = f32>>) -> tensor<?x?x8xf32>
  return
}

// -----

func.func @self_attention_k_rows(%x: tensor<?x?x8xf32>, %wq: tensor<8x8xf32>, %wk: tensor<8x8xf32>, %wv: tensor<4x8xf32>, %wo: tensor<8x8xf32>) {
  // expected-error @+1 {{k weight has 8 rows, expected 4 (heads * head_dim)}}
  %0 = llm.self_attention %x q %wq k %wk v %wv o %wo {num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 4 : i64, scale = 0.5 : f64, layer = 0 : i64} : (tensor<?x?x8xf32>, tensor<8x8xf32>, tensor<8x8xf32>, tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<?x?x8xf32>
  return
}

// -----

func.func @self_attention_o(%x: tensor<?x?x8xf32>, %wq: tensor<8x8xf32>, %wk: tensor<4x8xf32>, %wv: tensor<4x8xf32>, %wo: tensor<8x6xf32>) {
  // expected-error @+1 {{o weight must be [hidden, 8], got 'tensor<8x6xf32>'}}
  %0 = llm.self_attention %x q %wq k %wk v %wv o %wo {num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 4 : i64, scale = 0.5 : f64, layer = 0 : i64} : (tensor<?x?x8xf32>, tensor<8x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<8x6xf32>) -> tensor<?x?x8xf32>
  return
}

// -----

func.func @self_attention_rope(%x: tensor<?x?x8xf32>, %wq: tensor<8x8xf32>, %wk: tensor<4x8xf32>, %wv: tensor<4x8xf32>, %wo: tensor<8x8xf32>) {
  // expected-error @+1 {{rotary_dim must be even and in (0, head_dim], got 6}}
  %0 = llm.self_attention %x q %wq k %wk v %wv o %wo {num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 4 : i64, scale = 0.5 : f64, layer = 0 : i64, rope = #llm.rope<theta = 10000.0 : f64, rotary_dim = 6, style = rotate_half>} : (tensor<?x?x8xf32>, tensor<8x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<?x?x8xf32>
  return
}

// -----

func.func @self_attention_heads(%x: tensor<?x?x8xf32>, %wq: tensor<8x8xf32>, %wk: tensor<4x8xf32>, %wv: tensor<4x8xf32>, %wo: tensor<8x8xf32>) {
  // expected-error @+1 {{num_heads (2) must be a multiple of num_kv_heads (3)}}
  %0 = llm.self_attention %x q %wq k %wk v %wv o %wo {num_heads = 2 : i64, num_kv_heads = 3 : i64, head_dim = 4 : i64, scale = 0.5 : f64, layer = 0 : i64} : (tensor<?x?x8xf32>, tensor<8x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<?x?x8xf32>
  return
}

// -----

// #llm.model is checked against the ops: here the module has one attention
// unit but the model claims two layers.
// expected-error @+1 {{#llm.model does not match the module: num_layers is 2 but it has 1 attention units}}
module attributes {llm.model = #llm.model<arch = "llama", vocab_size = 16, hidden_size = 8, num_layers = 2, num_heads = 2, num_kv_heads = 1, head_dim = 4, max_context = 32, bos_id = 1, eos_id = 2, tokenizer = "">} {
  func.func @layers(%x: tensor<?x?x8xf32>, %wq: tensor<8x8xf32>, %wk: tensor<4x8xf32>, %wv: tensor<4x8xf32>, %wo: tensor<8x8xf32>) -> tensor<?x?x8xf32> {
    %0 = llm.self_attention %x q %wq k %wk v %wv o %wo {num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 4 : i64, scale = 0.5 : f64, layer = 0 : i64} : (tensor<?x?x8xf32>, tensor<8x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<?x?x8xf32>
    return %0 : tensor<?x?x8xf32>
  }
}

// -----

// expected-error @+1 {{#llm.model does not match layer 0: head_dim 4, but the model says 8}}
module attributes {llm.model = #llm.model<arch = "llama", vocab_size = 16, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 1, head_dim = 8, max_context = 32, bos_id = 1, eos_id = 2, tokenizer = "">} {
  func.func @head_dim(%x: tensor<?x?x8xf32>, %wq: tensor<8x8xf32>, %wk: tensor<4x8xf32>, %wv: tensor<4x8xf32>, %wo: tensor<8x8xf32>) -> tensor<?x?x8xf32> {
    // expected-note @+1 {{see llm.self_attention}}
    %0 = llm.self_attention %x q %wq k %wk v %wv o %wo {num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 4 : i64, scale = 0.5 : f64, layer = 0 : i64} : (tensor<?x?x8xf32>, tensor<8x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<?x?x8xf32>
    return %0 : tensor<?x?x8xf32>
  }
}

// -----

// expected-error @+1 {{#llm.model does not match the module: its attention units have at most 2 heads and 1 kv heads, but the model says 4 and 1}}
module attributes {llm.model = #llm.model<arch = "llama", vocab_size = 16, hidden_size = 8, num_layers = 1, num_heads = 4, num_kv_heads = 1, head_dim = 4, max_context = 32, bos_id = 1, eos_id = 2, tokenizer = "">} {
  func.func @heads(%q: tensor<?x?x8xf32>, %k: tensor<?x?x4xf32>) -> tensor<?x?x8xf32> {
    %0 = llm.attention %q, %k, %k {num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 4 : i64, scale = 0.5 : f64, layer = 0 : i64} : (tensor<?x?x8xf32>, tensor<?x?x4xf32>, tensor<?x?x4xf32>) -> tensor<?x?x8xf32>
    return %0 : tensor<?x?x8xf32>
  }
}

// -----

// expected-error @+1 {{#llm.model does not match two attention units claim layer (KV-cache slot) 0}}
module attributes {llm.model = #llm.model<arch = "llama", vocab_size = 16, hidden_size = 8, num_layers = 2, num_heads = 2, num_kv_heads = 1, head_dim = 4, max_context = 32, bos_id = 1, eos_id = 2, tokenizer = "">} {
  func.func @slots(%q: tensor<?x?x8xf32>, %k: tensor<?x?x4xf32>) -> tensor<?x?x8xf32> {
    %0 = llm.attention %q, %k, %k {num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 4 : i64, scale = 0.5 : f64, layer = 0 : i64} : (tensor<?x?x8xf32>, tensor<?x?x4xf32>, tensor<?x?x4xf32>) -> tensor<?x?x8xf32>
    // expected-note @+1 {{see llm.attention}}
    %1 = llm.attention %0, %k, %k {num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 4 : i64, scale = 0.5 : f64, layer = 0 : i64} : (tensor<?x?x8xf32>, tensor<?x?x4xf32>, tensor<?x?x4xf32>) -> tensor<?x?x8xf32>
    return %1 : tensor<?x?x8xf32>
  }
}

// -----

// expected-error @+1 {{#llm.model does not match layer 2 is not below num_layers = 2}}
module attributes {llm.model = #llm.model<arch = "llama", vocab_size = 16, hidden_size = 8, num_layers = 2, num_heads = 2, num_kv_heads = 1, head_dim = 4, max_context = 32, bos_id = 1, eos_id = 2, tokenizer = "">} {
  func.func @slot_range(%q: tensor<?x?x8xf32>, %k: tensor<?x?x4xf32>) -> tensor<?x?x8xf32> {
    %0 = llm.attention %q, %k, %k {num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 4 : i64, scale = 0.5 : f64, layer = 0 : i64} : (tensor<?x?x8xf32>, tensor<?x?x4xf32>, tensor<?x?x4xf32>) -> tensor<?x?x8xf32>
    // expected-note @+1 {{see llm.attention}}
    %1 = llm.attention %0, %k, %k {num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 4 : i64, scale = 0.5 : f64, layer = 2 : i64} : (tensor<?x?x8xf32>, tensor<?x?x4xf32>, tensor<?x?x4xf32>) -> tensor<?x?x8xf32>
    return %1 : tensor<?x?x8xf32>
  }
}

// -----

// A learned position table bounds the context: 64 positions cannot be served
// by a 32-row table.
// expected-error @+1 {{#llm.model does not match the learned position table: max_context 64 exceeds its 32 rows, so later positions would read past it}}
module attributes {llm.model = #llm.model<arch = "gpt2", vocab_size = 16, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 2, head_dim = 4, max_context = 64, bos_id = -1, eos_id = 15, tokenizer = "">} {
  func.func @positions(%ids: tensor<?x?xi64>) -> tensor<?x?x8xf32> {
    %pos = llm.weight "pos" : tensor<32x8xf32> = dense<0.5> : tensor<32x8xf32>
    // expected-note @+1 {{see llm.position_embedding}}
    %p = llm.position_embedding %pos, %ids : (tensor<32x8xf32>, tensor<?x?xi64>) -> tensor<?x?x8xf32>
    %0 = llm.attention %p, %p, %p {num_heads = 2 : i64, num_kv_heads = 2 : i64, head_dim = 4 : i64, scale = 0.5 : f64, layer = 0 : i64} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
    return %0 : tensor<?x?x8xf32>
  }
}

// -----

// expected-error @+1 {{#llm.model does not match the logits weight: it is [12, 8], expected [vocab_size = 16, hidden_size = 8]}}
module attributes {llm.model = #llm.model<arch = "llama", vocab_size = 16, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 2, head_dim = 4, max_context = 32, bos_id = 1, eos_id = 2, tokenizer = "">} {
  func.func @vocab(%x: tensor<?x?x8xf32>, %w: tensor<12x8xf32>) -> tensor<?x?x12xf32> {
    %0 = llm.attention %x, %x, %x {num_heads = 2 : i64, num_kv_heads = 2 : i64, head_dim = 4 : i64, scale = 0.5 : f64, layer = 0 : i64} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
    // expected-note @+1 {{see llm.logits}}
    %1 = llm.logits %0, %w : (tensor<?x?x8xf32>, tensor<12x8xf32>) -> tensor<?x?x12xf32>
    return %1 : tensor<?x?x12xf32>
  }
}

// -----

// expected-error @+1 {{#llm.model does not match the token embedding table: it has 16 columns, but hidden_size is 8}}
module attributes {llm.model = #llm.model<arch = "llama", vocab_size = 16, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 2, head_dim = 4, max_context = 32, bos_id = 1, eos_id = 2, tokenizer = "">} {
  func.func @hidden(%t: tensor<16x16xf32>, %ids: tensor<?x?xi64>) -> tensor<?x?x16xf32> {
    // expected-note @+1 {{see llm.embedding}}
    %0 = llm.embedding %t, %ids : (tensor<16x16xf32>, tensor<?x?xi64>) -> tensor<?x?x16xf32>
    return %0 : tensor<?x?x16xf32>
  }
}

// -----

// expected-error @+1 {{#llm.model eos_id 16 is outside [-1, vocab_size = 16)}}
module attributes {llm.model = #llm.model<arch = "llama", vocab_size = 16, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 2, head_dim = 4, max_context = 32, bos_id = 1, eos_id = 16, tokenizer = "">} {
}

// -----

// expected-error @+1 {{#llm.model max_context must be positive, got 0}}
module attributes {llm.model = #llm.model<arch = "llama", vocab_size = 16, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 2, head_dim = 4, max_context = 0, bos_id = 1, eos_id = 2, tokenizer = "">} {
}

// -----

// expected-error @+1 {{'llm.model' belongs on the module}}
func.func @not_on_module() attributes {llm.model = #llm.model<arch = "llama", vocab_size = 16, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 2, head_dim = 4, max_context = 32, bos_id = 1, eos_id = 2, tokenizer = "">} {
  return
}

// -----

// Head-pruned layers may differ (the largest counts need not divide each
// other), but no unit has more kv heads than query heads.
// expected-error @+1 {{#llm.model num_kv_heads (4) must not exceed num_heads (2)}}
module attributes {llm.model = #llm.model<arch = "llama", vocab_size = 16, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 4, head_dim = 4, max_context = 32, bos_id = 1, eos_id = 2, tokenizer = "">} {
}

// -----

// expected-error @+1 {{#llm.quant activations must be i8, got 'f16'}}
func.func @quant_activations_type(%w: tensor<4x64xf32, #llm.quant<bits = 4, group = 32, symmetric = true, scale = f16, activations = f16>>) {
  return
}

// -----

// expected-error @+1 {{#llm.quant with 8-bit activations needs groups that are a multiple of 32 (or 0, one group per row), got 16}}
func.func @quant_activations_group(%w: tensor<4x64xf32, #llm.quant<bits = 4, group = 16, symmetric = true, scale = f16, activations = i8>>) {
  return
}
