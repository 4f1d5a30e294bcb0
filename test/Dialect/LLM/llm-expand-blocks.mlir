// RUN: microscale-opt %s --split-input-file --llm-expand-blocks | FileCheck %s
// Forming and expanding again gives back the primitive chain.
// RUN: microscale-opt %s --split-input-file --llm-expand-blocks --llm-form-blocks --llm-expand-blocks | FileCheck %s

// CHECK-LABEL: func.func @rope_block
// CHECK-SAME: (%[[X:.*]]: tensor<?x?x8xf32>, %[[WQ:.*]]: tensor<8x8xf32>, %[[WK:.*]]: tensor<4x8xf32>, %[[WV:.*]]: tensor<4x8xf32>, %[[WO:.*]]: tensor<8x8xf32>)
// CHECK-NEXT: %[[Q:.*]] = llm.linear %[[X]], %[[WQ]] : (tensor<?x?x8xf32>, tensor<8x8xf32>) -> tensor<?x?x8xf32>
// CHECK-NEXT: %[[K:.*]] = llm.linear %[[X]], %[[WK]] : (tensor<?x?x8xf32>, tensor<4x8xf32>) -> tensor<?x?x4xf32>
// CHECK-NEXT: %[[V:.*]] = llm.linear %[[X]], %[[WV]] : (tensor<?x?x8xf32>, tensor<4x8xf32>) -> tensor<?x?x4xf32>
// CHECK-NEXT: %[[QR:.*]] = llm.rope %[[Q]] {head_dim = 4 : i64, rotary_dim = 4 : i64, style = #llm<rope_style rotate_half>, theta = 1.000000e+04 : f64} : tensor<?x?x8xf32>
// CHECK-NEXT: %[[KR:.*]] = llm.rope %[[K]] {head_dim = 4 : i64, rotary_dim = 4 : i64, style = #llm<rope_style rotate_half>, theta = 1.000000e+04 : f64} : tensor<?x?x4xf32>
// CHECK-NEXT: %[[A:.*]] = llm.attention %[[QR]], %[[KR]], %[[V]] {head_dim = 4 : i64, layer = 2 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, scale = 5.000000e-01 : f64}
// CHECK-NEXT: %[[O:.*]] = llm.linear %[[A]], %[[WO]] : (tensor<?x?x8xf32>, tensor<8x8xf32>) -> tensor<?x?x8xf32>
// CHECK-NEXT: return %[[O]]
func.func @rope_block(%x: tensor<?x?x8xf32>, %wq: tensor<8x8xf32>, %wk: tensor<4x8xf32>, %wv: tensor<4x8xf32>, %wo: tensor<8x8xf32>) -> tensor<?x?x8xf32> {
  %a = llm.self_attention %x q %wq k %wk v %wv o %wo {num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 4 : i64, scale = 0.5 : f64, layer = 2 : i64, rope = #llm.rope<theta = 10000.0 : f64, rotary_dim = 4, style = rotate_half>} : (tensor<?x?x8xf32>, tensor<8x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<?x?x8xf32>
  return %a : tensor<?x?x8xf32>
}

// -----

// Without RoPE, biases go to their projections; the output projection may
// change the width.
// CHECK-LABEL: func.func @biased_block
// CHECK-SAME: %[[BQ:[^:]*]]: tensor<8xf32>, %[[BO:[^:]*]]: tensor<6xf32>
// CHECK-NEXT: %[[Q:.*]] = llm.linear %{{.*}}, %{{.*}}, %[[BQ]]
// CHECK-NEXT: %[[K:.*]] = llm.linear
// CHECK-NEXT: %[[V:.*]] = llm.linear
// CHECK-NEXT: %[[A:.*]] = llm.attention %[[Q]], %[[K]], %[[V]]
// CHECK-NEXT: %[[O:.*]] = llm.linear %[[A]], %{{.*}}, %[[BO]] : (tensor<?x?x8xf32>, tensor<6x8xf32>, tensor<6xf32>) -> tensor<?x?x6xf32>
// CHECK-NEXT: return %[[O]]
func.func @biased_block(%x: tensor<?x?x8xf32>, %wq: tensor<8x8xf32>, %wk: tensor<8x8xf32>, %wv: tensor<8x8xf32>, %wo: tensor<6x8xf32>, %bq: tensor<8xf32>, %bo: tensor<6xf32>) -> tensor<?x?x6xf32> {
  %a = llm.self_attention %x q %wq bias %bq k %wk v %wv o %wo bias %bo {num_heads = 2 : i64, num_kv_heads = 2 : i64, head_dim = 4 : i64, scale = 0.5 : f64, layer = 0 : i64} : (tensor<?x?x8xf32>, tensor<8x8xf32>, tensor<8xf32>, tensor<8x8xf32>, tensor<8x8xf32>, tensor<6x8xf32>, tensor<6xf32>) -> tensor<?x?x6xf32>
  return %a : tensor<?x?x6xf32>
}
