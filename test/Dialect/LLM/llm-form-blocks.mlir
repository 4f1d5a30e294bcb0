// RUN: microscale-opt %s --split-input-file --llm-form-blocks | FileCheck %s

// Llama-style: projections, RoPE on queries and keys, attention, output
// projection become one block that keeps the rope parameters and the slot.
// CHECK-LABEL: func.func @rope_chain
// CHECK-SAME: (%[[X:.*]]: tensor<?x?x8xf32>, %[[WQ:.*]]: tensor<8x8xf32>, %[[WK:.*]]: tensor<4x8xf32>, %[[WV:.*]]: tensor<4x8xf32>, %[[WO:.*]]: tensor<8x8xf32>)
// CHECK-NEXT: %[[A:.*]] = llm.self_attention %[[X]] q %[[WQ]] k %[[WK]] v %[[WV]] o %[[WO]] {head_dim = 4 : i64, layer = 3 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, rope = #llm.rope<theta = 5.000000e+05 : f64, rotary_dim = 2, style = interleaved>, scale = 5.000000e-01 : f64}
// CHECK-NEXT: return %[[A]]
func.func @rope_chain(%x: tensor<?x?x8xf32>, %wq: tensor<8x8xf32>, %wk: tensor<4x8xf32>, %wv: tensor<4x8xf32>, %wo: tensor<8x8xf32>) -> tensor<?x?x8xf32> {
  %q = llm.linear %x, %wq : (tensor<?x?x8xf32>, tensor<8x8xf32>) -> tensor<?x?x8xf32>
  %k = llm.linear %x, %wk : (tensor<?x?x8xf32>, tensor<4x8xf32>) -> tensor<?x?x4xf32>
  %v = llm.linear %x, %wv : (tensor<?x?x8xf32>, tensor<4x8xf32>) -> tensor<?x?x4xf32>
  %qr = llm.rope %q {head_dim = 4 : i64, rotary_dim = 2 : i64, theta = 500000.0 : f64, style = #llm<rope_style interleaved>} : tensor<?x?x8xf32>
  %kr = llm.rope %k {head_dim = 4 : i64, rotary_dim = 2 : i64, theta = 500000.0 : f64, style = #llm<rope_style interleaved>} : tensor<?x?x4xf32>
  %a = llm.attention %qr, %kr, %v {num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 4 : i64, scale = 0.5 : f64, layer = 3 : i64} : (tensor<?x?x8xf32>, tensor<?x?x4xf32>, tensor<?x?x4xf32>) -> tensor<?x?x8xf32>
  %o = llm.linear %a, %wo : (tensor<?x?x8xf32>, tensor<8x8xf32>) -> tensor<?x?x8xf32>
  return %o : tensor<?x?x8xf32>
}

// -----

// GPT-2-style: no RoPE, every projection biased.
// CHECK-LABEL: func.func @biased
// CHECK-NEXT: llm.self_attention %{{.*}} q %{{.*}} bias %[[BQ:[^ ]*]] k %{{.*}} bias %[[BK:[^ ]*]] v %{{.*}} bias %[[BV:[^ ]*]] o %{{.*}} bias %[[BO:[^ ]*]] {head_dim = 4 : i64, layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 2 : i64, scale = 5.000000e-01 : f64}
// CHECK-NEXT: return
func.func @biased(%x: tensor<?x?x8xf32>, %w: tensor<8x8xf32>, %bq: tensor<8xf32>, %bk: tensor<8xf32>, %bv: tensor<8xf32>, %bo: tensor<8xf32>) -> tensor<?x?x8xf32> {
  %q = llm.linear %x, %w, %bq : (tensor<?x?x8xf32>, tensor<8x8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
  %k = llm.linear %x, %w, %bk : (tensor<?x?x8xf32>, tensor<8x8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
  %v = llm.linear %x, %w, %bv : (tensor<?x?x8xf32>, tensor<8x8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
  %a = llm.attention %q, %k, %v {num_heads = 2 : i64, num_kv_heads = 2 : i64, head_dim = 4 : i64, scale = 0.5 : f64, layer = 0 : i64} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
  %o = llm.linear %a, %w, %bo : (tensor<?x?x8xf32>, tensor<8x8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
  return %o : tensor<?x?x8xf32>
}

// -----

// A projection read elsewhere cannot move into a block.
// CHECK-LABEL: func.func @shared_projection
// CHECK-NOT: llm.self_attention
// CHECK: llm.attention
func.func @shared_projection(%x: tensor<?x?x8xf32>, %w: tensor<8x8xf32>) -> (tensor<?x?x8xf32>, tensor<?x?x8xf32>) {
  %q = llm.linear %x, %w : (tensor<?x?x8xf32>, tensor<8x8xf32>) -> tensor<?x?x8xf32>
  %k = llm.linear %x, %w : (tensor<?x?x8xf32>, tensor<8x8xf32>) -> tensor<?x?x8xf32>
  %v = llm.linear %x, %w : (tensor<?x?x8xf32>, tensor<8x8xf32>) -> tensor<?x?x8xf32>
  %a = llm.attention %q, %k, %v {num_heads = 2 : i64, num_kv_heads = 2 : i64, head_dim = 4 : i64, scale = 0.5 : f64, layer = 0 : i64} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
  %o = llm.linear %a, %w : (tensor<?x?x8xf32>, tensor<8x8xf32>) -> tensor<?x?x8xf32>
  return %o, %q : tensor<?x?x8xf32>, tensor<?x?x8xf32>
}

// -----

// Queries and keys from different inputs are not self-attention.
// CHECK-LABEL: func.func @cross_inputs
// CHECK-NOT: llm.self_attention
// CHECK: llm.attention
func.func @cross_inputs(%x: tensor<?x?x8xf32>, %y: tensor<?x?x8xf32>, %w: tensor<8x8xf32>) -> tensor<?x?x8xf32> {
  %q = llm.linear %x, %w : (tensor<?x?x8xf32>, tensor<8x8xf32>) -> tensor<?x?x8xf32>
  %k = llm.linear %y, %w : (tensor<?x?x8xf32>, tensor<8x8xf32>) -> tensor<?x?x8xf32>
  %v = llm.linear %x, %w : (tensor<?x?x8xf32>, tensor<8x8xf32>) -> tensor<?x?x8xf32>
  %a = llm.attention %q, %k, %v {num_heads = 2 : i64, num_kv_heads = 2 : i64, head_dim = 4 : i64, scale = 0.5 : f64, layer = 0 : i64} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
  %o = llm.linear %a, %w : (tensor<?x?x8xf32>, tensor<8x8xf32>) -> tensor<?x?x8xf32>
  return %o : tensor<?x?x8xf32>
}

// -----

// Queries and keys rotated with different parameters stay primitive.
// CHECK-LABEL: func.func @unlike_ropes
// CHECK-NOT: llm.self_attention
// CHECK: llm.attention
func.func @unlike_ropes(%x: tensor<?x?x8xf32>, %w: tensor<8x8xf32>) -> tensor<?x?x8xf32> {
  %q = llm.linear %x, %w : (tensor<?x?x8xf32>, tensor<8x8xf32>) -> tensor<?x?x8xf32>
  %k = llm.linear %x, %w : (tensor<?x?x8xf32>, tensor<8x8xf32>) -> tensor<?x?x8xf32>
  %v = llm.linear %x, %w : (tensor<?x?x8xf32>, tensor<8x8xf32>) -> tensor<?x?x8xf32>
  %qr = llm.rope %q {head_dim = 4 : i64, rotary_dim = 4 : i64, theta = 10000.0 : f64, style = #llm<rope_style rotate_half>} : tensor<?x?x8xf32>
  %kr = llm.rope %k {head_dim = 4 : i64, rotary_dim = 2 : i64, theta = 10000.0 : f64, style = #llm<rope_style rotate_half>} : tensor<?x?x8xf32>
  %a = llm.attention %qr, %kr, %v {num_heads = 2 : i64, num_kv_heads = 2 : i64, head_dim = 4 : i64, scale = 0.5 : f64, layer = 0 : i64} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
  %o = llm.linear %a, %w : (tensor<?x?x8xf32>, tensor<8x8xf32>) -> tensor<?x?x8xf32>
  return %o : tensor<?x?x8xf32>
}
