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

// -----

// Learned positions must count 0, 1, 2, ...: a Range from 1 is refused with
// the node and the pattern.
// CHECK: error: node 'r' (Range) does not mean what the position embedding pattern assumes: positions are Range(1, n, 1), expected start 0 and delta 1 (the pattern was tried at node 'pos' (Gather))
func.func @main_graph(%ids: tensor<?x?xi64> {onnx.name = "input_ids"}, %n: tensor<i64> {onnx.name = "n"}) -> (tensor<?x?x8xf32> {onnx.name = "logits"}) {
  %t = onnx.constant "emb" : tensor<8x4xf32> = dense<1.0> : tensor<8x4xf32>
  %p = onnx.constant "wpe" : tensor<16x4xf32> = dense<1.0> : tensor<16x4xf32>
  %w = onnx.constant "head" : tensor<4x8xf32> = dense<0.5> : tensor<4x8xf32>
  %one = onnx.constant "one" : tensor<i64> = dense<1> : tensor<i64>
  %r = onnx.node "Range"(%one, %n, %one) {name = "r", onnx_attrs = {}} : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  %x = onnx.node "Gather"(%t, %ids) {name = "g", onnx_attrs = {}} : (tensor<8x4xf32>, tensor<?x?xi64>) -> tensor<?x?x4xf32>
  %y = onnx.node "Gather"(%p, %r) {name = "pos", onnx_attrs = {}} : (tensor<16x4xf32>, tensor<?xi64>) -> tensor<?x4xf32>
  %s = onnx.node "Add"(%x, %y) {name = "add", onnx_attrs = {}} : (tensor<?x?x4xf32>, tensor<?x4xf32>) -> tensor<?x?x4xf32>
  %l = onnx.node "MatMul"(%s, %w) {name = "lm_head", onnx_attrs = {}} : (tensor<?x?x4xf32>, tensor<4x8xf32>) -> tensor<?x?x8xf32>
  return %l : tensor<?x?x8xf32>
}

// -----

// Learned positions must end at the sequence length: a Range to a graph
// input (any number) is refused.
// CHECK: error: node 'r' (Range) does not mean what the position embedding pattern assumes: the positions Range does not end at the sequence length (the pattern was tried at node 'pos' (Gather))
func.func @main_graph(%ids: tensor<?x?xi64> {onnx.name = "input_ids"}, %n: tensor<i64> {onnx.name = "n"}) -> (tensor<?x?x8xf32> {onnx.name = "logits"}) {
  %t = onnx.constant "emb" : tensor<8x4xf32> = dense<1.0> : tensor<8x4xf32>
  %p = onnx.constant "wpe" : tensor<16x4xf32> = dense<1.0> : tensor<16x4xf32>
  %w = onnx.constant "head" : tensor<4x8xf32> = dense<0.5> : tensor<4x8xf32>
  %zero = onnx.constant "zero" : tensor<i64> = dense<0> : tensor<i64>
  %one = onnx.constant "one" : tensor<i64> = dense<1> : tensor<i64>
  %r = onnx.node "Range"(%zero, %n, %one) {name = "r", onnx_attrs = {}} : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  %x = onnx.node "Gather"(%t, %ids) {name = "g", onnx_attrs = {}} : (tensor<8x4xf32>, tensor<?x?xi64>) -> tensor<?x?x4xf32>
  %y = onnx.node "Gather"(%p, %r) {name = "pos", onnx_attrs = {}} : (tensor<16x4xf32>, tensor<?xi64>) -> tensor<?x4xf32>
  %s = onnx.node "Add"(%x, %y) {name = "add", onnx_attrs = {}} : (tensor<?x?x4xf32>, tensor<?x4xf32>) -> tensor<?x?x4xf32>
  %l = onnx.node "MatMul"(%s, %w) {name = "lm_head", onnx_attrs = {}} : (tensor<?x?x4xf32>, tensor<4x8xf32>) -> tensor<?x?x8xf32>
  return %l : tensor<?x?x8xf32>
}

// -----

// A fused projection split into sizes other than its results' is refused.
// CHECK: error: node 'split' (Split) does not mean what the split projection pattern assumes: splits 12 features into [2, 2, 8], but its results have [4, 4, 4]
func.func @main_graph(%ids: tensor<?x?xi64> {onnx.name = "input_ids"}) -> (tensor<?x?x8xf32> {onnx.name = "logits"}) {
  %t = onnx.constant "emb" : tensor<8x4xf32> = dense<1.0> : tensor<8x4xf32>
  %c = onnx.constant "c_attn" : tensor<4x12xf32> = dense<0.25> : tensor<4x12xf32>
  %sizes = onnx.constant "sizes" : tensor<3xi64> = dense<[2, 2, 8]> : tensor<3xi64>
  %w = onnx.constant "head" : tensor<4x8xf32> = dense<0.5> : tensor<4x8xf32>
  %x = onnx.node "Gather"(%t, %ids) {name = "g", onnx_attrs = {}} : (tensor<8x4xf32>, tensor<?x?xi64>) -> tensor<?x?x4xf32>
  %qkv = onnx.node "MatMul"(%x, %c) {name = "c_attn", onnx_attrs = {}} : (tensor<?x?x4xf32>, tensor<4x12xf32>) -> tensor<?x?x12xf32>
  %q:3 = onnx.node "Split"(%qkv, %sizes) {name = "split", onnx_attrs = {axis = 2 : i64}} : (tensor<?x?x12xf32>, tensor<3xi64>) -> (tensor<?x?x4xf32>, tensor<?x?x4xf32>, tensor<?x?x4xf32>)
  %s = onnx.node "Add"(%q#0, %q#1) {name = "add", onnx_attrs = {}} : (tensor<?x?x4xf32>, tensor<?x?x4xf32>) -> tensor<?x?x4xf32>
  %s2 = onnx.node "Add"(%s, %q#2) {name = "add2", onnx_attrs = {}} : (tensor<?x?x4xf32>, tensor<?x?x4xf32>) -> tensor<?x?x4xf32>
  %l = onnx.node "MatMul"(%s2, %w) {name = "lm_head", onnx_attrs = {}} : (tensor<?x?x4xf32>, tensor<4x8xf32>) -> tensor<?x?x8xf32>
  return %l : tensor<?x?x8xf32>
}
