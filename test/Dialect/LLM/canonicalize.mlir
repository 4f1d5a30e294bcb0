// RUN: microscale-opt %s --split-input-file --canonicalize | FileCheck %s

// Rewrites that unique constants (the greedy driver behind --canonicalize
// and llm-expand-blocks) keep quantized weights that store different data
// apart: same codes and type, different scales, are two weights (also
// after a dense weight, whose folded value the driver once reused for them).
// CHECK-LABEL: func.func @distinct_quantized_weights
// CHECK-DAG:     %[[A:.*]] = llm.weight "a" {{.*}} scales dense<1.000000e+00> : tensor<8x1xf16>
// CHECK-DAG:     %[[B:.*]] = llm.weight "b" {{.*}} scales dense<2.000000e+00> : tensor<8x1xf16>
// CHECK:         llm.linear %{{.*}}, %[[A]]
// CHECK:         llm.linear %{{.*}}, %[[B]]
func.func @distinct_quantized_weights(%x: tensor<?x?x8xf32>) -> (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) {
  %g = llm.weight "g" : tensor<8xf32> = dense<1.0> : tensor<8xf32>
  %a = llm.weight "a" : tensor<8x8xf32, #llm.quant<bits = 8, symmetric = true, scale = f16>> = dense<3> : tensor<8x8xi8> scales dense<1.0> : tensor<8x1xf16>
  %b = llm.weight "b" : tensor<8x8xf32, #llm.quant<bits = 8, symmetric = true, scale = f16>> = dense<3> : tensor<8x8xi8> scales dense<2.0> : tensor<8x1xf16>
  %ya = llm.linear %x, %a : (tensor<?x?x8xf32>, tensor<8x8xf32, #llm.quant<bits = 8, symmetric = true, scale = f16>>) -> tensor<?x?x8xf32>
  %yb = llm.linear %x, %b : (tensor<?x?x8xf32>, tensor<8x8xf32, #llm.quant<bits = 8, symmetric = true, scale = f16>>) -> tensor<?x?x8xf32>
  %n = llm.rms_norm %x, %g {epsilon = 1.0e-5 : f64} : (tensor<?x?x8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
  return %ya, %yb, %n : tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>
}

// -----

// Asymmetric weights differing only in their zero points stay apart too.
// CHECK-LABEL: func.func @distinct_zero_points
// CHECK-DAG:     llm.weight "a" {{.*}} zero_points dense<1> : tensor<8x1xi8>
// CHECK-DAG:     llm.weight "b" {{.*}} zero_points dense<2> : tensor<8x1xi8>
func.func @distinct_zero_points(%x: tensor<?x?x8xf32>) -> (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) {
  %g = llm.weight "g" : tensor<8xf32> = dense<1.0> : tensor<8xf32>
  %a = llm.weight "a" : tensor<8x8xf32, #llm.quant<bits = 4, symmetric = false, scale = f16>> = dense<3> : tensor<8x4xi8> scales dense<1.0> : tensor<8x1xf16> zero_points dense<1> : tensor<8x1xi8>
  %b = llm.weight "b" : tensor<8x8xf32, #llm.quant<bits = 4, symmetric = false, scale = f16>> = dense<3> : tensor<8x4xi8> scales dense<1.0> : tensor<8x1xf16> zero_points dense<2> : tensor<8x1xi8>
  %ya = llm.linear %x, %a : (tensor<?x?x8xf32>, tensor<8x8xf32, #llm.quant<bits = 4, symmetric = false, scale = f16>>) -> tensor<?x?x8xf32>
  %yb = llm.linear %x, %b : (tensor<?x?x8xf32>, tensor<8x8xf32, #llm.quant<bits = 4, symmetric = false, scale = f16>>) -> tensor<?x?x8xf32>
  %n = llm.rms_norm %x, %g {epsilon = 1.0e-5 : f64} : (tensor<?x?x8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
  return %ya, %yb, %n : tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>
}
