// RUN: not microscale-opt %s --split-input-file --llm-raise-onnx 2>&1 | FileCheck %s

// An op no pattern covers is reported by name and type.
// CHECK: error: node 'odd' (Abs) is not part of any recognized subgraph (embedding, norm, projection, rotary embedding, attention, MLP, residual); it feeds llm.logits
func.func @main_graph(%ids: tensor<?x?xi64> {onnx.name = "input_ids"}) -> (tensor<?x?x8xf32> {onnx.name = "logits"}) {
  %t = onnx.constant "emb" : tensor<8x4xf32> = dense<1.0> : tensor<8x4xf32>
  %w = onnx.constant "head" : tensor<4x8xf32> = dense<0.5> : tensor<4x8xf32>
  %x = onnx.node "Gather"(%t, %ids) {name = "g", onnx_attrs = {}} : (tensor<8x4xf32>, tensor<?x?xi64>) -> tensor<?x?x4xf32>
  %a = onnx.node "Abs"(%x) {name = "odd", onnx_attrs = {}} : (tensor<?x?x4xf32>) -> tensor<?x?x4xf32>
  %l = onnx.node "MatMul"(%a, %w) {name = "lm_head", onnx_attrs = {}} : (tensor<?x?x4xf32>, tensor<4x8xf32>) -> tensor<?x?x8xf32>
  return %l : tensor<?x?x8xf32>
}

// -----

// Logits that are not a projection are rejected with the producing node.
// CHECK: error: output 'logits' is not a projection of the final hidden state (produced by node 'sm' (Softmax))
func.func @main_graph(%ids: tensor<?x?xi64> {onnx.name = "input_ids"}) -> (tensor<?x?x4xf32> {onnx.name = "logits"}) {
  %t = onnx.constant "emb" : tensor<8x4xf32> = dense<1.0> : tensor<8x4xf32>
  %x = onnx.node "Gather"(%t, %ids) {name = "g", onnx_attrs = {}} : (tensor<8x4xf32>, tensor<?x?xi64>) -> tensor<?x?x4xf32>
  %s = onnx.node "Softmax"(%x) {name = "sm", onnx_attrs = {axis = -1 : i64}} : (tensor<?x?x4xf32>) -> tensor<?x?x4xf32>
  return %s : tensor<?x?x4xf32>
}

// -----

// A graph without an attention block is not a decoder.
// CHECK: error: no attention block was recognized
func.func @main_graph(%ids: tensor<?x?xi64> {onnx.name = "input_ids"}) -> (tensor<?x?x8xf32> {onnx.name = "logits"}) {
  %t = onnx.constant "emb" : tensor<8x4xf32> = dense<1.0> : tensor<8x4xf32>
  %w = onnx.constant "head" : tensor<4x8xf32> = dense<0.5> : tensor<4x8xf32>
  %x = onnx.node "Gather"(%t, %ids) {name = "g", onnx_attrs = {}} : (tensor<8x4xf32>, tensor<?x?xi64>) -> tensor<?x?x4xf32>
  %l = onnx.node "MatMul"(%x, %w) {name = "lm_head", onnx_attrs = {}} : (tensor<?x?x4xf32>, tensor<4x8xf32>) -> tensor<?x?x8xf32>
  return %l : tensor<?x?x8xf32>
}

// -----

// CHECK: error: no token embedding was recognized
func.func @main_graph(%x: tensor<?x?x4xf32> {onnx.name = "inputs_embeds"}) -> (tensor<?x?x8xf32> {onnx.name = "logits"}) {
  %w = onnx.constant "head" : tensor<4x8xf32> = dense<0.5> : tensor<4x8xf32>
  %l = onnx.node "MatMul"(%x, %w) {name = "lm_head", onnx_attrs = {}} : (tensor<?x?x4xf32>, tensor<4x8xf32>) -> tensor<?x?x8xf32>
  return %l : tensor<?x?x8xf32>
}
