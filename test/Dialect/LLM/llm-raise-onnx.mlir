// RUN: microscale-opt %s --split-input-file --llm-raise-onnx=allow-partial | FileCheck %s

// Token embedding: Gather from a constant [vocab, hidden] table.
// CHECK-LABEL: func.func @embedding
// CHECK: %[[T:.*]] = llm.weight "emb" : tensor<8x4xf32>
// CHECK: llm.embedding %[[T]], %arg0 : (tensor<8x4xf32>, tensor<?x?xi64>) -> tensor<?x?x4xf32>
func.func @embedding(%ids: tensor<?x?xi64>) -> tensor<?x?x4xf32> {
  %t = onnx.constant "emb" : tensor<8x4xf32> = dense<1.0> : tensor<8x4xf32>
  %0 = onnx.node "Gather"(%t, %ids) {name = "g", onnx_attrs = {}} : (tensor<8x4xf32>, tensor<?x?xi64>) -> tensor<?x?x4xf32>
  return %0 : tensor<?x?x4xf32>
}

// -----

// A Gather along another axis is not an embedding.
// CHECK-LABEL: func.func @gather_axis1
// CHECK-NOT: llm.embedding
// CHECK: onnx.node "Gather"
func.func @gather_axis1(%ids: tensor<?x?xi64>) -> tensor<8x?x?xf32> {
  %t = onnx.constant "emb" : tensor<8x4xf32> = dense<1.0> : tensor<8x4xf32>
  %0 = onnx.node "Gather"(%t, %ids) {name = "g", onnx_attrs = {axis = 1 : i64}} : (tensor<8x4xf32>, tensor<?x?xi64>) -> tensor<8x?x?xf32>
  return %0 : tensor<8x?x?xf32>
}

// -----

// Positions from Range(0, sequence length, 1) index a learned position
// table.
// CHECK-LABEL: func.func @position_embedding
// CHECK: llm.position_embedding
func.func @position_embedding(%ids: tensor<?x?xi64>) -> tensor<?x4xf32> {
  %t = onnx.constant "wpe" : tensor<16x4xf32> = dense<1.0> : tensor<16x4xf32>
  %zero = onnx.constant "zero" : tensor<i64> = dense<0> : tensor<i64>
  %one = onnx.constant "one" : tensor<i64> = dense<1> : tensor<i64>
  %shape = onnx.node "Shape"(%ids) {name = "shape", onnx_attrs = {}} : (tensor<?x?xi64>) -> tensor<2xi64>
  %n = onnx.node "Gather"(%shape, %one) {name = "n", onnx_attrs = {axis = 0 : i64}} : (tensor<2xi64>, tensor<i64>) -> tensor<i64>
  %r = onnx.node "Range"(%zero, %n, %one) {name = "r", onnx_attrs = {}} : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  %0 = onnx.node "Gather"(%t, %r) {name = "g", onnx_attrs = {}} : (tensor<16x4xf32>, tensor<?xi64>) -> tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}

// -----

// RMSNorm as torch exports it: w * (x * (1 / sqrt(mean(x^2) + eps))).
// CHECK-LABEL: func.func @rms_norm
// CHECK: %[[X:.*]] = llm.embedding
// CHECK: llm.rms_norm %[[X]], %{{.*}} {epsilon = 9.9999997473787516E-6 : f64}
// CHECK-NOT: onnx.node "ReduceMean"
func.func @rms_norm(%ids: tensor<?x?xi64>) -> tensor<?x?x4xf32> {
  %t = onnx.constant "emb" : tensor<8x4xf32> = dense<1.0> : tensor<8x4xf32>
  %x = onnx.node "Gather"(%t, %ids) {name = "g", onnx_attrs = {}} : (tensor<8x4xf32>, tensor<?x?xi64>) -> tensor<?x?x4xf32>
  %two = onnx.constant "two" : tensor<f32> = dense<2.0> : tensor<f32>
  %eps = onnx.constant "eps" : tensor<f32> = dense<1.0e-5> : tensor<f32>
  %one = onnx.constant "one" : tensor<f32> = dense<1.0> : tensor<f32>
  %w = onnx.constant "w" : tensor<4xf32> = dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  %p = onnx.node "Pow"(%x, %two) {name = "pow", onnx_attrs = {}} : (tensor<?x?x4xf32>, tensor<f32>) -> tensor<?x?x4xf32>
  %m = onnx.node "ReduceMean"(%p) {name = "mean", onnx_attrs = {axes = [-1], keepdims = 1 : i64}} : (tensor<?x?x4xf32>) -> tensor<?x?x1xf32>
  %a = onnx.node "Add"(%m, %eps) {name = "add", onnx_attrs = {}} : (tensor<?x?x1xf32>, tensor<f32>) -> tensor<?x?x1xf32>
  %s = onnx.node "Sqrt"(%a) {name = "sqrt", onnx_attrs = {}} : (tensor<?x?x1xf32>) -> tensor<?x?x1xf32>
  %r = onnx.node "Div"(%one, %s) {name = "div", onnx_attrs = {}} : (tensor<f32>, tensor<?x?x1xf32>) -> tensor<?x?x1xf32>
  %n = onnx.node "Mul"(%x, %r) {name = "mul", onnx_attrs = {}} : (tensor<?x?x4xf32>, tensor<?x?x1xf32>) -> tensor<?x?x4xf32>
  %y = onnx.node "Mul"(%w, %n) {name = "mul1", onnx_attrs = {}} : (tensor<4xf32>, tensor<?x?x4xf32>) -> tensor<?x?x4xf32>
  return %y : tensor<?x?x4xf32>
}

// -----

// Mean over the wrong axis is not an RMSNorm.
// CHECK-LABEL: func.func @rms_norm_wrong_axis
// CHECK-NOT: llm.rms_norm
// CHECK: onnx.node "ReduceMean"
func.func @rms_norm_wrong_axis(%ids: tensor<?x?xi64>) -> tensor<?x?x4xf32> {
  %t = onnx.constant "emb" : tensor<8x4xf32> = dense<1.0> : tensor<8x4xf32>
  %x = onnx.node "Gather"(%t, %ids) {name = "g", onnx_attrs = {}} : (tensor<8x4xf32>, tensor<?x?xi64>) -> tensor<?x?x4xf32>
  %two = onnx.constant "two" : tensor<f32> = dense<2.0> : tensor<f32>
  %eps = onnx.constant "eps" : tensor<f32> = dense<1.0e-5> : tensor<f32>
  %one = onnx.constant "one" : tensor<f32> = dense<1.0> : tensor<f32>
  %w = onnx.constant "w" : tensor<4xf32> = dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  %p = onnx.node "Pow"(%x, %two) {name = "pow", onnx_attrs = {}} : (tensor<?x?x4xf32>, tensor<f32>) -> tensor<?x?x4xf32>
  %m = onnx.node "ReduceMean"(%p) {name = "mean", onnx_attrs = {axes = [1], keepdims = 1 : i64}} : (tensor<?x?x4xf32>) -> tensor<?x1x4xf32>
  %a = onnx.node "Add"(%m, %eps) {name = "add", onnx_attrs = {}} : (tensor<?x1x4xf32>, tensor<f32>) -> tensor<?x1x4xf32>
  %s = onnx.node "Sqrt"(%a) {name = "sqrt", onnx_attrs = {}} : (tensor<?x1x4xf32>) -> tensor<?x1x4xf32>
  %r = onnx.node "Div"(%one, %s) {name = "div", onnx_attrs = {}} : (tensor<f32>, tensor<?x1x4xf32>) -> tensor<?x1x4xf32>
  %n = onnx.node "Mul"(%x, %r) {name = "mul", onnx_attrs = {}} : (tensor<?x?x4xf32>, tensor<?x1x4xf32>) -> tensor<?x?x4xf32>
  %y = onnx.node "Mul"(%w, %n) {name = "mul1", onnx_attrs = {}} : (tensor<4xf32>, tensor<?x?x4xf32>) -> tensor<?x?x4xf32>
  return %y : tensor<?x?x4xf32>
}

// -----

// Fused LayerNormalization with bias.
// CHECK-LABEL: func.func @layer_norm
// CHECK: llm.layer_norm %{{.*}}, %{{.*}}, %{{.*}} {epsilon = 9.9999997473787516E-6 : f64}
func.func @layer_norm(%ids: tensor<?x?xi64>) -> tensor<?x?x4xf32> {
  %t = onnx.constant "emb" : tensor<8x4xf32> = dense<1.0> : tensor<8x4xf32>
  %x = onnx.node "Gather"(%t, %ids) {name = "g", onnx_attrs = {}} : (tensor<8x4xf32>, tensor<?x?xi64>) -> tensor<?x?x4xf32>
  %w = onnx.constant "w" : tensor<4xf32> = dense<1.0> : tensor<4xf32>
  %b = onnx.constant "b" : tensor<4xf32> = dense<0.5> : tensor<4xf32>
  %y = onnx.node "LayerNormalization"(%x, %w, %b) {name = "ln", onnx_attrs = {axis = -1 : i64, epsilon = 1.0e-5 : f32}} : (tensor<?x?x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<?x?x4xf32>
  return %y : tensor<?x?x4xf32>
}

// -----

// LayerNorm decomposed (exports below opset 17).
// CHECK-LABEL: func.func @layer_norm_decomposed
// CHECK: llm.layer_norm %{{.*}}, %{{.*}}, %{{.*}} {epsilon = 9.9999997473787516E-6 : f64}
// CHECK-NOT: onnx.node "Sub"
func.func @layer_norm_decomposed(%ids: tensor<?x?xi64>) -> tensor<?x?x4xf32> {
  %t = onnx.constant "emb" : tensor<8x4xf32> = dense<1.0> : tensor<8x4xf32>
  %x = onnx.node "Gather"(%t, %ids) {name = "g", onnx_attrs = {}} : (tensor<8x4xf32>, tensor<?x?xi64>) -> tensor<?x?x4xf32>
  %two = onnx.constant "two" : tensor<f32> = dense<2.0> : tensor<f32>
  %eps = onnx.constant "eps" : tensor<f32> = dense<1.0e-5> : tensor<f32>
  %w = onnx.constant "w" : tensor<4xf32> = dense<1.0> : tensor<4xf32>
  %b = onnx.constant "b" : tensor<4xf32> = dense<0.5> : tensor<4xf32>
  %mean = onnx.node "ReduceMean"(%x) {name = "mean", onnx_attrs = {axes = [-1], keepdims = 1 : i64}} : (tensor<?x?x4xf32>) -> tensor<?x?x1xf32>
  %c = onnx.node "Sub"(%x, %mean) {name = "sub", onnx_attrs = {}} : (tensor<?x?x4xf32>, tensor<?x?x1xf32>) -> tensor<?x?x4xf32>
  %p = onnx.node "Pow"(%c, %two) {name = "pow", onnx_attrs = {}} : (tensor<?x?x4xf32>, tensor<f32>) -> tensor<?x?x4xf32>
  %v = onnx.node "ReduceMean"(%p) {name = "var", onnx_attrs = {axes = [-1], keepdims = 1 : i64}} : (tensor<?x?x4xf32>) -> tensor<?x?x1xf32>
  %a = onnx.node "Add"(%v, %eps) {name = "add", onnx_attrs = {}} : (tensor<?x?x1xf32>, tensor<f32>) -> tensor<?x?x1xf32>
  %s = onnx.node "Sqrt"(%a) {name = "sqrt", onnx_attrs = {}} : (tensor<?x?x1xf32>) -> tensor<?x?x1xf32>
  %n = onnx.node "Div"(%c, %s) {name = "div", onnx_attrs = {}} : (tensor<?x?x4xf32>, tensor<?x?x1xf32>) -> tensor<?x?x4xf32>
  %sc = onnx.node "Mul"(%n, %w) {name = "mul", onnx_attrs = {}} : (tensor<?x?x4xf32>, tensor<4xf32>) -> tensor<?x?x4xf32>
  %y = onnx.node "Add"(%sc, %b) {name = "addb", onnx_attrs = {}} : (tensor<?x?x4xf32>, tensor<4xf32>) -> tensor<?x?x4xf32>
  return %y : tensor<?x?x4xf32>
}

// -----

// MatMul by a constant [in, out] becomes a linear with a transposed
// [out, in] weight; the bias Add folds in.
// CHECK-LABEL: func.func @linear
// CHECK: %[[W:.*]] = llm.weight "w" : tensor<3x2xf32> = dense_resource<[[BLOB:[a-z0-9_.]+]]>
// CHECK: llm.linear %arg0, %[[W]], %{{.*}} : (tensor<?x?x2xf32>, tensor<3x2xf32>, tensor<3xf32>) -> tensor<?x?x3xf32>
// CHECK-NOT: onnx.node
// Rows are output channels: [[1, 3], [2, 4], [5, 6]] as little-endian f32.
// CHECK: [[BLOB]]: "0x400000000000803F0000404000000040000080400000A0400000C040"
func.func @linear(%x: tensor<?x?x2xf32>) -> tensor<?x?x3xf32> {
  %w = onnx.constant "w" : tensor<2x3xf32> = dense<[[1.0, 2.0, 5.0], [3.0, 4.0, 6.0]]> : tensor<2x3xf32>
  %b = onnx.constant "b" : tensor<3xf32> = dense<0.5> : tensor<3xf32>
  %0 = onnx.node "MatMul"(%x, %w) {name = "mm", onnx_attrs = {}} : (tensor<?x?x2xf32>, tensor<2x3xf32>) -> tensor<?x?x3xf32>
  %1 = onnx.node "Add"(%0, %b) {name = "bias", onnx_attrs = {}} : (tensor<?x?x3xf32>, tensor<3xf32>) -> tensor<?x?x3xf32>
  return %1 : tensor<?x?x3xf32>
}

// -----

// A MatMul of two activations is not a projection.
// CHECK-LABEL: func.func @matmul_activations
// CHECK-NOT: llm.linear
func.func @matmul_activations(%x: tensor<?x2xf32>, %y: tensor<2x?xf32>) -> tensor<?x?xf32> {
  %0 = onnx.node "MatMul"(%x, %y) {name = "mm", onnx_attrs = {}} : (tensor<?x2xf32>, tensor<2x?xf32>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

// Gemm with transB keeps the weight as is.
// CHECK-LABEL: func.func @gemm
// CHECK: %[[W:.*]] = llm.weight "w" : tensor<3x2xf32>
// CHECK: llm.linear %arg0, %[[W]], %{{.*}} : (tensor<?x2xf32>, tensor<3x2xf32>, tensor<3xf32>) -> tensor<?x3xf32>
func.func @gemm(%x: tensor<?x2xf32>) -> tensor<?x3xf32> {
  %w = onnx.constant "w" : tensor<3x2xf32> = dense<1.0> : tensor<3x2xf32>
  %b = onnx.constant "b" : tensor<3xf32> = dense<0.5> : tensor<3xf32>
  %0 = onnx.node "Gemm"(%x, %w, %b) {name = "gemm", onnx_attrs = {transB = 1 : i64}} : (tensor<?x2xf32>, tensor<3x2xf32>, tensor<3xf32>) -> tensor<?x3xf32>
  return %0 : tensor<?x3xf32>
}

// -----

// Gemm with alpha != 1 is not a plain projection.
// CHECK-LABEL: func.func @gemm_alpha
// CHECK-NOT: llm.linear
func.func @gemm_alpha(%x: tensor<?x2xf32>) -> tensor<?x3xf32> {
  %w = onnx.constant "w" : tensor<3x2xf32> = dense<1.0> : tensor<3x2xf32>
  %0 = onnx.node "Gemm"(%x, %w) {name = "gemm", onnx_attrs = {transB = 1 : i64, alpha = 2.0 : f32}} : (tensor<?x2xf32>, tensor<3x2xf32>) -> tensor<?x3xf32>
  return %0 : tensor<?x3xf32>
}

// -----

// A fused projection split along its features becomes one linear per part.
// CHECK-LABEL: func.func @split_linear
// CHECK-DAG: llm.linear %arg0, %{{.*}} : (tensor<?x?x2xf32>, tensor<2x2xf32>) -> tensor<?x?x2xf32>
// CHECK-DAG: llm.linear %arg0, %{{.*}} : (tensor<?x?x2xf32>, tensor<1x2xf32>) -> tensor<?x?x1xf32>
// CHECK-NOT: onnx.node "Split"
func.func @split_linear(%x: tensor<?x?x2xf32>) -> (tensor<?x?x2xf32>, tensor<?x?x1xf32>) {
  %w = onnx.constant "w" : tensor<2x3xf32> = dense<1.0> : tensor<2x3xf32>
  %sizes = onnx.constant "sizes" : tensor<2xi64> = dense<[2, 1]> : tensor<2xi64>
  %0 = onnx.node "MatMul"(%x, %w) {name = "mm", onnx_attrs = {}} : (tensor<?x?x2xf32>, tensor<2x3xf32>) -> tensor<?x?x3xf32>
  %1:2 = onnx.node "Split"(%0, %sizes) {name = "split", onnx_attrs = {axis = 2 : i64}} : (tensor<?x?x3xf32>, tensor<2xi64>) -> (tensor<?x?x2xf32>, tensor<?x?x1xf32>)
  return %1#0, %1#1 : tensor<?x?x2xf32>, tensor<?x?x1xf32>
}

// -----

// SwiGLU: down(silu(gate(x)) * up(x)).
// CHECK-LABEL: func.func @mlp_swiglu
// CHECK: llm.mlp %arg0 up %{{.*}} gate %{{.*}} down %{{.*}} {activation = #llm<activation silu>}
// CHECK-NOT: onnx.node
func.func @mlp_swiglu(%x: tensor<?x?x2xf32>) -> tensor<?x?x2xf32> {
  %wg = onnx.constant "wg" : tensor<2x3xf32> = dense<1.0> : tensor<2x3xf32>
  %wu = onnx.constant "wu" : tensor<2x3xf32> = dense<2.0> : tensor<2x3xf32>
  %wd = onnx.constant "wd" : tensor<3x2xf32> = dense<3.0> : tensor<3x2xf32>
  %g = onnx.node "MatMul"(%x, %wg) {name = "gate", onnx_attrs = {}} : (tensor<?x?x2xf32>, tensor<2x3xf32>) -> tensor<?x?x3xf32>
  %s = onnx.node "Sigmoid"(%g) {name = "sig", onnx_attrs = {}} : (tensor<?x?x3xf32>) -> tensor<?x?x3xf32>
  %a = onnx.node "Mul"(%g, %s) {name = "silu", onnx_attrs = {}} : (tensor<?x?x3xf32>, tensor<?x?x3xf32>) -> tensor<?x?x3xf32>
  %u = onnx.node "MatMul"(%x, %wu) {name = "up", onnx_attrs = {}} : (tensor<?x?x2xf32>, tensor<2x3xf32>) -> tensor<?x?x3xf32>
  %h = onnx.node "Mul"(%a, %u) {name = "gated", onnx_attrs = {}} : (tensor<?x?x3xf32>, tensor<?x?x3xf32>) -> tensor<?x?x3xf32>
  %y = onnx.node "MatMul"(%h, %wd) {name = "down", onnx_attrs = {}} : (tensor<?x?x3xf32>, tensor<3x2xf32>) -> tensor<?x?x2xf32>
  return %y : tensor<?x?x2xf32>
}

// -----

// Gating by a sigmoid of something else is not SiLU: no MLP.
// CHECK-LABEL: func.func @mlp_not_silu
// CHECK-NOT: llm.mlp
func.func @mlp_not_silu(%x: tensor<?x?x2xf32>) -> tensor<?x?x2xf32> {
  %wg = onnx.constant "wg" : tensor<2x3xf32> = dense<1.0> : tensor<2x3xf32>
  %wu = onnx.constant "wu" : tensor<2x3xf32> = dense<2.0> : tensor<2x3xf32>
  %wd = onnx.constant "wd" : tensor<3x2xf32> = dense<3.0> : tensor<3x2xf32>
  %g = onnx.node "MatMul"(%x, %wg) {name = "gate", onnx_attrs = {}} : (tensor<?x?x2xf32>, tensor<2x3xf32>) -> tensor<?x?x3xf32>
  %u = onnx.node "MatMul"(%x, %wu) {name = "up", onnx_attrs = {}} : (tensor<?x?x2xf32>, tensor<2x3xf32>) -> tensor<?x?x3xf32>
  %s = onnx.node "Sigmoid"(%u) {name = "sig", onnx_attrs = {}} : (tensor<?x?x3xf32>) -> tensor<?x?x3xf32>
  %a = onnx.node "Mul"(%g, %s) {name = "notsilu", onnx_attrs = {}} : (tensor<?x?x3xf32>, tensor<?x?x3xf32>) -> tensor<?x?x3xf32>
  %h = onnx.node "Mul"(%a, %u) {name = "gated", onnx_attrs = {}} : (tensor<?x?x3xf32>, tensor<?x?x3xf32>) -> tensor<?x?x3xf32>
  %y = onnx.node "MatMul"(%h, %wd) {name = "down", onnx_attrs = {}} : (tensor<?x?x3xf32>, tensor<3x2xf32>) -> tensor<?x?x2xf32>
  return %y : tensor<?x?x2xf32>
}

// -----

// GPT-2's tanh GELU between two projections.
// CHECK-LABEL: func.func @mlp_gelu_tanh
// CHECK: llm.mlp %arg0 up %{{.*}} down %{{.*}} {activation = #llm<activation gelu_tanh>}
func.func @mlp_gelu_tanh(%x: tensor<?x?x2xf32>) -> tensor<?x?x2xf32> {
  %wu = onnx.constant "wu" : tensor<2x3xf32> = dense<2.0> : tensor<2x3xf32>
  %wd = onnx.constant "wd" : tensor<3x2xf32> = dense<3.0> : tensor<3x2xf32>
  %three = onnx.constant "three" : tensor<f32> = dense<3.0> : tensor<f32>
  %half = onnx.constant "half" : tensor<f32> = dense<0.5> : tensor<f32>
  %k = onnx.constant "k" : tensor<f32> = dense<0.044715> : tensor<f32>
  %c = onnx.constant "c" : tensor<f32> = dense<0.7978845834732056> : tensor<f32>
  %one = onnx.constant "one" : tensor<f32> = dense<1.0> : tensor<f32>
  %h = onnx.node "MatMul"(%x, %wu) {name = "fc", onnx_attrs = {}} : (tensor<?x?x2xf32>, tensor<2x3xf32>) -> tensor<?x?x3xf32>
  %p = onnx.node "Pow"(%h, %three) {name = "pow", onnx_attrs = {}} : (tensor<?x?x3xf32>, tensor<f32>) -> tensor<?x?x3xf32>
  %m = onnx.node "Mul"(%h, %half) {name = "m", onnx_attrs = {}} : (tensor<?x?x3xf32>, tensor<f32>) -> tensor<?x?x3xf32>
  %m1 = onnx.node "Mul"(%p, %k) {name = "m1", onnx_attrs = {}} : (tensor<?x?x3xf32>, tensor<f32>) -> tensor<?x?x3xf32>
  %a = onnx.node "Add"(%h, %m1) {name = "a", onnx_attrs = {}} : (tensor<?x?x3xf32>, tensor<?x?x3xf32>) -> tensor<?x?x3xf32>
  %m2 = onnx.node "Mul"(%a, %c) {name = "m2", onnx_attrs = {}} : (tensor<?x?x3xf32>, tensor<f32>) -> tensor<?x?x3xf32>
  %t = onnx.node "Tanh"(%m2) {name = "t", onnx_attrs = {}} : (tensor<?x?x3xf32>) -> tensor<?x?x3xf32>
  %a1 = onnx.node "Add"(%t, %one) {name = "a1", onnx_attrs = {}} : (tensor<?x?x3xf32>, tensor<f32>) -> tensor<?x?x3xf32>
  %g = onnx.node "Mul"(%m, %a1) {name = "g", onnx_attrs = {}} : (tensor<?x?x3xf32>, tensor<?x?x3xf32>) -> tensor<?x?x3xf32>
  %y = onnx.node "MatMul"(%g, %wd) {name = "proj", onnx_attrs = {}} : (tensor<?x?x3xf32>, tensor<3x2xf32>) -> tensor<?x?x2xf32>
  return %y : tensor<?x?x2xf32>
}

// -----

// Residual: the sum of two raised values.
// CHECK-LABEL: func.func @residual
// CHECK: %[[X:.*]] = llm.embedding
// CHECK: %[[L:.*]] = llm.linear %[[X]]
// CHECK: llm.add %[[X]], %[[L]] : tensor<?x?x2xf32>
func.func @residual(%ids: tensor<?x?xi64>) -> tensor<?x?x2xf32> {
  %t = onnx.constant "emb" : tensor<8x2xf32> = dense<1.0> : tensor<8x2xf32>
  %x = onnx.node "Gather"(%t, %ids) {name = "g", onnx_attrs = {}} : (tensor<8x2xf32>, tensor<?x?xi64>) -> tensor<?x?x2xf32>
  %w = onnx.constant "w" : tensor<2x2xf32> = dense<1.0> : tensor<2x2xf32>
  %0 = onnx.node "MatMul"(%x, %w) {name = "mm", onnx_attrs = {}} : (tensor<?x?x2xf32>, tensor<2x2xf32>) -> tensor<?x?x2xf32>
  %1 = onnx.node "Add"(%x, %0) {name = "res", onnx_attrs = {}} : (tensor<?x?x2xf32>, tensor<?x?x2xf32>) -> tensor<?x?x2xf32>
  return %1 : tensor<?x?x2xf32>
}

// -----

// A softmax whose scores are not q . k^T is not attention.
// CHECK-LABEL: func.func @softmax_not_attention
// CHECK-NOT: llm.attention
// CHECK: onnx.node "Softmax"
func.func @softmax_not_attention(%x: tensor<1x2x?x?xf32>, %v: tensor<1x2x?x4xf32>) -> tensor<1x2x?x4xf32> {
  %p = onnx.node "Softmax"(%x) {name = "sm", onnx_attrs = {axis = -1 : i64}} : (tensor<1x2x?x?xf32>) -> tensor<1x2x?x?xf32>
  %o = onnx.node "MatMul"(%p, %v) {name = "pv", onnx_attrs = {}} : (tensor<1x2x?x?xf32>, tensor<1x2x?x4xf32>) -> tensor<1x2x?x4xf32>
  return %o : tensor<1x2x?x4xf32>
}

// -----

// Keys that are not transposed to [b, h, d, s] do not make q . k^T.
// CHECK-LABEL: func.func @attention_keys_not_transposed
// CHECK-NOT: llm.attention
func.func @attention_keys_not_transposed(%q: tensor<1x2x?x4xf32>, %k: tensor<1x2x4x?xf32>, %v: tensor<1x2x?x4xf32>) -> tensor<1x2x?x4xf32> {
  %s = onnx.node "MatMul"(%q, %k) {name = "qk", onnx_attrs = {}} : (tensor<1x2x?x4xf32>, tensor<1x2x4x?xf32>) -> tensor<1x2x?x?xf32>
  %p = onnx.node "Softmax"(%s) {name = "sm", onnx_attrs = {axis = -1 : i64}} : (tensor<1x2x?x?xf32>) -> tensor<1x2x?x?xf32>
  %o = onnx.node "MatMul"(%p, %v) {name = "pv", onnx_attrs = {}} : (tensor<1x2x?x?xf32>, tensor<1x2x?x4xf32>) -> tensor<1x2x?x4xf32>
  return %o : tensor<1x2x?x4xf32>
}
