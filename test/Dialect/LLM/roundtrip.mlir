// RUN: microscale-opt %s --split-input-file | microscale-opt --split-input-file | FileCheck %s
// RUN: microscale-opt %s --split-input-file --mlir-print-op-generic | microscale-opt --split-input-file | FileCheck %s

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
    // CHECK: llm.mlp {{.*}} up {{.*}} gate {{.*}} down {{.*}} {activation = #llm<activation silu>, layer = 0 : i64}
    %m = llm.mlp %a up %up gate %up down %down {activation = #llm<activation silu>, layer = 0 : i64} : (tensor<?x?x8xf32>, tensor<12x8xf32>, tensor<12x8xf32>, tensor<8x12xf32>) -> tensor<?x?x8xf32>
    // CHECK: llm.mlp {{.*}} up {{.*}} down {{.*}} bias {{.*}} {activation = #llm<activation gelu_tanh>}
    %m2 = llm.mlp %m up %up down %down bias %db {activation = #llm<activation gelu_tanh>} : (tensor<?x?x8xf32>, tensor<12x8xf32>, tensor<8x12xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
    // CHECK: llm.logits {{.*}} {tied}
    %l = llm.logits %m2, %emb {tied} : (tensor<?x?x8xf32>, tensor<16x8xf32>) -> tensor<?x?x16xf32>
    return %l : tensor<?x?x16xf32>
  }
}

// -----

// Weight encodings: the type keeps the logical shape, the encoding says how
// llm.weight stores it.
// CHECK-LABEL: func.func @encodings
func.func @encodings(%x: tensor<?x?x172xf32>, %ids: tensor<?x?xi64>) -> tensor<?x?x64xf32> {
  // 4-bit, groups of 32 along 172 inputs: 5 full groups and a tail of 12,
  // 86 bytes per row.
  // CHECK: llm.weight "q4" : tensor<64x172xf32, #llm.quant<bits = 4, group = 32, symmetric = true, scale = f16>> = dense<0> : tensor<64x86xi8> scales dense<1.000000e+00> : tensor<64x6xf16>
  %q4 = llm.weight "q4" : tensor<64x172xf32, #llm.quant<bits = 4, group = 32, symmetric = true, scale = f16>> = dense<0> : tensor<64x86xi8> scales dense<1.0> : tensor<64x6xf16>
  // Asymmetric 3-bit with zero points; the default group is the whole row.
  // CHECK: llm.weight "q3" : tensor<64x172xf32, #llm.quant<bits = 3, symmetric = false, scale = f32>> = dense<0> : tensor<64x65xi8> scales dense<5.000000e-01> : tensor<64x1xf32> zero_points dense<4> : tensor<64x1xi8>
  %q3 = llm.weight "q3" : tensor<64x172xf32, #llm.quant<bits = 3, symmetric = false, scale = f32>> = dense<0> : tensor<64x65xi8> scales dense<0.5> : tensor<64x1xf32> zero_points dense<4> : tensor<64x1xi8>
  // 2:4 sparsity, N of every M kept: 43 runs of 4, 2 slots each.
  // CHECK: llm.weight "s24" : tensor<64x172xf32, #llm.sparse<pattern = "2:4", format = n_of_m>> = dense<1.000000e+00> : tensor<64x86xf32> indices dense<1> : tensor<64x86xi8>
  %s24 = llm.weight "s24" : tensor<64x172xf32, #llm.sparse<pattern = "2:4", format = n_of_m>> = dense<1.0> : tensor<64x86xf32> indices dense<1> : tensor<64x86xi8>
  // CSR: values, column indices, row offsets.
  // CHECK: llm.weight "csr" : tensor<64x172xf16, #llm.sparse<pattern = "unstructured", format = csr>> = dense<1.000000e+00> : tensor<100xf16> indices dense<0> : tensor<100xi32> offsets dense<0> : tensor<65xi32>
  %csr = llm.weight "csr" : tensor<64x172xf16, #llm.sparse<pattern = "unstructured", format = csr>> = dense<1.0> : tensor<100xf16> indices dense<0> : tensor<100xi32> offsets dense<0> : tensor<65xi32>
  // A dense f16 weight and a quantized embedding table.
  // CHECK: llm.weight "f16" : tensor<172x64xf16>
  %f16 = llm.weight "f16" : tensor<172x64xf16> = dense<0.25> : tensor<172x64xf16>
  // CHECK: llm.weight "table" : tensor<16x172xf32, #llm.quant<bits = 8, symmetric = true, scale = bf16>>
  %table = llm.weight "table" : tensor<16x172xf32, #llm.quant<bits = 8, symmetric = true, scale = bf16>> = dense<0> : tensor<16x172xi8> scales dense<1.0> : tensor<16x1xbf16>

  // CHECK: llm.embedding {{.*}} : (tensor<16x172xf32, #llm.quant
  %e = llm.embedding %table, %ids : (tensor<16x172xf32, #llm.quant<bits = 8, symmetric = true, scale = bf16>>, tensor<?x?xi64>) -> tensor<?x?x172xf32>
  // CHECK: llm.linear {{.*}} : (tensor<?x?x172xf32>, tensor<64x172xf32, #llm.quant
  %a = llm.linear %x, %q4 : (tensor<?x?x172xf32>, tensor<64x172xf32, #llm.quant<bits = 4, group = 32, symmetric = true, scale = f16>>) -> tensor<?x?x64xf32>
  // CHECK: llm.linear {{.*}} : (tensor<?x?x172xf32>, tensor<64x172xf32, #llm.sparse
  %b = llm.linear %e, %s24 : (tensor<?x?x172xf32>, tensor<64x172xf32, #llm.sparse<pattern = "2:4", format = n_of_m>>) -> tensor<?x?x64xf32>
  // CHECK: llm.mlp {{.*}} up {{.*}} down {{.*}} : (tensor<?x?x64xf32>, tensor<172x64xf16>, tensor<64x172xf16, #llm.sparse
  %m = llm.mlp %a up %f16 down %csr {activation = #llm<activation relu>} : (tensor<?x?x64xf32>, tensor<172x64xf16>, tensor<64x172xf16, #llm.sparse<pattern = "unstructured", format = csr>>) -> tensor<?x?x64xf32>
  %c = llm.linear %x, %q3 : (tensor<?x?x172xf32>, tensor<64x172xf32, #llm.quant<bits = 3, symmetric = false, scale = f32>>) -> tensor<?x?x64xf32>
  %s = llm.add %b, %m : tensor<?x?x64xf32>
  %r = llm.add %s, %c : tensor<?x?x64xf32>
  return %r : tensor<?x?x64xf32>
}

// -----

// Attention blocks, with RoPE and without, with biases and quantized
// projections.
// CHECK-LABEL: func.func @blocks
func.func @blocks(%x: tensor<?x?x8xf32>, %wq: tensor<8x8xf32>, %wk: tensor<4x8xf32>, %wv: tensor<4x8xf32>, %wo: tensor<8x8xf32>, %bq: tensor<8xf32>, %bo: tensor<8xf32>, %qo: tensor<8x8xf32, #llm.quant<bits = 8, symmetric = true, scale = f32>>) -> tensor<?x?x8xf32> {
  // CHECK: llm.self_attention %{{.*}} q %{{.*}} k %{{.*}} v %{{.*}} o %{{.*}} {head_dim = 4 : i64, layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, rope = #llm.rope<theta = 1.000000e+04 : f64, rotary_dim = 4, style = rotate_half>, scale = 5.000000e-01 : f64}
  %a = llm.self_attention %x q %wq k %wk v %wv o %wo {num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 4 : i64, scale = 0.5 : f64, layer = 0 : i64, rope = #llm.rope<theta = 10000.0 : f64, rotary_dim = 4, style = rotate_half>} : (tensor<?x?x8xf32>, tensor<8x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<?x?x8xf32>
  // CHECK: llm.self_attention %{{.*}} q %{{.*}} bias %{{.*}} k %{{.*}} v %{{.*}} o %{{.*}} bias %{{.*}} {head_dim = 4 : i64, layer = 1 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, scale = 5.000000e-01 : f64} : (tensor<?x?x8xf32>, tensor<8x8xf32>, tensor<8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<8x8xf32, #llm.quant<bits = 8, symmetric = true, scale = f32>>, tensor<8xf32>)
  %b = llm.self_attention %a q %wq bias %bq k %wk v %wv o %qo bias %bo {num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 4 : i64, scale = 0.5 : f64, layer = 1 : i64} : (tensor<?x?x8xf32>, tensor<8x8xf32>, tensor<8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<8x8xf32, #llm.quant<bits = 8, symmetric = true, scale = f32>>, tensor<8xf32>) -> tensor<?x?x8xf32>
  return %b : tensor<?x?x8xf32>
}

// -----

// Head-pruned layers differ: the model records the largest counts, 6 query
// heads and 4 kv heads, which need not divide each other.
// CHECK: llm.model = #llm.model<arch = "llama", vocab_size = 16, hidden_size = 8, num_layers = 2, num_heads = 6, num_kv_heads = 4,
// CHECK-LABEL: func.func @pruned_heads
module attributes {llm.model = #llm.model<arch = "llama", vocab_size = 16, hidden_size = 8, num_layers = 2, num_heads = 6, num_kv_heads = 4, head_dim = 2, max_context = 32, bos_id = 1, eos_id = 2, tokenizer = "">} {
  func.func @pruned_heads(%x: tensor<?x?x8xf32>, %q0: tensor<12x8xf32>, %k0: tensor<6x8xf32>, %o0: tensor<8x12xf32>, %w1: tensor<8x8xf32>) -> tensor<?x?x8xf32> {
    %a = llm.self_attention %x q %q0 k %k0 v %k0 o %o0 {num_heads = 6 : i64, num_kv_heads = 3 : i64, head_dim = 2 : i64, scale = 0.7 : f64, layer = 0 : i64} : (tensor<?x?x8xf32>, tensor<12x8xf32>, tensor<6x8xf32>, tensor<6x8xf32>, tensor<8x12xf32>) -> tensor<?x?x8xf32>
    %b = llm.self_attention %a q %w1 k %w1 v %w1 o %w1 {num_heads = 4 : i64, num_kv_heads = 4 : i64, head_dim = 2 : i64, scale = 0.7 : f64, layer = 1 : i64} : (tensor<?x?x8xf32>, tensor<8x8xf32>, tensor<8x8xf32>, tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<?x?x8xf32>
    return %b : tensor<?x?x8xf32>
  }
}
