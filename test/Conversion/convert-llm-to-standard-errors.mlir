// RUN: microscale-opt %s --split-input-file --verify-diagnostics --convert-llm-to-standard
// RUN: not microscale-opt %s --split-input-file --convert-llm-to-standard=max-tokens=0 2>&1 | FileCheck %s --check-prefix=BAD-TOKENS

// Modules convert-llm-to-standard cannot lower get an error naming the
// problem.

// BAD-TOKENS: max-tokens must be positive

// expected-error @below {{module has no #llm.model; raise it first}}
module {
  func.func @forward(%ids: tensor<?x?xi64>) {
    return
  }
}

// -----

// expected-error @below {{expected one llm entry function, found 2}}
module attributes {llm.model = #llm.model<arch = "llama", vocab_size = 16, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 2, head_dim = 4, max_context = 32, bos_id = 1, eos_id = 2, tokenizer = "tok.model">} {
  func.func @forward(%ids: tensor<?x?xi64>) {
    return
  }
  func.func @other() {
    return
  }
}

// -----

module attributes {llm.model = #llm.model<arch = "llama", vocab_size = 16, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 2, head_dim = 4, max_context = 32, bos_id = 1, eos_id = 2, tokenizer = "tok.model">} {
  func.func @forward(%ids: tensor<?x?xi64>) -> tensor<?x?x16xf32> {
    %emb = llm.weight "emb" : tensor<16x8xf32> = dense<1.0> : tensor<16x8xf32>
    %x = llm.embedding %emb, %ids : (tensor<16x8xf32>, tensor<?x?xi64>) -> tensor<?x?x8xf32>
    // expected-error @below {{cannot lower 'arith.addf': only llm ops are supported}}
    %y = arith.addf %x, %x : tensor<?x?x8xf32>
    %unit = llm.attention %x, %x, %x {num_heads = 2 : i64, num_kv_heads = 2 : i64, head_dim = 4 : i64, scale = 0.5 : f64, layer = 0 : i64} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
    %l = llm.logits %y, %emb {tied} : (tensor<?x?x8xf32>, tensor<16x8xf32>) -> tensor<?x?x16xf32>
    return %l : tensor<?x?x16xf32>
  }
}

// -----

module attributes {llm.model = #llm.model<arch = "llama", vocab_size = 16, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 2, head_dim = 4, max_context = 32, bos_id = 1, eos_id = 2, tokenizer = "tok.model">} {
  // expected-error @below {{the entry function must return llm.logits}}
  func.func @forward(%ids: tensor<?x?xi64>) -> tensor<?x?x8xf32> {
    %emb = llm.weight "emb" : tensor<16x8xf32> = dense<1.0> : tensor<16x8xf32>
    %x = llm.embedding %emb, %ids : (tensor<16x8xf32>, tensor<?x?xi64>) -> tensor<?x?x8xf32>
    %unit = llm.attention %x, %x, %x {num_heads = 2 : i64, num_kv_heads = 2 : i64, head_dim = 4 : i64, scale = 0.5 : f64, layer = 0 : i64} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
    return %x : tensor<?x?x8xf32>
  }
}

// -----

module attributes {llm.model = #llm.model<arch = "llama", vocab_size = 16, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 2, head_dim = 4, max_context = 32, bos_id = 1, eos_id = 2, tokenizer = "tok.model">} {
  // expected-error @below {{the entry function must take the token ids}}
  func.func @forward(%ids: tensor<?x?xi64>, %extra: tensor<?x?xi64>) -> tensor<?x?x16xf32> {
    %emb = llm.weight "emb" : tensor<16x8xf32> = dense<1.0> : tensor<16x8xf32>
    %x = llm.embedding %emb, %ids : (tensor<16x8xf32>, tensor<?x?xi64>) -> tensor<?x?x8xf32>
    %unit = llm.attention %x, %x, %x {num_heads = 2 : i64, num_kv_heads = 2 : i64, head_dim = 4 : i64, scale = 0.5 : f64, layer = 0 : i64} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
    %l = llm.logits %x, %emb {tied} : (tensor<?x?x8xf32>, tensor<16x8xf32>) -> tensor<?x?x16xf32>
    return %l : tensor<?x?x16xf32>
  }
}

// -----

// A weight encoding without a storage lowering yet.
module attributes {llm.model = #llm.model<arch = "llama", vocab_size = 16, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 2, head_dim = 4, max_context = 32, bos_id = 1, eos_id = 2, tokenizer = "tok.model">} {
  func.func @forward(%ids: tensor<?x?xi64>) -> tensor<?x?x16xf32> {
    %emb = llm.weight "emb" : tensor<16x8xf32> = dense<1.0> : tensor<16x8xf32>
    // expected-error @below {{weight encoding #llm.sparse<pattern = "2:4", format = n_of_m> has no lowering}}
    %w = llm.weight "w" : tensor<8x8xf32, #llm.sparse<pattern = "2:4", format = n_of_m>> = dense<1.0> : tensor<8x4xf32> indices dense<0> : tensor<8x4xi8>
    %x0 = llm.embedding %emb, %ids : (tensor<16x8xf32>, tensor<?x?xi64>) -> tensor<?x?x8xf32>
    %x = llm.linear %x0, %w : (tensor<?x?x8xf32>, tensor<8x8xf32, #llm.sparse<pattern = "2:4", format = n_of_m>>) -> tensor<?x?x8xf32>
    %unit = llm.attention %x, %x, %x {num_heads = 2 : i64, num_kv_heads = 2 : i64, head_dim = 4 : i64, scale = 0.5 : f64, layer = 0 : i64} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
    %l = llm.logits %x, %emb {tied} : (tensor<?x?x8xf32>, tensor<16x8xf32>) -> tensor<?x?x16xf32>
    return %l : tensor<?x?x16xf32>
  }
}

// -----

// The runtime's quantized kernels read f16 scales: others are an error
// naming the weight, not a silent conversion.
module attributes {llm.model = #llm.model<arch = "llama", vocab_size = 16, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 2, head_dim = 4, max_context = 32, bos_id = 1, eos_id = 2, tokenizer = "tok.model">} {
  func.func @forward(%ids: tensor<?x?xi64>) -> tensor<?x?x16xf32> {
    %emb = llm.weight "emb" : tensor<16x8xf32> = dense<1.0> : tensor<16x8xf32>
    // expected-error @below {{weight 'layers.0.w' has 'f32' scales; the quantized kernels take f16 or i8 (logarithmic) scales}}
    %w = llm.weight "layers.0.w" : tensor<8x8xf32, #llm.quant<bits = 4, group = 8, symmetric = true, scale = f32>> = dense<0> : tensor<8x4xi8> scales dense<1.0> : tensor<8x1xf32>
    %x0 = llm.embedding %emb, %ids : (tensor<16x8xf32>, tensor<?x?xi64>) -> tensor<?x?x8xf32>
    %x = llm.linear %x0, %w : (tensor<?x?x8xf32>, tensor<8x8xf32, #llm.quant<bits = 4, group = 8, symmetric = true, scale = f32>>) -> tensor<?x?x8xf32>
    %unit = llm.attention %x, %x, %x {num_heads = 2 : i64, num_kv_heads = 2 : i64, head_dim = 4 : i64, scale = 0.5 : f64, layer = 0 : i64} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
    %l = llm.logits %x, %emb {tied} : (tensor<?x?x8xf32>, tensor<16x8xf32>) -> tensor<?x?x16xf32>
    return %l : tensor<?x?x16xf32>
  }
}

// -----

module attributes {llm.model = #llm.model<arch = "llama", vocab_size = 16, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 2, head_dim = 4, max_context = 32, bos_id = 1, eos_id = 2, tokenizer = "tok.model">} {
  func.func @forward(%ids: tensor<?x?xi64>) -> tensor<?x?x16xf32> {
    // expected-error @below {{weight 'embed' has 'bf16' scales; the quantized kernels take f16 or i8 (logarithmic) scales}}
    %emb = llm.weight "embed" : tensor<16x8xf32, #llm.quant<bits = 8, symmetric = true, scale = bf16>> = dense<0> : tensor<16x8xi8> scales dense<1.0> : tensor<16x1xbf16>
    %x = llm.embedding %emb, %ids : (tensor<16x8xf32, #llm.quant<bits = 8, symmetric = true, scale = bf16>>, tensor<?x?xi64>) -> tensor<?x?x8xf32>
    %unit = llm.attention %x, %x, %x {num_heads = 2 : i64, num_kv_heads = 2 : i64, head_dim = 4 : i64, scale = 0.5 : f64, layer = 0 : i64} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
    %l = llm.logits %x, %emb {tied} : (tensor<?x?x8xf32>, tensor<16x8xf32, #llm.quant<bits = 8, symmetric = true, scale = bf16>>) -> tensor<?x?x16xf32>
    return %l : tensor<?x?x16xf32>
  }
}

// -----

// Activations need a static feature dimension and a dynamic token one.
module attributes {llm.model = #llm.model<arch = "llama", vocab_size = 16, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 2, head_dim = 4, max_context = 32, bos_id = 1, eos_id = 2, tokenizer = "tok.model">} {
  func.func @forward(%ids: tensor<?x?xi64>) -> tensor<?x?x16xf32> {
    %emb = llm.weight "emb" : tensor<16x8xf32> = dense<1.0> : tensor<16x8xf32>
    %x = llm.embedding %emb, %ids : (tensor<16x8xf32>, tensor<?x?xi64>) -> tensor<?x?x8xf32>
    %unit = llm.attention %x, %x, %x {num_heads = 2 : i64, num_kv_heads = 2 : i64, head_dim = 4 : i64, scale = 0.5 : f64, layer = 0 : i64} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
    // expected-error @below {{cannot lower activation of type 'tensor<1x2x8xf32>': expected [?, ..., features] with static features}}
    %s = llm.embedding %emb, %ids : (tensor<16x8xf32>, tensor<?x?xi64>) -> tensor<1x2x8xf32>
    %l = llm.logits %s, %emb {tied} : (tensor<1x2x8xf32>, tensor<16x8xf32>) -> tensor<?x?x16xf32>
    return %l : tensor<?x?x16xf32>
  }
}

// -----

// Dense weights are f32 for now: the loops and kernels compute in f32.
module attributes {llm.model = #llm.model<arch = "llama", vocab_size = 16, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 2, head_dim = 4, max_context = 32, bos_id = 1, eos_id = 2, tokenizer = "tok.model">} {
  func.func @forward(%ids: tensor<?x?xi64>) -> tensor<?x?x16xf32> {
    // expected-error @below {{dense 'f16' weights have no lowering yet}}
    %emb = llm.weight "emb" : tensor<16x8xf16> = dense<1.0> : tensor<16x8xf16>
    %x = llm.embedding %emb, %ids : (tensor<16x8xf16>, tensor<?x?xi64>) -> tensor<?x?x8xf32>
    %unit = llm.attention %x, %x, %x {num_heads = 2 : i64, num_kv_heads = 2 : i64, head_dim = 4 : i64, scale = 0.5 : f64, layer = 0 : i64} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
    %l = llm.logits %x, %emb {tied} : (tensor<?x?x8xf32>, tensor<16x8xf16>) -> tensor<?x?x16xf32>
    return %l : tensor<?x?x16xf32>
  }
}
