// RUN: microscale-opt %s --split-input-file --verify-diagnostics --llm-prune-weights="fraction=0.5 method=magnitude" | FileCheck %s
// RUN: microscale-opt %s --split-input-file --verify-diagnostics --llm-prune-weights="pattern=2:4 method=magnitude" | FileCheck %s --check-prefix=PATTERN
// RUN: microscale-opt %s --split-input-file --verify-diagnostics --llm-prune-weights="fraction=0.25 scope=matrix method=magnitude" | FileCheck %s --check-prefix=MATRIX

// Half of each row by magnitude (no calibration): row 0 [1, -4, 0.5, 3]
// keeps -4 and 3, row 1 [-2, 0.25, 5, 1.5] keeps -2 and 5. The shape and
// the dense storage stay; the blob (its alignment, 64, as a 4-byte
// header, then little-endian f32) reads [0, -4, 0, 3], [-2, 0, 5, 0]. The bias is not a
// matrix and stays.
// CHECK-LABEL: func.func @linear
// CHECK: %[[W:.*]] = llm.weight "w" : tensor<2x4xf32> = dense_resource<w.pruned> : tensor<2x4xf32>
// CHECK: %[[B:.*]] = llm.weight "b" : tensor<2xf32> = dense<1.000000e+00>
// CHECK: llm.linear %{{.*}}, %[[W]], %[[B]]
// CHECK: w.pruned: "0x4000000000000000000080C00000000000004040000000C0000000000000A04000000000"
// With 2:4 the rows are single groups: the same zeros.
// PATTERN-LABEL: func.func @linear
// PATTERN: w.pruned: "0x4000000000000000000080C00000000000004040000000C0000000000000A04000000000"
// A quarter of the whole matrix: the two smallest, 0.25 and 0.5.
// MATRIX-LABEL: func.func @linear
// MATRIX: w.pruned: "0x400000000000803F000080C00000000000004040000000C0000000000000A0400000C03F"
func.func @linear(%x: tensor<?x?x4xf32>) -> tensor<?x?x2xf32> {
  %w = llm.weight "w" : tensor<2x4xf32> = dense<[[1.0, -4.0, 0.5, 3.0], [-2.0, 0.25, 5.0, 1.5]]> : tensor<2x4xf32>
  %b = llm.weight "b" : tensor<2xf32> = dense<1.0> : tensor<2xf32>
  %y = llm.linear %x, %w, %b : (tensor<?x?x4xf32>, tensor<2x4xf32>, tensor<2xf32>) -> tensor<?x?x2xf32>
  return %y : tensor<?x?x2xf32>
}

// -----

// Six inputs: one group of 4 and a tail of 2. Half of each row goes
// (three weights); 2:4 prunes two in the group and keeps the tail whole,
// since a tail of r inputs keeps min(2, r).
// CHECK-LABEL: func.func @tail
// CHECK: t.pruned: "0x40000000000000000000000000000000000080400000A0400000C040"
// PATTERN-LABEL: func.func @tail
// PATTERN: t.pruned: "0x40000000000000000000000000004040000080400000A0400000C040"
func.func @tail(%x: tensor<?x?x6xf32>) -> tensor<?x?x1xf32> {
  %t = llm.weight "t" : tensor<1x6xf32> = dense<[[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]]> : tensor<1x6xf32>
  %y = llm.linear %x, %t : (tensor<?x?x6xf32>, tensor<1x6xf32>) -> tensor<?x?x1xf32>
  return %y : tensor<?x?x1xf32>
}

// -----

// Pruning runs before quantization.
func.func @quantized(%x: tensor<?x?x4xf32>) -> tensor<?x?x4xf32> {
  %w = llm.weight "q" : tensor<4x4xf32, #llm.quant<bits = 8, symmetric = true, scale = f32>> = dense<1> : tensor<4x4xi8> scales dense<0.1> : tensor<4x1xf32>
  // expected-error @+1 {{llm-prune-weights: weight 'q' is quantized (#llm.quant<bits = 8, symmetric = true, scale = f32>); pruning runs on float weights, before quantization}}
  %y = llm.linear %x, %w : (tensor<?x?x4xf32>, tensor<4x4xf32, #llm.quant<bits = 8, symmetric = true, scale = f32>>) -> tensor<?x?x4xf32>
  return %y : tensor<?x?x4xf32>
}

// -----

// The calibrated methods on a two-layer model, calibrated on text it
// samples itself: every projection of both layers (7 per layer) is pruned,
// the tied embedding and logits table is not, and the module still runs on
// the reference interpreter.
// RUN: microscale-opt %S/Inputs/tiny-decoder.mlir --llm-prune-weights="fraction=0.5 calibration=self calibration-tokens=128" -o %t.sparsegpt.mlir
// RUN: FileCheck %s --check-prefix=CALIBRATED < %t.sparsegpt.mlir
// RUN: microscale run %t.sparsegpt.mlir --prompt-ids 1,5,7 -n 4 | FileCheck %s --check-prefix=RUNS
// RUN: microscale-opt %S/Inputs/tiny-decoder.mlir --llm-prune-weights="pattern=2:4 method=wanda calibration=self calibration-tokens=128" | FileCheck %s --check-prefix=CALIBRATED
// RUN: microscale-opt %S/Inputs/tiny-decoder.mlir --llm-prune-weights="fraction=0.5 sequential=false calibration=self calibration-tokens=128" | FileCheck %s --check-prefix=CALIBRATED
// CALIBRATED: llm.weight "embed" : tensor<16x8xf32> = dense<"0x
// CALIBRATED-COUNT-14: llm.weight "layers.{{[01]}}.{{q|k|v|o|up|gate|down}}" : tensor<{{[0-9]+}}x{{[0-9]+}}xf32> = dense_resource<layers.{{[01]}}.{{[a-z]+}}.pruned>
// CALIBRATED-NOT: .pruned>
// CALIBRATED: llm.embedding
// RUNS: {{[0-9]+}}

// Bad options.
// RUN: not microscale-opt %S/Inputs/tiny-decoder.mlir --llm-prune-weights="fraction=1.5" 2>&1 | FileCheck %s --check-prefix=FRACTION
// RUN: not microscale-opt %S/Inputs/tiny-decoder.mlir --llm-prune-weights="fraction=0.5 method=random" 2>&1 | FileCheck %s --check-prefix=METHOD
// RUN: not microscale-opt %S/Inputs/tiny-decoder.mlir --llm-prune-weights="pattern=4:4 method=magnitude" 2>&1 | FileCheck %s --check-prefix=PATTERN-RANGE
// RUN: not microscale-opt %S/Inputs/tiny-decoder.mlir --llm-prune-weights="pattern=2:4 fraction=0.25 method=magnitude" 2>&1 | FileCheck %s --check-prefix=MISMATCH
// RUN: not microscale-opt %S/Inputs/tiny-decoder.mlir --llm-prune-weights="fraction=0.5 scope=layer method=magnitude" 2>&1 | FileCheck %s --check-prefix=SCOPE
// RUN: not microscale-opt %S/Inputs/tiny-decoder.mlir --llm-prune-weights="fraction=0.5 method=wanda" 2>&1 | FileCheck %s --check-prefix=CALIBRATION
// FRACTION: error: llm-prune-weights: fraction must be in (0, 1), got 1.5
// METHOD: error: llm-prune-weights: method must be magnitude, wanda or sparsegpt, got 'random'
// PATTERN-RANGE: error: llm-prune-weights: pattern 4:4 must have 1 <= N < M <= 64
// MISMATCH: error: llm-prune-weights: fraction 0.25 does not match pattern 2:4, which prunes 0.5 (give one or the other)
// SCOPE: error: llm-prune-weights: scope must be row or matrix, got 'layer'
// CALIBRATION: error: llm-prune-weights: method=wanda weighs weights by their inputs on calibration text (calibration=FILE or self); method=magnitude needs none
