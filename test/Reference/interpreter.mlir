// The reference interpreter runs attention blocks and dense f16 weights.
//
// A block evaluates exactly like the primitive ops it expands to: the same
// logits, bit for bit, and the same greedy ids.
// RUN: microscale run %s --prompt-ids 1,3,4,5 -n 6 --logits %t.block > %t.block.ids
// RUN: microscale-opt %s --llm-expand-blocks -o %t.expanded.mlir
// RUN: FileCheck %s --check-prefix=EXPANDED < %t.expanded.mlir
// EXPANDED-NOT: llm.self_attention
// EXPANDED: llm.attention
// RUN: microscale run %t.expanded.mlir --prompt-ids 1,3,4,5 -n 6 --logits %t.expanded > %t.expanded.ids
// RUN: cmp %t.block %t.expanded
// RUN: cmp %t.block.ids %t.expanded.ids
//
// Weights stored as f16 (their values are exact in f16) give the same
// logits as f32 ones.
// RUN: microscale run %S/Inputs/block-f16.mlir --prompt-ids 1,3,4,5 -n 6 --logits %t.f16 > %t.f16.ids
// RUN: cmp %t.block %t.f16
// RUN: cmp %t.block.ids %t.f16.ids
//
// The generated ids are not trivial (a model whose logits ignored the
// weights would print one id).
// RUN: FileCheck %s --check-prefix=IDS < %t.block.ids
// IDS: {{^[0-5](,[0-5]){5}$}}
//
// A quantized weight runs as what it stands for: codes 1 with scale 0.5
// give the same logits as the dense weight of 0.5s.
// RUN: microscale run %S/Inputs/block-quantized.mlir --prompt-ids 1,3,4,5 -n 2 --logits %t.quant > %t.quant.ids
// RUN: sed -e 's/, #llm.quant<bits = 8, symmetric = true, scale = f32>>/>/g' -e 's/= dense<1> : tensor<4x4xi8> scales dense<0.5> : tensor<4x1xf32>/= dense<0.5> : tensor<4x4xf32>/' %S/Inputs/block-quantized.mlir > %t.dequantized.mlir
// RUN: FileCheck %s --check-prefix=DEQUANTIZED < %t.dequantized.mlir
// DEQUANTIZED: %wq = llm.weight "wq" : tensor<4x4xf32> = dense<0.5> : tensor<4x4xf32>
// RUN: microscale run %t.dequantized.mlir --prompt-ids 1,3,4,5 -n 2 --logits %t.dequantized > %t.dequantized.ids
// RUN: cmp %t.quant %t.dequantized
// RUN: cmp %t.quant.ids %t.dequantized.ids

module attributes {llm.model = #llm.model<arch = "llama", vocab_size = 6, hidden_size = 4, num_layers = 1, num_heads = 2, num_kv_heads = 1, head_dim = 2, max_context = 16, bos_id = 1, eos_id = 2, tokenizer = "">} {
  func.func @main(%ids: tensor<?x?xi64>) -> tensor<?x?x6xf32> {
    %emb = llm.weight "emb" : tensor<6x4xf32> = dense<[[-0.125, -0.5, 0.375, 0.875], [-0.75, -1.0, 0.875, 0.0], [-0.125, -0.25, 0.875, 0.875], [0.5, -0.5, -0.125, -0.5], [1.0, 0.5, -1.0, -0.75], [-0.375, -0.875, 0.125, -1.0]]> : tensor<6x4xf32>
    %g0 = llm.weight "g0" : tensor<4xf32> = dense<[0.0, 0.875, 0.5, 0.625]> : tensor<4xf32>
    %wq = llm.weight "wq" : tensor<4x4xf32> = dense<[[0.5, 0.75, -0.5, 0.375], [-0.625, -0.875, -0.5, 0.875], [-0.25, 0.0, 0.625, 0.125], [0.625, 1.0, 0.5, 0.375]]> : tensor<4x4xf32>
    %wk = llm.weight "wk" : tensor<2x4xf32> = dense<[[0.625, -0.125, 0.25, -1.0], [0.0, -0.375, 0.25, -0.625]]> : tensor<2x4xf32>
    %wv = llm.weight "wv" : tensor<2x4xf32> = dense<[[-0.25, 0.0, 0.125, -0.625], [-0.75, 0.875, 0.875, -0.75]]> : tensor<2x4xf32>
    %wo = llm.weight "wo" : tensor<4x4xf32> = dense<[[0.375, -0.75, 0.625, -0.5], [-1.0, 0.125, 0.625, 0.625], [-0.625, -0.875, -0.875, 0.5], [0.25, 0.0, 1.0, -0.125]]> : tensor<4x4xf32>
    %g1 = llm.weight "g1" : tensor<4xf32> = dense<[-0.875, 0.125, -1.0, -0.75]> : tensor<4xf32>
    %up = llm.weight "up" : tensor<4x4xf32> = dense<[[-0.625, -0.875, -0.25, 0.625], [0.125, 0.0, -0.5, -0.875], [0.25, 0.25, 0.375, -0.5], [0.5, 0.5, 0.75, 1.0]]> : tensor<4x4xf32>
    %gate = llm.weight "gate" : tensor<4x4xf32> = dense<[[0.5, -0.625, 1.0, 0.0], [0.625, -0.125, 0.125, 0.625], [0.0, 1.0, 0.125, 0.25], [-1.0, 0.625, 0.25, -1.0]]> : tensor<4x4xf32>
    %down = llm.weight "down" : tensor<4x4xf32> = dense<[[0.5, -0.5, -0.875, 0.25], [0.75, 0.375, 0.375, 0.0], [0.875, -1.0, -0.875, -1.0], [0.375, 0.0, 0.75, 0.125]]> : tensor<4x4xf32>
    %gf = llm.weight "gf" : tensor<4xf32> = dense<[0.25, -0.375, 0.375, -0.375]> : tensor<4xf32>
    %x = llm.embedding %emb, %ids : (tensor<6x4xf32>, tensor<?x?xi64>) -> tensor<?x?x4xf32>
    %h = llm.rms_norm %x, %g0 {epsilon = 1.0e-5 : f64} : (tensor<?x?x4xf32>, tensor<4xf32>) -> tensor<?x?x4xf32>
    %a = llm.self_attention %h q %wq k %wk v %wv o %wo {num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 2 : i64, scale = 0.70710678118654757 : f64, layer = 0 : i64, rope = #llm.rope<theta = 10000.0 : f64, rotary_dim = 2, style = rotate_half>} : (tensor<?x?x4xf32>, tensor<4x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<?x?x4xf32>
    %r = llm.add %x, %a : tensor<?x?x4xf32>
    %h1 = llm.rms_norm %r, %g1 {epsilon = 1.0e-5 : f64} : (tensor<?x?x4xf32>, tensor<4xf32>) -> tensor<?x?x4xf32>
    %m = llm.mlp %h1 up %up gate %gate down %down {activation = #llm<activation silu>, layer = 0 : i64} : (tensor<?x?x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<?x?x4xf32>
    %r1 = llm.add %r, %m : tensor<?x?x4xf32>
    %hf = llm.rms_norm %r1, %gf {epsilon = 1.0e-5 : f64} : (tensor<?x?x4xf32>, tensor<4xf32>) -> tensor<?x?x4xf32>
    %l = llm.logits %hf, %emb {tied} : (tensor<?x?x4xf32>, tensor<6x4xf32>) -> tensor<?x?x6xf32>
    return %l : tensor<?x?x6xf32>
  }
}
