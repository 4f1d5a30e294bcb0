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
