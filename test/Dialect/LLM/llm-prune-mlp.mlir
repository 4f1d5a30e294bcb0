// RUN: microscale-opt %s --split-input-file --verify-diagnostics --llm-prune-mlp="fraction=0.5 importance=magnitude" | FileCheck %s

// A plain MLP by weight magnitude (no calibration): channels 1 and 3 have
// the smallest up rows, so they leave up (and its bias) and down; down's
// bias stays.
// CHECK-LABEL: func.func @plain
// CHECK-DAG: %[[UP:.*]] = llm.weight "up" : tensor<2x4xf32> = dense_resource<up.pruned>
// CHECK-DAG: %[[UB:.*]] = llm.weight "up_bias" : tensor<2xf32> = dense_resource<up_bias.pruned>
// CHECK-DAG: %[[DOWN:.*]] = llm.weight "down" : tensor<4x2xf32> = dense_resource<down.pruned>
// CHECK-DAG: %[[DB:.*]] = llm.weight "down_bias" : tensor<4xf32> = dense<1.000000e-01>
// CHECK: llm.mlp %{{.*}} up %[[UP]] bias %[[UB]] down %[[DOWN]] bias %[[DB]]
// CHECK-SAME: (tensor<?x?x4xf32>, tensor<2x4xf32>, tensor<2xf32>, tensor<4x2xf32>, tensor<4xf32>) -> tensor<?x?x4xf32>
func.func @plain(%x: tensor<?x?x4xf32>) -> tensor<?x?x4xf32> {
  %up = llm.weight "up" : tensor<4x4xf32> = dense<[[1.0, 1.0, 1.0, 1.0], [0.1, 0.1, 0.1, 0.1], [2.0, 2.0, 2.0, 2.0], [0.2, 0.2, 0.2, 0.2]]> : tensor<4x4xf32>
  %ub = llm.weight "up_bias" : tensor<4xf32> = dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  %down = llm.weight "down" : tensor<4x4xf32> = dense<0.5> : tensor<4x4xf32>
  %db = llm.weight "down_bias" : tensor<4xf32> = dense<0.1> : tensor<4xf32>
  %0 = llm.mlp %x up %up bias %ub down %down bias %db {activation = #llm<activation gelu>} : (tensor<?x?x4xf32>, tensor<4x4xf32>, tensor<4xf32>, tensor<4x4xf32>, tensor<4xf32>) -> tensor<?x?x4xf32>
  return %0 : tensor<?x?x4xf32>
}

// -----

// A gated MLP: half of 6 channels go from gate, up and down alike.
// CHECK-LABEL: func.func @gated
// CHECK: llm.mlp
// CHECK-SAME: (tensor<?x?x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>, tensor<4x3xf32>) -> tensor<?x?x4xf32>
func.func @gated(%x: tensor<?x?x4xf32>) -> tensor<?x?x4xf32> {
  %up = llm.weight "up" : tensor<6x4xf32> = dense<[[0.3, 0.3, 0.3, 0.3], [1.0, 1.0, 1.0, 1.0], [0.1, 0.1, 0.1, 0.1], [2.0, 2.0, 2.0, 2.0], [0.2, 0.2, 0.2, 0.2], [0.5, 0.5, 0.5, 0.5]]> : tensor<6x4xf32>
  %gate = llm.weight "gate" : tensor<6x4xf32> = dense<0.25> : tensor<6x4xf32>
  %down = llm.weight "down" : tensor<4x6xf32> = dense<0.5> : tensor<4x6xf32>
  %0 = llm.mlp %x up %up gate %gate down %down {activation = #llm<activation silu>} : (tensor<?x?x4xf32>, tensor<6x4xf32>, tensor<6x4xf32>, tensor<4x6xf32>) -> tensor<?x?x4xf32>
  return %0 : tensor<?x?x4xf32>
}

// -----

// Pruning runs before quantization.
func.func @quantized(%x: tensor<?x?x4xf32>) -> tensor<?x?x4xf32> {
  %up = llm.weight "up" : tensor<4x4xf32> = dense<0.5> : tensor<4x4xf32>
  %down = llm.weight "down" : tensor<4x4xf32, #llm.quant<bits = 8, symmetric = true, scale = f32>> = dense<1> : tensor<4x4xi8> scales dense<0.1> : tensor<4x1xf32>
  // expected-error @+1 {{llm-prune-mlp: weight 'down' is quantized (#llm.quant<bits = 8, symmetric = true, scale = f32>); pruning runs on float weights, before quantization}}
  %0 = llm.mlp %x up %up down %down {activation = #llm<activation relu>} : (tensor<?x?x4xf32>, tensor<4x4xf32>, tensor<4x4xf32, #llm.quant<bits = 8, symmetric = true, scale = f32>>) -> tensor<?x?x4xf32>
  return %0 : tensor<?x?x4xf32>
}

// -----

// Calibrated on text a two-layer model samples itself: the optimal brain
// surgeon picks 3 of 12 channels per MLP, down is refit with a new bias,
// and the module (with #llm.model) still verifies and runs on the reference
// interpreter.
// RUN: microscale-opt %S/Inputs/tiny-decoder.mlir --llm-prune-mlp="fraction=0.25 calibration=self calibration-tokens=128" -o %t.pruned.mlir
// RUN: FileCheck %s --check-prefix=CALIBRATED < %t.pruned.mlir
// RUN: microscale run %t.pruned.mlir --prompt-ids 1,5,7 -n 4 | FileCheck %s --check-prefix=RUNS
// CALIBRATED-COUNT-2: llm.mlp {{.*}} down %{{.*}} bias %{{.*}} : (tensor<?x?x8xf32>, tensor<9x8xf32>, tensor<9x8xf32>, tensor<8x9xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
// RUNS: {{[0-9]+}}

// Bad options.
// RUN: not microscale-opt %S/Inputs/tiny-decoder.mlir --llm-prune-mlp="fraction=1.5" 2>&1 | FileCheck %s --check-prefix=FRACTION
// RUN: not microscale-opt %S/Inputs/tiny-decoder.mlir --llm-prune-mlp="fraction=0.5 importance=loss" 2>&1 | FileCheck %s --check-prefix=IMPORTANCE
// RUN: not microscale-opt %S/Inputs/tiny-decoder.mlir --llm-prune-mlp="fraction=0.5" 2>&1 | FileCheck %s --check-prefix=CALIBRATION
// FRACTION: error: llm-prune-mlp: fraction must be in (0, 1), got 1.5
// IMPORTANCE: error: llm-prune-mlp: importance must be activation or magnitude, got 'loss'
// CALIBRATION: error: llm-prune-mlp: importance=activation is measured on calibration text (calibration=FILE or self)
