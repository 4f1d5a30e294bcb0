// RUN: microscale-opt %s --split-input-file --verify-diagnostics --llm-prune-layers="layers=1" | FileCheck %s

// Layer 1 goes: its blocks, their residual additions and the norms and
// weights only they read. Layer 2 becomes layer 1 (its KV-cache slot too)
// and #llm.model counts two layers.
// CHECK: module attributes {llm.model = #llm.model<arch = "llama", vocab_size = 8, hidden_size = 4, num_layers = 2,
// CHECK-LABEL: func.func @decoder
// CHECK-NOT: layers.1.
// CHECK: %[[H1:.*]] = llm.add %{{.*}}, %{{.*}} : tensor<?x?x4xf32>
// CHECK: %[[H2:.*]] = llm.add %{{.*}}, %[[H1]] : tensor<?x?x4xf32>
// CHECK: %[[N:.*]] = llm.rms_norm %[[H2]], %{{.*}}
// CHECK: llm.self_attention %[[N]] {{.*}}layer = 1 : i64
// CHECK: llm.mlp {{.*}}layer = 1 : i64
// CHECK-NOT: llm.self_attention
// CHECK: llm.logits
module attributes {llm.model = #llm.model<arch = "llama", vocab_size = 8, hidden_size = 4, num_layers = 3, num_heads = 2, num_kv_heads = 2, head_dim = 2, max_context = 16, bos_id = 1, eos_id = 2, tokenizer = "">} {
  func.func @decoder(%ids: tensor<?x?xi64>) -> tensor<?x?x8xf32> {
    %embed = llm.weight "embed" : tensor<8x4xf32> = dense<0.5> : tensor<8x4xf32>
    %h0 = llm.embedding %embed, %ids : (tensor<8x4xf32>, tensor<?x?xi64>) -> tensor<?x?x4xf32>
    %g0a = llm.weight "layers.0.attn_norm" : tensor<4xf32> = dense<1.0> : tensor<4xf32>
    %w0 = llm.weight "layers.0.proj" : tensor<4x4xf32> = dense<0.25> : tensor<4x4xf32>
    %n0a = llm.rms_norm %h0, %g0a {epsilon = 1.0e-05 : f64} : (tensor<?x?x4xf32>, tensor<4xf32>) -> tensor<?x?x4xf32>
    %a0 = llm.self_attention %n0a q %w0 k %w0 v %w0 o %w0 {head_dim = 2 : i64, layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 2 : i64, scale = 0.70710678118654757 : f64} : (tensor<?x?x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<?x?x4xf32>
    %h1 = llm.add %h0, %a0 : tensor<?x?x4xf32>
    %g0m = llm.weight "layers.0.mlp_norm" : tensor<4xf32> = dense<1.0> : tensor<4xf32>
    %n0m = llm.rms_norm %h1, %g0m {epsilon = 1.0e-05 : f64} : (tensor<?x?x4xf32>, tensor<4xf32>) -> tensor<?x?x4xf32>
    %m0 = llm.mlp %n0m up %w0 down %w0 {activation = #llm<activation relu>, layer = 0 : i64} : (tensor<?x?x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<?x?x4xf32>
    %h2 = llm.add %m0, %h1 : tensor<?x?x4xf32>
    %g1a = llm.weight "layers.1.attn_norm" : tensor<4xf32> = dense<1.0> : tensor<4xf32>
    %w1 = llm.weight "layers.1.proj" : tensor<4x4xf32> = dense<0.25> : tensor<4x4xf32>
    %n1a = llm.rms_norm %h2, %g1a {epsilon = 1.0e-05 : f64} : (tensor<?x?x4xf32>, tensor<4xf32>) -> tensor<?x?x4xf32>
    %a1 = llm.self_attention %n1a q %w1 k %w1 v %w1 o %w1 {head_dim = 2 : i64, layer = 1 : i64, num_heads = 2 : i64, num_kv_heads = 2 : i64, scale = 0.70710678118654757 : f64} : (tensor<?x?x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<?x?x4xf32>
    %h3 = llm.add %h2, %a1 : tensor<?x?x4xf32>
    %g1m = llm.weight "layers.1.mlp_norm" : tensor<4xf32> = dense<1.0> : tensor<4xf32>
    %n1m = llm.rms_norm %h3, %g1m {epsilon = 1.0e-05 : f64} : (tensor<?x?x4xf32>, tensor<4xf32>) -> tensor<?x?x4xf32>
    %m1 = llm.mlp %n1m up %w1 down %w1 {activation = #llm<activation relu>, layer = 1 : i64} : (tensor<?x?x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<?x?x4xf32>
    %h4 = llm.add %m1, %h3 : tensor<?x?x4xf32>
    %g2a = llm.weight "layers.2.attn_norm" : tensor<4xf32> = dense<1.0> : tensor<4xf32>
    %w2 = llm.weight "layers.2.proj" : tensor<4x4xf32> = dense<0.25> : tensor<4x4xf32>
    %n2a = llm.rms_norm %h4, %g2a {epsilon = 1.0e-05 : f64} : (tensor<?x?x4xf32>, tensor<4xf32>) -> tensor<?x?x4xf32>
    %a2 = llm.self_attention %n2a q %w2 k %w2 v %w2 o %w2 {head_dim = 2 : i64, layer = 2 : i64, num_heads = 2 : i64, num_kv_heads = 2 : i64, scale = 0.70710678118654757 : f64} : (tensor<?x?x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<?x?x4xf32>
    %h5 = llm.add %h4, %a2 : tensor<?x?x4xf32>
    %g2m = llm.weight "layers.2.mlp_norm" : tensor<4xf32> = dense<1.0> : tensor<4xf32>
    %n2m = llm.rms_norm %h5, %g2m {epsilon = 1.0e-05 : f64} : (tensor<?x?x4xf32>, tensor<4xf32>) -> tensor<?x?x4xf32>
    %m2 = llm.mlp %n2m up %w2 down %w2 {activation = #llm<activation relu>, layer = 2 : i64} : (tensor<?x?x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<?x?x4xf32>
    %h6 = llm.add %m2, %h5 : tensor<?x?x4xf32>
    %logits = llm.logits %h6, %embed {tied} : (tensor<?x?x4xf32>, tensor<8x4xf32>) -> tensor<?x?x8xf32>
    return %logits : tensor<?x?x8xf32>
  }
}

// -----

// Attention outside a block.
func.func @unformed(%x: tensor<?x?x4xf32>) -> tensor<?x?x4xf32> {
  // expected-error @+1 {{'llm.attention' op llm-prune-layers: attention outside an llm.self_attention block (run llm-form-blocks first)}}
  %0 = llm.attention %x, %x, %x {num_heads = 2 : i64, num_kv_heads = 2 : i64, head_dim = 2 : i64, scale = 0.7 : f64, layer = 0 : i64} : (tensor<?x?x4xf32>, tensor<?x?x4xf32>, tensor<?x?x4xf32>) -> tensor<?x?x4xf32>
  return %0 : tensor<?x?x4xf32>
}

// Ranked by the calibration loss without each layer, on text the model
// samples itself: the table lists both layers, cheapest first, with the
// loss and its increase over the full model's; the cheapest goes.
// RUN: microscale-opt %S/Inputs/tiny-decoder.mlir --llm-prune-layers="count=1 calibration=self calibration-tokens=128 print-ranking" -o %t.pruned.mlir 2> %t.ranking
// RUN: FileCheck %s --check-prefix=RANKING < %t.ranking
// RUN: FileCheck %s --check-prefix=PRUNED < %t.pruned.mlir
// RUN: microscale run %t.pruned.mlir --prompt-ids 1,5,7 -n 4 | FileCheck %s --check-prefix=RUNS
// RANKING: llm-prune-layers: calibration loss without each layer (mean nats per token over 128 tokens; the full model: {{[0-9]+\.[0-9]+}})
// RANKING-NEXT: rank  layer        loss   increase  choice
// RANKING-NEXT: {{^1     [01]      +[0-9]+\.[0-9]+ +-?[0-9]+\.[0-9]+  removed$}}
// RANKING-NEXT: {{^2     [01]      +[0-9]+\.[0-9]+ +-?[0-9]+\.[0-9]+  kept$}}
// PRUNED: num_layers = 1
// PRUNED-COUNT-1: llm.self_attention {{.*}}layer = 0 : i64
// PRUNED-NOT: llm.self_attention
// RUNS: {{[0-9]+}}

// Bad options.
// RUN: not microscale-opt %S/Inputs/tiny-decoder.mlir --llm-prune-layers="count=1 layers=0" 2>&1 | FileCheck %s --check-prefix=BOTH
// RUN: not microscale-opt %S/Inputs/tiny-decoder.mlir --llm-prune-layers="layers=2" 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not microscale-opt %S/Inputs/tiny-decoder.mlir --llm-prune-layers="layers=0,1" 2>&1 | FileCheck %s --check-prefix=ALL
// RUN: not microscale-opt %S/Inputs/tiny-decoder.mlir --llm-prune-layers="count=1" 2>&1 | FileCheck %s --check-prefix=CALIBRATION
// BOTH: error: llm-prune-layers: give exactly one of count (positive) and layers
// MISSING: error: llm-prune-layers: there is no layer 2 (the model has 2)
// ALL: error: llm-prune-layers: removing 2 of 2 layers leaves none
// CALIBRATION: error: llm-prune-layers: ranking layers needs calibration text (calibration=FILE or self)
