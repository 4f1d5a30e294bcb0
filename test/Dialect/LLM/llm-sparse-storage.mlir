// RUN: microscale-opt %s --split-input-file --verify-diagnostics --llm-sparse-storage="print-choices=true max-density-f32=0.5 max-density-int8=0.5" | FileCheck %s
// The measured crossovers (the defaults, 0: sparse storage never paid on
// the machine utils/bench_sparse.py measured) keep every matrix dense.
// RUN: microscale-opt %s --split-input-file --verify-diagnostics --llm-sparse-storage="print-choices=true" | FileCheck %s --check-prefix=MEASURED
// MEASURED: llm-sparse-storage: w f32 density 0.2000 -> dense
// MEASURED: llm-sparse-storage: q int8 density 0.2000 -> dense
// MEASURED-NOT: #llm.sparse
// RUN: microscale-opt %s --split-input-file --verify-diagnostics --llm-sparse-storage="storage=sparse" | FileCheck %s --check-prefix=SPARSE
// RUN: microscale-opt %s --split-input-file --verify-diagnostics --llm-sparse-storage="max-density-f32=0.1 max-density-int8=0.1" | FileCheck %s --check-prefix=CROSSOVER
// RUN: not microscale-opt %s --split-input-file --llm-sparse-storage=storage=csr 2>&1 | FileCheck %s --check-prefix=OPTION
// RUN: not microscale-opt %s --split-input-file --llm-sparse-storage=max-density-f32=2 2>&1 | FileCheck %s --check-prefix=DENSITY
// OPTION: llm-sparse-storage: storage must be auto or sparse, got 'csr'
// DENSITY: llm-sparse-storage: max-density-f32 is a share of non-zero weights, in [0, 1]
// The printed module parses again and is stored the same way.
// RUN: microscale-opt %s --split-input-file --llm-sparse-storage=storage=sparse | microscale-opt --split-input-file | FileCheck %s --check-prefix=ROUNDTRIP

// Two rows of ten inputs keep 4 of 20 (density 0.2, below the crossover):
// mask bytes 0x82 0x02 (inputs 1, 7, 9) and 0x01 0x00 (input 0), values
// 1, 2, 3, 4 (f32 blobs: a 4-byte alignment header, then little-endian
// data), row offsets 0, 3, 4.
// CHECK: llm-sparse-storage: w f32 density 0.2000 -> bitmask
// CHECK-LABEL: func.func @linear
// CHECK: %[[W:.*]] = llm.weight "w" : tensor<2x10xf32, #llm.sparse<pattern = "unstructured", format = bitmask>> = dense_resource<w.values> : tensor<4xf32> indices dense_resource<w.masks> : tensor<2x2xi8> offsets dense_resource<w.offsets> : tensor<3xi32>
// CHECK: llm.linear %{{.*}}, %[[W]] : (tensor<?x?x10xf32>, tensor<2x10xf32, #llm.sparse<pattern = "unstructured", format = bitmask>>)
// CHECK: w.values: "0x400000000000803F000000400000404000008040"
// CHECK: w.masks: "0x4000000082020100"
// CHECK: w.offsets: "0x40000000000000000300000004000000"
// Below the crossover either way.
// SPARSE-LABEL: func.func @linear
// SPARSE: format = bitmask
// A crossover of 0.1 keeps it dense.
// CROSSOVER-LABEL: func.func @linear
// CROSSOVER: llm.weight "w" : tensor<2x10xf32> = dense
// ROUNDTRIP-LABEL: func.func @linear
// ROUNDTRIP: llm.weight "w" : tensor<2x10xf32, #llm.sparse<pattern = "unstructured", format = bitmask>>
func.func @linear(%x: tensor<?x?x10xf32>) -> tensor<?x?x2xf32> {
  %w = llm.weight "w" : tensor<2x10xf32> = dense<[[0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0, 0.0, 3.0], [4.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]> : tensor<2x10xf32>
  %y = llm.linear %x, %w : (tensor<?x?x10xf32>, tensor<2x10xf32>) -> tensor<?x?x2xf32>
  return %y : tensor<?x?x2xf32>
}

// -----

// Per-row int8 codes keep their codes (1, -2, 3, 4) and their scales.
// CHECK: llm-sparse-storage: q int8 density 0.2000 -> bitmask
// CHECK-LABEL: func.func @int8
// CHECK: llm.weight "q" : tensor<2x10xf32, #llm.sparse<pattern = "unstructured", format = bitmask, quant = <bits = 8, symmetric = true, scale = f16>>> = dense_resource<q.values> : tensor<4xi8> scales dense<[
// CHECK-SAME: [5.000000e-01], [2.500000e-01]]> : tensor<2x1xf16> indices dense_resource<q.masks> : tensor<2x2xi8> offsets dense_resource<q.offsets> : tensor<3xi32>
// CHECK: q.values: "0x4000000001FE0304"
// CROSSOVER-LABEL: func.func @int8
// CROSSOVER: llm.weight "q" : tensor<2x10xf32, #llm.quant
// ROUNDTRIP-LABEL: func.func @int8
// ROUNDTRIP: llm.weight "q" : tensor<2x10xf32, #llm.sparse<pattern = "unstructured", format = bitmask, quant = <bits = 8, symmetric = true, scale = f16>>>
func.func @int8(%x: tensor<?x?x10xf32>) -> tensor<?x?x2xf32> {
  %w = llm.weight "q" : tensor<2x10xf32, #llm.quant<bits = 8, symmetric = true, scale = f16>> = dense<[[0, 1, 0, 0, 0, 0, 0, -2, 0, 3], [4, 0, 0, 0, 0, 0, 0, 0, 0, 0]]> : tensor<2x10xi8> scales dense<[[0.5], [0.25]]> : tensor<2x1xf16>
  %y = llm.linear %x, %w : (tensor<?x?x10xf32>, tensor<2x10xf32, #llm.quant<bits = 8, symmetric = true, scale = f16>>) -> tensor<?x?x2xf32>
  return %y : tensor<?x?x2xf32>
}

// -----

// Half the weights (density 0.5, at a crossover of 0.5) goes sparse;
// a dense matrix (density 1) stays; groups of 32 and 4-bit codes are not
// what the sparse kernels read and stay as they are.
// CHECK: llm-sparse-storage: half f32 density 0.5000 -> bitmask
// CHECK: llm-sparse-storage: full f32 density 1.0000 -> dense
// CHECK-NOT: llm-sparse-storage: q4
// CHECK-LABEL: func.func @choices
// CHECK: llm.weight "half" : tensor<2x2xf32, #llm.sparse
// CHECK: llm.weight "full" : tensor<2x2xf32> = dense
// CHECK: llm.weight "q4" : tensor<2x64xf32, #llm.quant
// SPARSE-LABEL: func.func @choices
// SPARSE: llm.weight "full" : tensor<2x2xf32> = dense
func.func @choices(%x: tensor<?x?x2xf32>, %z: tensor<?x?x64xf32>) -> tensor<?x?x2xf32> {
  %h = llm.weight "half" : tensor<2x2xf32> = dense<[[0.0, 1.0], [2.0, 0.0]]> : tensor<2x2xf32>
  %f = llm.weight "full" : tensor<2x2xf32> = dense<[[3.0, 1.0], [2.0, 5.0]]> : tensor<2x2xf32>
  %q = llm.weight "q4" : tensor<2x64xf32, #llm.quant<bits = 4, group = 32, symmetric = true, scale = f16>> = dense<0> : tensor<2x32xi8> scales dense<1.0> : tensor<2x2xf16>
  %a = llm.linear %x, %h : (tensor<?x?x2xf32>, tensor<2x2xf32>) -> tensor<?x?x2xf32>
  %b = llm.linear %a, %f : (tensor<?x?x2xf32>, tensor<2x2xf32>) -> tensor<?x?x2xf32>
  %c = llm.linear %z, %q : (tensor<?x?x64xf32>, tensor<2x64xf32, #llm.quant<bits = 4, group = 32, symmetric = true, scale = f16>>) -> tensor<?x?x2xf32>
  %d = llm.add %b, %c : tensor<?x?x2xf32>
  return %d : tensor<?x?x2xf32>
}

// -----

// A table tied to the embedding is read by rows: it stays dense even where
// the logits projection could use it sparse; an untied logits weight goes.
// CHECK-NOT: llm-sparse-storage: tied
// CHECK: llm-sparse-storage: head f32 density 0.5000 -> bitmask
// CHECK-LABEL: func.func @tied
// CHECK: llm.weight "tied" : tensor<4x2xf32> = dense
// CHECK: llm.weight "head" : tensor<4x2xf32, #llm.sparse
func.func @tied(%ids: tensor<?x?xi64>) -> tensor<?x?x4xf32> {
  %t = llm.weight "tied" : tensor<4x2xf32> = dense<[[0.0, 1.0], [2.0, 0.0], [0.0, 1.0], [2.0, 0.0]]> : tensor<4x2xf32>
  %h = llm.weight "head" : tensor<4x2xf32> = dense<[[0.0, 1.0], [2.0, 0.0], [0.0, 1.0], [2.0, 0.0]]> : tensor<4x2xf32>
  %e = llm.embedding %t, %ids : (tensor<4x2xf32>, tensor<?x?xi64>) -> tensor<?x?x2xf32>
  %l = llm.logits %e, %t : (tensor<?x?x2xf32>, tensor<4x2xf32>) -> tensor<?x?x4xf32>
  %m = llm.logits %e, %h : (tensor<?x?x2xf32>, tensor<4x2xf32>) -> tensor<?x?x4xf32>
  return %m : tensor<?x?x4xf32>
}
