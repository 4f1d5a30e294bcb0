// RUN: microscale-opt %s --llm-print-weights -o /dev/null | FileCheck %s
// RUN: microscale-opt %s --llm-print-weights="roles=k_proj,v_proj layer=1" -o /dev/null | FileCheck %s --check-prefix=KV1
// RUN: microscale-opt %s --llm-print-weights="roles=norm_gain" -o /dev/null | FileCheck %s --check-prefix=NORMS
// RUN: not microscale-opt %s --llm-print-weights="roles=wq" -o /dev/null 2>&1 | FileCheck %s --check-prefix=BAD

// Every weight through WeightUserOpInterface: layer, role, name, logical
// type (with its encoding) and user, in program order. Norms take the layer
// of the block they feed; the final norm, embedding and logits have none.
// CHECK:      layer - token_embedding 'emb' tensor<16x8xf32> in llm.embedding
// CHECK-NEXT: layer 0 norm_gain 'g0' tensor<8xf32> in llm.rms_norm
// CHECK-NEXT: layer 0 q_proj 'l0.wq' tensor<8x8xf32, #llm.quant<bits = 8, symmetric = true, scale = f32>> in llm.self_attention
// CHECK-NEXT: layer 0 k_proj 'l0.wk' tensor<4x8xf32> in llm.self_attention
// CHECK-NEXT: layer 0 v_proj 'l0.wv' tensor<4x8xf32> in llm.self_attention
// CHECK-NEXT: layer 0 o_proj 'l0.wo' tensor<8x8xf32> in llm.self_attention
// CHECK-NEXT: layer 0 o_bias 'l0.bo' tensor<8xf32> in llm.self_attention
// CHECK-NEXT: layer 0 up_proj 'l0.up' tensor<12x8xf32> in llm.mlp
// CHECK-NEXT: layer 0 gate_proj 'l0.gate' tensor<12x8xf32> in llm.mlp
// CHECK-NEXT: layer 0 down_proj 'l0.down' tensor<8x12xf32> in llm.mlp
// CHECK-NEXT: layer 1 norm_gain 'g1' tensor<8xf32> in llm.rms_norm
// CHECK-NEXT: layer 1 q_proj 'l1.wq' tensor<8x8xf32> in llm.self_attention
// CHECK-NEXT: layer 1 k_proj 'l1.wk' tensor<4x8xf32> in llm.self_attention
// CHECK-NEXT: layer 1 v_proj 'l1.wv' tensor<4x8xf32> in llm.self_attention
// CHECK-NEXT: layer 1 o_proj 'l1.wo' tensor<8x8xf32> in llm.self_attention
// CHECK-NEXT: layer - norm_gain 'gf' tensor<8xf32> in llm.rms_norm
// CHECK-NEXT: layer - linear '?' tensor<8x8xf32> in llm.linear
// CHECK-NEXT: layer - logits 'emb' tensor<16x8xf32> in llm.logits
// CHECK-NOT: layer

// The K and V projections of layer 1, as a head-pruning pass asks for them.
// KV1:      layer 1 k_proj 'l1.wk'
// KV1-NEXT: layer 1 v_proj 'l1.wv'
// KV1-NOT: layer

// NORMS:      layer 0 norm_gain 'g0'
// NORMS-NEXT: layer 1 norm_gain 'g1'
// NORMS-NEXT: layer - norm_gain 'gf'
// NORMS-NOT: layer

// BAD: unknown weight role 'wq'

func.func @model(%ids: tensor<?x?xi64>, %extra: tensor<8x8xf32>) -> tensor<?x?x16xf32> {
  %emb = llm.weight "emb" : tensor<16x8xf32> = dense<1.0> : tensor<16x8xf32>
  %g0 = llm.weight "g0" : tensor<8xf32> = dense<1.0> : tensor<8xf32>
  %wq0 = llm.weight "l0.wq" : tensor<8x8xf32, #llm.quant<bits = 8, symmetric = true, scale = f32>> = dense<1> : tensor<8x8xi8> scales dense<0.1> : tensor<8x1xf32>
  %wk0 = llm.weight "l0.wk" : tensor<4x8xf32> = dense<0.1> : tensor<4x8xf32>
  %wv0 = llm.weight "l0.wv" : tensor<4x8xf32> = dense<0.2> : tensor<4x8xf32>
  %wo0 = llm.weight "l0.wo" : tensor<8x8xf32> = dense<0.3> : tensor<8x8xf32>
  %bo0 = llm.weight "l0.bo" : tensor<8xf32> = dense<0.4> : tensor<8xf32>
  %up = llm.weight "l0.up" : tensor<12x8xf32> = dense<0.1> : tensor<12x8xf32>
  %gate = llm.weight "l0.gate" : tensor<12x8xf32> = dense<0.2> : tensor<12x8xf32>
  %down = llm.weight "l0.down" : tensor<8x12xf32> = dense<0.1> : tensor<8x12xf32>
  %g1 = llm.weight "g1" : tensor<8xf32> = dense<2.0> : tensor<8xf32>
  %wq1 = llm.weight "l1.wq" : tensor<8x8xf32> = dense<0.5> : tensor<8x8xf32>
  %wk1 = llm.weight "l1.wk" : tensor<4x8xf32> = dense<0.6> : tensor<4x8xf32>
  %wv1 = llm.weight "l1.wv" : tensor<4x8xf32> = dense<0.7> : tensor<4x8xf32>
  %wo1 = llm.weight "l1.wo" : tensor<8x8xf32> = dense<0.8> : tensor<8x8xf32>
  %gf = llm.weight "gf" : tensor<8xf32> = dense<3.0> : tensor<8xf32>
  %x = llm.embedding %emb, %ids : (tensor<16x8xf32>, tensor<?x?xi64>) -> tensor<?x?x8xf32>
  %h0 = llm.rms_norm %x, %g0 {epsilon = 1.0e-5 : f64} : (tensor<?x?x8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
  %a0 = llm.self_attention %h0 q %wq0 k %wk0 v %wv0 o %wo0 bias %bo0 {num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 4 : i64, scale = 0.5 : f64, layer = 0 : i64} : (tensor<?x?x8xf32>, tensor<8x8xf32, #llm.quant<bits = 8, symmetric = true, scale = f32>>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<8x8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
  %m0 = llm.mlp %a0 up %up gate %gate down %down {activation = #llm<activation silu>, layer = 0 : i64} : (tensor<?x?x8xf32>, tensor<12x8xf32>, tensor<12x8xf32>, tensor<8x12xf32>) -> tensor<?x?x8xf32>
  %h1 = llm.rms_norm %m0, %g1 {epsilon = 1.0e-5 : f64} : (tensor<?x?x8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
  %a1 = llm.self_attention %h1 q %wq1 k %wk1 v %wv1 o %wo1 {num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 4 : i64, scale = 0.5 : f64, layer = 1 : i64} : (tensor<?x?x8xf32>, tensor<8x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<?x?x8xf32>
  %hf = llm.rms_norm %a1, %gf {epsilon = 1.0e-5 : f64} : (tensor<?x?x8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
  %p = llm.linear %hf, %extra : (tensor<?x?x8xf32>, tensor<8x8xf32>) -> tensor<?x?x8xf32>
  %l = llm.logits %p, %emb {tied} : (tensor<?x?x8xf32>, tensor<16x8xf32>) -> tensor<?x?x16xf32>
  return %l : tensor<?x?x16xf32>
}
