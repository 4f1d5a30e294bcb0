// RUN: microscale-opt %s --convert-llm-to-standard=max-tokens=4 --microscale-plan-memory --convert-kernel-to-calls | FileCheck %s

// The three passes together on a one-layer model with every op. Sizes:
// hidden 8, 2 heads of 4, 1 kv head, MLP 12, vocab 16, context 32, 4 tokens
// per call.

// The arena: activations and scratch packed by lifetime (640 bytes here),
// then the K and V caches of 32 positions x 4 floats (512 bytes each).
// CHECK: module attributes {{{.*}}ms.arena_bytes = 1664 : i64, ms.max_context = 32 : i64, ms.max_tokens = 4 : i64, ms.weight_bytes = 2208 : i64}
// CHECK: memref.global "private" @ms_arena : memref<1664xi8> = uninitialized {alignment = 64 : i64}
// Weights are flat constant globals.
// CHECK: memref.global "private" constant @ms_w_0 : memref<128xf32> = dense<1.000000e+00> {alignment = 64 : i64}
// CHECK: func.func private @ms_linear_f32(!llvm.ptr, i64, i64, !llvm.ptr, i64, !llvm.ptr, !llvm.ptr)
// CHECK: func.func private @ms_attention_f32(!llvm.ptr, !llvm.ptr, !llvm.ptr, i64, i64, i64, i64, i64, f32, !llvm.ptr, !llvm.ptr)
// CHECK-LABEL: func.func @ms_forward(%arg0: memref<4xi32>, %arg1: i64, %arg2: i64, %arg3: i64) -> !llvm.ptr
// CHECK-NOT: memref.alloc
// The caches are views at the end of the arena.
// CHECK: %[[KEY_OFFSET:.*]] = arith.constant 640 : index
// CHECK: memref.view %{{.*}}[%[[KEY_OFFSET]]][] : memref<1664xi8> to memref<128xf32>
// CHECK: %[[VALUE_OFFSET:.*]] = arith.constant 1152 : index
// CHECK: memref.view %{{.*}}[%[[VALUE_OFFSET]]][] : memref<1664xi8> to memref<128xf32>
// CHECK: call @ms_attention_f32
// SwiGLU: two projections, the fused activation, the down projection.
// CHECK: call @ms_linear_f32
// CHECK: call @ms_linear_f32
// CHECK: math.exp
// CHECK: call @ms_linear_f32
// The logits projection, then its buffer's address is returned.
// CHECK: call @ms_linear_f32
// CHECK: return %{{.*}} : !llvm.ptr
// CHECK-NOT: memref.alloc
// CHECK-NOT: kernel.
// CHECK-NOT: {{ llm\.}}

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
