// RUN: microscale-opt %s --split-input-file --verify-diagnostics --llm-prune-heads="fraction=0.5 importance=magnitude scope=layer print-ranking" 2>%t.ranking | FileCheck %s
// RUN: FileCheck %s --check-prefix=RANKING < %t.ranking

// Multi-head attention, by weight magnitude (no calibration): heads 1 and 3
// are the smallest, so their rows of Q, K, V (and biases) and their columns
// of O go.
// CHECK-LABEL: func.func @multi_head
// CHECK-DAG: %[[Q:.*]] = llm.weight "wq" : tensor<4x8xf32> = dense_resource<wq.pruned>
// CHECK-DAG: %[[QB:.*]] = llm.weight "bq" : tensor<4xf32> = dense_resource<bq.pruned>
// CHECK-DAG: %[[K:.*]] = llm.weight "wk" : tensor<4x8xf32>
// CHECK-DAG: %[[V:.*]] = llm.weight "wv" : tensor<4x8xf32>
// CHECK-DAG: %[[O:.*]] = llm.weight "wo" : tensor<8x4xf32>
// CHECK-DAG: %[[OB:.*]] = llm.weight "bo" : tensor<8xf32> = dense<5.000000e-01>
// CHECK: llm.self_attention %{{.*}} q %[[Q]] bias %[[QB]] k %[[K]] v %[[V]] o %[[O]] bias %[[OB]]
// CHECK-SAME: num_heads = 2 : i64, num_kv_heads = 2 : i64
// CHECK-SAME: (tensor<?x?x8xf32>, tensor<4x8xf32>, tensor<4xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<8x4xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
// RANKING: llm-prune-heads: importance = squared weight norm of the head
// RANKING-NEXT: layer  head  kv group     importance  choice
// RANKING-NEXT: 0      0     0              2.000e+01  kept
// RANKING-NEXT: 0      1     1              4.160e+00  removed
// RANKING-NEXT: 0      2     2              6.800e+01  kept
// RANKING-NEXT: 0      3     3              4.640e+00  removed
func.func @multi_head(%x: tensor<?x?x8xf32>) -> tensor<?x?x8xf32> {
  %wq = llm.weight "wq" : tensor<8x8xf32> = dense<[[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1], [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1], [2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0], [2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0], [0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2], [0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2]]> : tensor<8x8xf32>
  %bq = llm.weight "bq" : tensor<8xf32> = dense<[1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0]> : tensor<8xf32>
  %wk = llm.weight "wk" : tensor<8x8xf32> = dense<0.25> : tensor<8x8xf32>
  %wv = llm.weight "wv" : tensor<8x8xf32> = dense<0.25> : tensor<8x8xf32>
  %wo = llm.weight "wo" : tensor<8x8xf32> = dense<0.5> : tensor<8x8xf32>
  %bo = llm.weight "bo" : tensor<8xf32> = dense<0.5> : tensor<8xf32>
  %0 = llm.self_attention %x q %wq bias %bq k %wk v %wv o %wo bias %bo {head_dim = 2 : i64, layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64, scale = 0.70710678118654757 : f64, rope = #llm.rope<theta = 1.000000e+04 : f64, rotary_dim = 2, style = rotate_half>} : (tensor<?x?x8xf32>, tensor<8x8xf32>, tensor<8xf32>, tensor<8x8xf32>, tensor<8x8xf32>, tensor<8x8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
  return %0 : tensor<?x?x8xf32>
}

// -----

// Grouped-query attention: query heads (0, 1) read kv group 0 and (2, 3)
// group 1, and kept groups must stay equal. Removing the cheapest query head
// of each group costs least here, so both groups stay, with one query head
// each; K and V keep their rows.
// CHECK-LABEL: func.func @one_head_per_group
// CHECK: llm.self_attention
// CHECK-SAME: num_heads = 2 : i64, num_kv_heads = 2 : i64
// CHECK-SAME: (tensor<?x?x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<8x4xf32>) -> tensor<?x?x8xf32>
// RANKING: 0      0     0              2.000e+01  kept
// RANKING-NEXT: 0      1     0              4.160e+00  removed
// RANKING-NEXT: 0      2     1              4.640e+00  removed
// RANKING-NEXT: 0      3     1              6.800e+01  kept
func.func @one_head_per_group(%x: tensor<?x?x8xf32>) -> tensor<?x?x8xf32> {
  %wq = llm.weight "wq" : tensor<8x8xf32> = dense<[[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1], [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1], [0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2], [0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2], [2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0], [2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0]]> : tensor<8x8xf32>
  %wk = llm.weight "wk" : tensor<4x8xf32> = dense<0.25> : tensor<4x8xf32>
  %wv = llm.weight "wv" : tensor<4x8xf32> = dense<0.25> : tensor<4x8xf32>
  %wo = llm.weight "wo" : tensor<8x8xf32> = dense<0.5> : tensor<8x8xf32>
  %0 = llm.self_attention %x q %wq k %wk v %wv o %wo {head_dim = 2 : i64, layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, scale = 0.70710678118654757 : f64} : (tensor<?x?x8xf32>, tensor<8x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<?x?x8xf32>
  return %0 : tensor<?x?x8xf32>
}

// -----

// Here group 0's query heads are both cheap: the whole group goes, and with
// it its rows of K and V (the KV cache holds one kv head).
// CHECK-LABEL: func.func @whole_group
// CHECK: llm.self_attention
// CHECK-SAME: num_heads = 2 : i64, num_kv_heads = 1 : i64
// CHECK-SAME: (tensor<?x?x8xf32>, tensor<4x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>, tensor<8x4xf32>) -> tensor<?x?x8xf32>
// RANKING: 0      0     0              4.160e+00  removed
// RANKING-NEXT: 0      1     0              4.640e+00  removed
// RANKING-NEXT: 0      2     1              2.000e+01  kept
// RANKING-NEXT: 0      3     1              6.800e+01  kept
func.func @whole_group(%x: tensor<?x?x8xf32>) -> tensor<?x?x8xf32> {
  %wq = llm.weight "wq" : tensor<8x8xf32> = dense<[[0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1], [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1], [0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2], [0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0], [2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0]]> : tensor<8x8xf32>
  %wk = llm.weight "wk" : tensor<4x8xf32> = dense<0.25> : tensor<4x8xf32>
  %wv = llm.weight "wv" : tensor<4x8xf32> = dense<0.25> : tensor<4x8xf32>
  %wo = llm.weight "wo" : tensor<8x8xf32> = dense<0.5> : tensor<8x8xf32>
  %0 = llm.self_attention %x q %wq k %wk v %wv o %wo {head_dim = 2 : i64, layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, scale = 0.70710678118654757 : f64} : (tensor<?x?x8xf32>, tensor<8x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<?x?x8xf32>
  return %0 : tensor<?x?x8xf32>
}

// -----

// Pruning runs before quantization.
func.func @quantized(%x: tensor<?x?x8xf32>) -> tensor<?x?x8xf32> {
  %wq = llm.weight "wq" : tensor<8x8xf32> = dense<0.5> : tensor<8x8xf32>
  %wk = llm.weight "wk" : tensor<8x8xf32> = dense<0.25> : tensor<8x8xf32>
  %wv = llm.weight "wv" : tensor<8x8xf32> = dense<0.25> : tensor<8x8xf32>
  %wo = llm.weight "wo" : tensor<8x8xf32, #llm.quant<bits = 8, symmetric = true, scale = f32>> = dense<1> : tensor<8x8xi8> scales dense<0.1> : tensor<8x1xf32>
  // expected-error @+1 {{llm-prune-heads: weight 'wo' is quantized (#llm.quant<bits = 8, symmetric = true, scale = f32>); pruning runs on float weights, before quantization}}
  %0 = llm.self_attention %x q %wq k %wk v %wv o %wo {head_dim = 2 : i64, layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64, scale = 0.7 : f64} : (tensor<?x?x8xf32>, tensor<8x8xf32>, tensor<8x8xf32>, tensor<8x8xf32>, tensor<8x8xf32, #llm.quant<bits = 8, symmetric = true, scale = f32>>) -> tensor<?x?x8xf32>
  return %0 : tensor<?x?x8xf32>
}

// -----

// Attention outside a block has no single place for a head.
func.func @unformed(%x: tensor<?x?x8xf32>) -> tensor<?x?x8xf32> {
  // expected-error @+1 {{'llm.attention' op llm-prune-heads: attention outside an llm.self_attention block (run llm-form-blocks first)}}
  %0 = llm.attention %x, %x, %x {num_heads = 4 : i64, num_kv_heads = 4 : i64, head_dim = 2 : i64, scale = 0.7 : f64, layer = 0 : i64} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
  return %0 : tensor<?x?x8xf32>
}

// Calibrated on text a two-layer model samples itself, ranked over the
// whole model by the measured loss: 4 of its 8 query heads go, each
// layer's shapes measured too (the second table). O is refit with a new
// bias (the mean of what the removed heads added), the model's head counts
// follow the largest layer, and the module verifies and runs on the
// reference interpreter.
// RUN: microscale-opt %S/Inputs/tiny-decoder.mlir --llm-prune-heads="count=4 calibration=self calibration-tokens=128 print-ranking" -o %t.loss.mlir 2> %t.loss.ranking
// RUN: FileCheck %s --check-prefix=LOSS < %t.loss.ranking
// RUN: FileCheck %s --check-prefix=PRUNED < %t.loss.mlir
// RUN: microscale run %t.loss.mlir --prompt-ids 1,5,7 -n 4 | FileCheck %s --check-prefix=RUNS
// LOSS: llm-prune-heads: importance = loss increase without the head (mean KL divergence from the float model, nats/token over 128 calibration tokens)
// LOSS-NEXT: layer  head  kv group     importance  choice
// LOSS-COUNT-8: {{^[01] +[0-3] +[01] +-?[0-9]\.[0-9]{3}e[-+][0-9]+  (kept|removed)$}}
// LOSS-NEXT: llm-prune-heads: measured loss increase of each layer's shapes (the heads the per-head costs propose for each count)
// LOSS-NEXT: layer  removed   loss increase  choice
// LOSS-COUNT-4: {{^[01] +[23] +-?[0-9]\.[0-9]{3}e[-+][0-9]+  (chosen)?$}}
// PRUNED: llm.model = #llm.model<{{.*}}num_layers = 2, num_heads = {{[24]}}, num_kv_heads = {{[12]}}
// PRUNED-COUNT-2: llm.self_attention {{.*}} o %{{.*}} bias %{{.*}} : (tensor<?x?x8xf32>, tensor<{{[248]}}x8xf32>, tensor<{{[24]}}x8xf32>, tensor<{{[24]}}x8xf32>, tensor<8x{{[248]}}xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
// RUNS: {{[0-9]+}}

// Per layer by the activation-weighted output error: each layer loses half
// its heads.
// RUN: microscale-opt %S/Inputs/tiny-decoder.mlir --llm-prune-heads="fraction=0.5 scope=layer importance=activation calibration=self calibration-tokens=128" | FileCheck %s --check-prefix=PER-LAYER
// PER-LAYER: num_heads = 2
// PER-LAYER-COUNT-2: llm.self_attention {{.*}}num_heads = 2 : i64{{.*}} : (tensor<?x?x8xf32>, tensor<4x8xf32>, tensor<{{[24]}}x8xf32>, tensor<{{[24]}}x8xf32>, tensor<8x4xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>

// Bad options.
// RUN: not microscale-opt %S/Inputs/tiny-decoder.mlir --llm-prune-heads="fraction=0.5 count=2 importance=magnitude" 2>&1 | FileCheck %s --check-prefix=BOTH
// RUN: not microscale-opt %S/Inputs/tiny-decoder.mlir --llm-prune-heads="fraction=0.5 scope=model importance=magnitude" 2>&1 | FileCheck %s --check-prefix=SCOPE
// RUN: not microscale-opt %S/Inputs/tiny-decoder.mlir --llm-prune-heads="fraction=0.5 importance=taylor" 2>&1 | FileCheck %s --check-prefix=IMPORTANCE
// RUN: not microscale-opt %S/Inputs/tiny-decoder.mlir --llm-prune-heads="fraction=0.5" 2>&1 | FileCheck %s --check-prefix=CALIBRATION
// BOTH: error: llm-prune-heads: give exactly one of fraction and count (positive)
// SCOPE: error: llm-prune-heads: scope must be global or layer, got 'model'
// IMPORTANCE: error: llm-prune-heads: importance must be loss, activation or magnitude, got 'taylor'
// CALIBRATION: error: llm-prune-heads: importance=loss is measured on calibration text (calibration=FILE or self)
