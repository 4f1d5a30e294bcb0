// RUN: microscale-opt %s --split-input-file --llm-quantize-weights="format=int8" | FileCheck %s --check-prefix=INT8
// RUN: microscale-opt %s --split-input-file --llm-quantize-weights="format=int8" | microscale-opt --split-input-file | FileCheck %s --check-prefix=INT8
// RUN: microscale-opt %s --split-input-file --llm-quantize-weights="format=q4_g32_asym" | FileCheck %s --check-prefix=Q4
// RUN: microscale-opt %s --split-input-file --llm-quantize-weights="format=q4_g32_asym_log8" | microscale-opt --split-input-file | FileCheck %s --check-prefix=LOG8
// RUN: microscale-opt %s --split-input-file --llm-quantize-weights="format=q4_g32_asym_log8_a8" | microscale-opt --split-input-file | FileCheck %s --check-prefix=A8
// RUN: microscale-opt %s --split-input-file --llm-quantize-weights="format=q4 weights=linears" | FileCheck %s --check-prefix=LINEARS
// RUN: microscale-opt %s --split-input-file --llm-quantize-weights="format=q4 overrides=layers\.0\.down_proj=int8,w.*=float" | FileCheck %s --check-prefix=OVERRIDE
// RUN: not microscale-opt %s --split-input-file --llm-quantize-weights="format=q9" 2>&1 | FileCheck %s --check-prefix=BAD-FORMAT
// RUN: not microscale-opt %s --split-input-file --llm-quantize-weights="format=q4_g16_a8" 2>&1 | FileCheck %s --check-prefix=BAD-A8
// RUN: not microscale-opt %s --split-input-file --llm-quantize-weights="format=q4 overrides=up=q4_gx" 2>&1 | FileCheck %s --check-prefix=BAD-OVERRIDE
// RUN: not microscale-opt %s --split-input-file --llm-quantize-weights="format=q4 overrides=*a=int8" 2>&1 | FileCheck %s --check-prefix=BAD-REGEX

// One linear, per-row int8: row 0 has |max| 1, so its scale is 1/127 in
// f16 (0x2008) and the codes are 127, -127, 64 (0.5 rounds to 63.5+), 32;
// the all-zero row gets scale 0 and zero codes.
// INT8-LABEL: func.func @linear
// INT8: llm.weight "w" : tensor<2x4xf32, #llm.quant<bits = 8, symmetric = true, scale = f16>> = dense_resource<w.q> : tensor<2x4xi8> scales dense_resource<w.scales> : tensor<2x1xf16>
// INT8-NOT: zero_points
// INT8: llm.linear %{{.*}}, %{{.*}} : (tensor<?x?x4xf32>, tensor<2x4xf32, #llm.quant<bits = 8, symmetric = true, scale = f16>>)
// INT8: w.q: "0x{{[0-9A-F]+}}7F81402000000000"
// INT8: w.scales: "0x{{[0-9A-F]+}}08200000"

// 40 input features in groups of 32: a full group and a tail of 8, each
// with an f16 scale and an unsigned zero point.
// Q4-LABEL: func.func @linear
// Q4: llm.weight "w" : tensor<2x4xf32, #llm.quant<bits = 4, group = 32, symmetric = false, scale = f16>> = dense_resource<w.q> : tensor<2x2xi8> scales dense_resource<w.scales> : tensor<2x1xf16> zero_points dense_resource<w.zero_points> : tensor<2x1xi8>
// Logarithmic scales: one byte per group, relative to the matrix's largest
// scale (2 / 15, code 0); the all-zero row gets the smallest (code 255).
// The zero point 7 (1 / (2 / 15) = 7.4999996 in float) and the codes 14, 0,
// 11, 9 are packed two to a byte, like the codes.
// LOG8-LABEL: func.func @linear
// LOG8: llm.weight "w" : tensor<2x4xf32, #llm.quant<bits = 4, group = 32, symmetric = false, scale = i8, scale_max = 0.13333334 : f32>> = dense_resource<w.q> : tensor<2x2xi8> scales dense_resource<w.scales> : tensor<2x1xi8> zero_points dense_resource<w.zero_points> : tensor<2x1xi8>
// LOG8: w.q: "0x{{[0-9A-F]+}}0E9B0000"
// LOG8: w.scales: "0x{{[0-9A-F]+}}00FF"
// LOG8: w.zero_points: "0x{{[0-9A-F]+}}0700"
// 8-bit activations change the encoding, not the storage: the same codes,
// scales and zero points as LOG8.
// A8-LABEL: func.func @linear
// A8: llm.weight "w" : tensor<2x4xf32, #llm.quant<bits = 4, group = 32, symmetric = false, scale = i8, scale_max = 0.13333334 : f32, activations = i8>> = dense_resource<w.q> : tensor<2x2xi8> scales dense_resource<w.scales> : tensor<2x1xi8> zero_points dense_resource<w.zero_points> : tensor<2x1xi8>
// A8: w.q: "0x{{[0-9A-F]+}}0E9B0000"
// A8: w.scales: "0x{{[0-9A-F]+}}00FF"
// A8: w.zero_points: "0x{{[0-9A-F]+}}0700"
func.func @linear(%x: tensor<?x?x4xf32>) -> tensor<?x?x2xf32> {
  %w = llm.weight "w" : tensor<2x4xf32> = dense<[[1.0, -1.0, 0.5, 0.25], [0.0, 0.0, 0.0, 0.0]]> : tensor<2x4xf32>
  %y = llm.linear %x, %w : (tensor<?x?x4xf32>, tensor<2x4xf32>) -> tensor<?x?x2xf32>
  return %y : tensor<?x?x2xf32>
}

// -----

// A decoder layer: tied embedding and logits (quantized once, both users
// see it), an MLP whose width 40 leaves a tail group, and a weight that is
// already encoded (left alone).
// INT8-LABEL: func.func @model
// INT8-DAG: llm.weight "emb" : tensor<16x8xf32, #llm.quant<bits = 8, symmetric = true, scale = f16>>
// INT8-DAG: llm.weight "up" : tensor<40x8xf32, #llm.quant<bits = 8, symmetric = true, scale = f16>>
// INT8-DAG: llm.weight "down" : tensor<8x40xf32, #llm.quant<bits = 8, symmetric = true, scale = f16>> = dense_resource<down.q> : tensor<8x40xi8> scales dense_resource<down.scales> : tensor<8x1xf16>
// INT8-DAG: llm.weight "g" : tensor<8xf32> = dense<1.000000e+00>
// INT8-DAG: llm.weight "pre" : tensor<8x8xf32, #llm.quant<bits = 4, group = 8, symmetric = true, scale = f32>> = dense<17>
// INT8: llm.embedding %[[EMB:.*]], %{{.*}} : (tensor<16x8xf32, #llm.quant
// INT8: llm.logits %{{.*}}, %[[EMB]] {tied} : (tensor<?x?x8xf32>, tensor<16x8xf32, #llm.quant

// Q4-LABEL: func.func @model
// Q4-DAG: llm.weight "up" : tensor<40x8xf32, #llm.quant<bits = 4, group = 32, symmetric = false, scale = f16>> = dense_resource<up.q> : tensor<40x4xi8> scales dense_resource<up.scales> : tensor<40x1xf16> zero_points dense_resource<up.zero_points> : tensor<40x1xi8>
// Q4-DAG: llm.weight "down" : tensor<8x40xf32, #llm.quant<bits = 4, group = 32, symmetric = false, scale = f16>> = dense_resource<down.q> : tensor<8x20xi8> scales dense_resource<down.scales> : tensor<8x2xf16> zero_points dense_resource<down.zero_points> : tensor<8x1xi8>

// `weights=linears`: the layer's matrices only.
// LINEARS-LABEL: func.func @model
// LINEARS-DAG: llm.weight "emb" : tensor<16x8xf32> =
// LINEARS-DAG: llm.weight "up" : tensor<40x8xf32, #llm.quant<bits = 4, group = 32, symmetric = true, scale = f16>>
// LINEARS-DAG: llm.weight "wgate" : tensor<40x8xf32, #llm.quant<bits = 4, group = 32, symmetric = true, scale = f16>>

// Overrides match the weight's name or its canonical name
// (layers.<L>.<role>); the first match wins and `float` keeps a weight.
// OVERRIDE-LABEL: func.func @model
// OVERRIDE-DAG: llm.weight "down" : tensor<8x40xf32, #llm.quant<bits = 8, symmetric = true, scale = f16>>
// OVERRIDE-DAG: llm.weight "up" : tensor<40x8xf32, #llm.quant<bits = 4, group = 32, symmetric = true, scale = f16>>
// OVERRIDE-DAG: llm.weight "wgate" : tensor<40x8xf32> =

// BAD-FORMAT: error: llm-quantize-weights: bad quantization format 'q9': bits must be in [2, 8]
// BAD-A8: error: llm-quantize-weights: bad quantization format 'q4_g16_a8': 8-bit activations come in blocks of 32 features, so groups must be a multiple of that (or _row)
// BAD-OVERRIDE: error: llm-quantize-weights: override 'up=q4_gx': bad quantization format 'q4_gx': the group must be a positive number of features
// BAD-REGEX: error: llm-quantize-weights: override regex '*a': repetition-operator operand invalid
func.func @model(%ids: tensor<?x?xi64>) -> tensor<?x?x16xf32> {
  %emb = llm.weight "emb" : tensor<16x8xf32> = dense<0.5> : tensor<16x8xf32>
  %g = llm.weight "g" : tensor<8xf32> = dense<1.0> : tensor<8xf32>
  %pre = llm.weight "pre" : tensor<8x8xf32, #llm.quant<bits = 4, group = 8, symmetric = true, scale = f32>> = dense<17> : tensor<8x4xi8> scales dense<0.1> : tensor<8x1xf32>
  %up = llm.weight "up" : tensor<40x8xf32> = dense<0.25> : tensor<40x8xf32>
  %gate = llm.weight "wgate" : tensor<40x8xf32> = dense<-0.5> : tensor<40x8xf32>
  %down = llm.weight "down" : tensor<8x40xf32> = dense<0.125> : tensor<8x40xf32>
  %x = llm.embedding %emb, %ids : (tensor<16x8xf32>, tensor<?x?xi64>) -> tensor<?x?x8xf32>
  %p = llm.linear %x, %pre : (tensor<?x?x8xf32>, tensor<8x8xf32, #llm.quant<bits = 4, group = 8, symmetric = true, scale = f32>>) -> tensor<?x?x8xf32>
  %h = llm.rms_norm %p, %g {epsilon = 1.0e-5 : f64} : (tensor<?x?x8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
  %m = llm.mlp %h up %up gate %gate down %down {activation = #llm<activation silu>, layer = 0 : i64} : (tensor<?x?x8xf32>, tensor<40x8xf32>, tensor<40x8xf32>, tensor<8x40xf32>) -> tensor<?x?x8xf32>
  %l = llm.logits %m, %emb {tied} : (tensor<?x?x8xf32>, tensor<16x8xf32>) -> tensor<?x?x16xf32>
  return %l : tensor<?x?x16xf32>
}

// -----

// A format an earlier pass chose (the llm.quantize attribute) wins over the
// default; an override still wins over it.
// INT8-LABEL: func.func @chosen
// INT8-DAG: llm.weight "a" : tensor<2x40xf32, #llm.quant<bits = 3, group = 32, symmetric = false, scale = f16>>
// INT8-DAG: llm.weight "b" {llm.quantize = "float"} : tensor<2x40xf32> =
// OVERRIDE-LABEL: func.func @chosen
// OVERRIDE-DAG: llm.weight "a" : tensor<2x40xf32, #llm.quant<bits = 3, group = 32, symmetric = false, scale = f16>>
// OVERRIDE-DAG: llm.weight "b" {llm.quantize = "float"} : tensor<2x40xf32> =
func.func @chosen(%x: tensor<?x?x40xf32>) -> (tensor<?x?x2xf32>, tensor<?x?x2xf32>) {
  %a = llm.weight "a" {llm.quantize = "q3_g32_asym"} : tensor<2x40xf32> = dense<0.5> : tensor<2x40xf32>
  %b = llm.weight "b" {llm.quantize = "float"} : tensor<2x40xf32> = dense<0.5> : tensor<2x40xf32>
  %ya = llm.linear %x, %a : (tensor<?x?x40xf32>, tensor<2x40xf32>) -> tensor<?x?x2xf32>
  %yb = llm.linear %x, %b : (tensor<?x?x40xf32>, tensor<2x40xf32>) -> tensor<?x?x2xf32>
  return %ya, %yb : tensor<?x?x2xf32>, tensor<?x?x2xf32>
}

// -----

// Exporters' names are not identifiers; the blob keys are, so the quantized
// module prints in a form that parses back.
// INT8-LABEL: func.func @exported_name
// INT8: llm.weight "model/w::0" : tensor<2x4xf32, #llm.quant<bits = 8, symmetric = true, scale = f16>> = dense_resource<model_w__0.q> : tensor<2x4xi8> scales dense_resource<model_w__0.scales>
func.func @exported_name(%x: tensor<?x?x4xf32>) -> tensor<?x?x2xf32> {
  %w = llm.weight "model/w::0" : tensor<2x4xf32> = dense<0.5> : tensor<2x4xf32>
  %y = llm.linear %x, %w : (tensor<?x?x4xf32>, tensor<2x4xf32>) -> tensor<?x?x2xf32>
  return %y : tensor<?x?x2xf32>
}
