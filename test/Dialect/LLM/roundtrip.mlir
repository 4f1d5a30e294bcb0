// RUN: microscale-opt %s | microscale-opt | FileCheck %s
// RUN: microscale-opt %s --mlir-print-op-generic | microscale-opt | FileCheck %s

// Every llm op and attribute prints in a form that parses back.
// CHECK: module attributes {llm.model = #llm.model<arch = "llama", vocab_size = 16, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 1, head_dim = 4, max_context = 32, bos_id = 1, eos_id = 2, tokenizer = "tok.model">}
module attributes {llm.model = #llm.model<arch = "llama", vocab_size = 16, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 1, head_dim = 4, max_context = 32, bos_id = 1, eos_id = 2, tokenizer = "tok.model">} {
  // CHECK-LABEL: func.func @forward
  func.func @forward(%ids: tensor<?x?xi64>) -> tensor<?x?x16xf32> {
    // CHECK: llm.weight "emb" : tensor<16x8xf32> = dense<1.000000e+00> : tensor<16x8xf32>
    %emb = llm.weight "emb" : tensor<16x8xf32> = dense<1.0> : tensor<16x8xf32>
    %pos = llm.weight "pos" : tensor<32x8xf32> = dense<0.5> : tensor<32x8xf32>
    %g = llm.weight "g" : tensor<8xf32> = dense<1.0> : tensor<8xf32>
    %b = llm.weight "b" : tensor<8xf32> = dense<0.0> : tensor<8xf32>
    %wq = llm.weight "wq" : tensor<8x8xf32> = dense<0.1> : tensor<8x8xf32>
    %wk = llm.weight "wk" : tensor<4x8xf32> = dense<0.1> : tensor<4x8xf32>
    %bk = llm.weight "bk" : tensor<4xf32> = dense<0.1> : tensor<4xf32>
    %up = llm.weight "up" : tensor<12x8xf32> = dense<0.1> : tensor<12x8xf32>
    %down = llm.weight "down" : tensor<8x12xf32> = dense<0.1> : tensor<8x12xf32>
    %db = llm.weight "db" : tensor<8xf32> = dense<0.1> : tensor<8xf32>
    // CHECK: llm.embedding
    %x0 = llm.embedding %emb, %ids : (tensor<16x8xf32>, tensor<?x?xi64>) -> tensor<?x?x8xf32>
    // CHECK: llm.position_embedding
    %p = llm.position_embedding %pos, %ids : (tensor<32x8xf32>, tensor<?x?xi64>) -> tensor<?x?x8xf32>
    // CHECK: llm.add
    %x = llm.add %x0, %p : tensor<?x?x8xf32>
    // CHECK: llm.rms_norm {{.*}} {epsilon = 1.000000e-05 : f64}
    %h = llm.rms_norm %x, %g {epsilon = 1.0e-5 : f64} : (tensor<?x?x8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
    // CHECK: llm.layer_norm {{.*}}, {{.*}}, {{.*}} {epsilon
    %h2 = llm.layer_norm %h, %g, %b {epsilon = 1.0e-5 : f64} : (tensor<?x?x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
    %q = llm.linear %h2, %wq : (tensor<?x?x8xf32>, tensor<8x8xf32>) -> tensor<?x?x8xf32>
    // CHECK: llm.linear {{.*}}, {{.*}}, {{.*}} : (tensor<?x?x8xf32>, tensor<4x8xf32>, tensor<4xf32>)
    %k = llm.linear %h2, %wk, %bk : (tensor<?x?x8xf32>, tensor<4x8xf32>, tensor<4xf32>) -> tensor<?x?x4xf32>
    // CHECK: llm.rope {{.*}} style = #llm<rope_style rotate_half>
    %qr = llm.rope %q {head_dim = 4 : i64, rotary_dim = 4 : i64, theta = 10000.0 : f64, style = #llm<rope_style rotate_half>} : tensor<?x?x8xf32>
    // CHECK: llm.rope {{.*}} style = #llm<rope_style interleaved>
    %kr = llm.rope %k {head_dim = 4 : i64, rotary_dim = 2 : i64, theta = 500000.0 : f64, style = #llm<rope_style interleaved>} : tensor<?x?x4xf32>
    // CHECK: llm.attention {{.*}} {head_dim = 4 : i64, layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64
    %a = llm.attention %qr, %kr, %k {num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 4 : i64, scale = 0.5 : f64, layer = 0 : i64} : (tensor<?x?x8xf32>, tensor<?x?x4xf32>, tensor<?x?x4xf32>) -> tensor<?x?x8xf32>
    // CHECK: llm.mlp {{.*}} up {{.*}} gate {{.*}} down {{.*}} {activation = #llm<activation silu>}
    %m = llm.mlp %a up %up gate %up down %down {activation = #llm<activation silu>} : (tensor<?x?x8xf32>, tensor<12x8xf32>, tensor<12x8xf32>, tensor<8x12xf32>) -> tensor<?x?x8xf32>
    // CHECK: llm.mlp {{.*}} up {{.*}} down {{.*}} bias {{.*}} {activation = #llm<activation gelu_tanh>}
    %m2 = llm.mlp %m up %up down %down bias %db {activation = #llm<activation gelu_tanh>} : (tensor<?x?x8xf32>, tensor<12x8xf32>, tensor<8x12xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
    // CHECK: llm.logits {{.*}} {tied}
    %l = llm.logits %m2, %emb {tied} : (tensor<?x?x8xf32>, tensor<16x8xf32>) -> tensor<?x?x16xf32>
    return %l : tensor<?x?x16xf32>
  }
}
