// RUN: microscale-opt %s --split-input-file --verify-diagnostics

// An onnx.node's attributes have the kinds ONNX gives them, so raising
// patterns can read `perm` as integers.
func.func @perm_floats(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'onnx.node' op Transpose: attribute 'perm' must be INTS, not FLOATS}}
  %0 = onnx.node "Transpose"(%x) {name = "t", onnx_attrs = {perm = [1.0 : f32, 0.0 : f32]}} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return
}

// -----

func.func @axis_string(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'onnx.node' op Softmax: attribute 'axis' must be INT, not STRING}}
  %0 = onnx.node "Softmax"(%x) {name = "s", onnx_attrs = {axis = "last"}} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @axes_mixed(%x: tensor<2x1xf32>) {
  // expected-error @+1 {{'onnx.node' op Squeeze: attribute 'axes' must be INTS, not a mixed list}}
  %0 = onnx.node "Squeeze"(%x) {name = "s", onnx_attrs = {axes = [1, 1.0 : f32]}} : (tensor<2x1xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @unknown_attribute(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'onnx.node' op Relu: attribute 'alpha' is not an attribute of Relu}}
  %0 = onnx.node "Relu"(%x) {name = "r", onnx_attrs = {alpha = 0.5 : f32}} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return
}

// -----

// An empty list is a valid INTS.
func.func @empty_perm(%x: tensor<f32>) -> tensor<f32> {
  %0 = onnx.node "Transpose"(%x) {name = "t", onnx_attrs = {perm = []}} : (tensor<f32>) -> tensor<f32>
  return %0 : tensor<f32>
}
