// RUN: microscale-opt %s --microscale-compile-pipeline="max-tokens=4 index-bitwidth=64" | FileCheck %s
// RUN: microscale-opt %s --microscale-compile-pipeline="max-tokens=4 index-bitwidth=32" | FileCheck %s --check-prefix=I32
// RUN: microscale-opt %s --microscale-llm-to-standard-pipeline="max-tokens=4" | microscale-opt --microscale-standard-to-llvm-pipeline | FileCheck %s
// RUN: microscale-opt %S/Inputs/quantized.mlir --microscale-compile-pipeline="max-tokens=4" | FileCheck %s --check-prefix=QUANT
// RUN: microscale import %S/Inputs/quantized.mlir --summary | FileCheck %s --check-prefix=SUMMARY
// RUN: microscale compile %S/Inputs/quantized.mlir -o %t.mlir --emit=mlir --max-tokens 4 2>&1 | FileCheck %s --check-prefix=SIZES

// What `microscale compile` runs before translation, reproduced from a raised
// module: everything ends in the LLVM dialect, the facts the emitter reads
// stay on the module, and kernels are plain C calls.

// CHECK: module attributes {{{.*}}ms.arena_bytes = {{[0-9]+}} : i64, ms.max_context = 32 : i64, ms.max_tokens = 4 : i64, ms.weight_bytes = 2208 : i64}
// CHECK-DAG: llvm.mlir.global private @ms_arena()
// CHECK-DAG: llvm.func @ms_linear_f32(!llvm.ptr, i64, i64, !llvm.ptr, i64, !llvm.ptr, !llvm.ptr)
// CHECK-DAG: llvm.func @ms_attention_f32(!llvm.ptr, !llvm.ptr, !llvm.ptr, i64, i64, i64, i64, i64, f32, !llvm.ptr, !llvm.ptr)
// CHECK-LABEL: llvm.func @ms_forward(%{{.*}}: !llvm.ptr, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: i64) -> !llvm.ptr
// CHECK: llvm.call @ms_linear_f32
// CHECK: llvm.call @ms_attention_f32
// CHECK-NOT: memref.
// CHECK-NOT: scf.
// CHECK-NOT: llm.

// On a 32-bit target indices are 32 bits; the runtime ABI's int64_t
// arguments (ms_forward's n, pos and logit_rows, the kernels' sizes) stay
// i64.
// I32-LABEL: llvm.func @ms_forward(%{{.*}}: !llvm.ptr, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: i64) -> !llvm.ptr
// I32: llvm.trunc %{{.*}} : i64 to i32
// I32: llvm.call @ms_linear_f32({{.*}}) : (!llvm.ptr, i64, i64, !llvm.ptr, i64, !llvm.ptr, !llvm.ptr) -> ()

// Quantized weights (Inputs/quantized.mlir, every matrix quantized, the
// embedding tied to the logits): packed codes, f16 scales and packed zero
// points stay read-only data, and each projection calls the kernel for its
// width, in the self-attention block (after llm-expand-blocks) and the MLP
// alike. Sizes count the storage, the tied table once: 664 bytes, 2464 as
// f32.
// QUANT: module attributes {{{.*}}ms.weight_bytes = 664 : i64}
// QUANT-DAG: llvm.mlir.global private constant @ms_w_0(dense_resource<emb_q> : tensor<128xi8>) {{{.*}}alignment = 64 : i64} : !llvm.array<128 x i8>
// QUANT-DAG: llvm.mlir.global private constant @ms_w_0_scales(dense_resource<emb_s> : tensor<16xf16>) {{{.*}}alignment = 64 : i64} : !llvm.array<16 x f16>
// QUANT-DAG: llvm.mlir.global private constant @ms_w_4_zero_points(dense_resource<wv_z> : tensor<8xi8>) {{{.*}}alignment = 64 : i64} : !llvm.array<8 x i8>
// QUANT-LABEL: llvm.func @ms_forward(
// QUANT: llvm.call @ms_dequantize_row_f32
// QUANT: llvm.call @ms_linear_q8_f32
// QUANT: llvm.call @ms_linear_q4_f32
// QUANT: llvm.call @ms_linear_q4_f32
// QUANT: llvm.call @ms_attention_f32
// QUANT: llvm.call @ms_linear_q_f32
// QUANT: llvm.call @ms_linear_q4_f32
// QUANT: llvm.call @ms_linear_q_f32
// QUANT: llvm.call @ms_linear_q4_f32
// QUANT: llvm.call @ms_linear_q8_f32
// QUANT-NOT: llvm.call @ms_linear_f32
// SUMMARY: llm.self_attention 1
// SUMMARY: weights: 9 tensors, 664 bytes
// SIZES: weights: 664 bytes (read-only data)

module attributes {llm.model = #llm.model<arch = "llama", vocab_size = 16, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 1, head_dim = 4, max_context = 32, bos_id = 1, eos_id = 2, tokenizer = "tok.model">} {
  func.func @forward(%ids: tensor<?x?xi64>) -> tensor<?x?x16xf32> {
    %emb = llm.weight "emb" : tensor<16x8xf32> = dense<1.0> : tensor<16x8xf32>
    %g = llm.weight "g" : tensor<8xf32> = dense<1.0> : tensor<8xf32>
    %wq = llm.weight "wq" : tensor<8x8xf32> = dense<0.1> : tensor<8x8xf32>
    %wk = llm.weight "wk" : tensor<4x8xf32> = dense<0.1> : tensor<4x8xf32>
    %wv = llm.weight "wv" : tensor<4x8xf32> = dense<0.2> : tensor<4x8xf32>
    %up = llm.weight "up" : tensor<12x8xf32> = dense<0.1> : tensor<12x8xf32>
    %gate = llm.weight "gate" : tensor<12x8xf32> = dense<0.3> : tensor<12x8xf32>
    %down = llm.weight "down" : tensor<8x12xf32> = dense<0.1> : tensor<8x12xf32>
    %x = llm.embedding %emb, %ids : (tensor<16x8xf32>, tensor<?x?xi64>) -> tensor<?x?x8xf32>
    %h = llm.rms_norm %x, %g {epsilon = 1.0e-5 : f64} : (tensor<?x?x8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
    %q = llm.linear %h, %wq : (tensor<?x?x8xf32>, tensor<8x8xf32>) -> tensor<?x?x8xf32>
    %k = llm.linear %h, %wk : (tensor<?x?x8xf32>, tensor<4x8xf32>) -> tensor<?x?x4xf32>
    %v = llm.linear %h, %wv : (tensor<?x?x8xf32>, tensor<4x8xf32>) -> tensor<?x?x4xf32>
    %qr = llm.rope %q {head_dim = 4 : i64, rotary_dim = 4 : i64, theta = 10000.0 : f64, style = #llm<rope_style rotate_half>} : tensor<?x?x8xf32>
    %kr = llm.rope %k {head_dim = 4 : i64, rotary_dim = 4 : i64, theta = 10000.0 : f64, style = #llm<rope_style rotate_half>} : tensor<?x?x4xf32>
    %a = llm.attention %qr, %kr, %v {num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 4 : i64, scale = 0.5 : f64, layer = 0 : i64} : (tensor<?x?x8xf32>, tensor<?x?x4xf32>, tensor<?x?x4xf32>) -> tensor<?x?x8xf32>
    %r = llm.add %x, %a : tensor<?x?x8xf32>
    %m = llm.mlp %r up %up gate %gate down %down {activation = #llm<activation silu>} : (tensor<?x?x8xf32>, tensor<12x8xf32>, tensor<12x8xf32>, tensor<8x12xf32>) -> tensor<?x?x8xf32>
    %r2 = llm.add %r, %m : tensor<?x?x8xf32>
    %l = llm.logits %r2, %emb {tied} : (tensor<?x?x8xf32>, tensor<16x8xf32>) -> tensor<?x?x16xf32>
    return %l : tensor<?x?x16xf32>
  }
}
