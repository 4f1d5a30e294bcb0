// RUN: microscale-opt %s --split-input-file --convert-llm-to-standard=max-tokens=4 | FileCheck %s
// RUN: microscale-opt %s --split-input-file --convert-llm-to-standard="max-tokens=4 max-context=8" | FileCheck %s --check-prefix=CONTEXT

// One case per pattern. Hidden size 8 (2 heads of 4), vocabulary 16,
// context 32, 4 tokens per call: an activation [?, ?, F] is a buffer of
// 4 * F floats. Buffers are memref.alloc (microscale-plan-memory places
// them); the heavy work is kernel ops (convert-kernel-to-calls).

// The entry function, weights, the embedding and the logits (of the last
// logit_rows tokens, clamped to [1, n]: the last rows of the input).
// CHECK:       module attributes {{{.*}}ms.max_context = 32 : i64, ms.max_tokens = 4 : i64, ms.weight_bytes = 512 : i64}
// CHECK:       memref.global "private" constant @ms_w_0 : memref<128xf32> = dense<1.000000e+00> {alignment = 64 : i64}
// CHECK-LABEL: func.func @ms_forward(
// CHECK-SAME:      %[[TOKENS:.*]]: memref<4xi32>, %[[N64:[^:]*]]: i64, %[[POS64:[^:]*]]: i64, %[[ROWS64:[^:]*]]: i64) -> !llvm.ptr
// CHECK-NEXT:    %[[N:.*]] = arith.index_cast %[[N64]] : i64 to index
// CHECK-NEXT:    %[[POS:.*]] = arith.index_cast %[[POS64]] : i64 to index
// CHECK-NEXT:    %[[ROWS:.*]] = arith.index_cast %[[ROWS64]] : i64 to index
// CHECK:         %[[EMB:.*]] = memref.get_global @ms_w_0 : memref<128xf32>
// CHECK:         %[[X:.*]] = memref.alloc() : memref<32xf32>
// CHECK:         scf.for %[[R:.*]] = %{{.*}} to %[[N]]
// CHECK:           %[[ID:.*]] = memref.load %[[TOKENS]][%[[R]]] : memref<4xi32>
// CHECK:           arith.index_cast %[[ID]] : i32 to index
// CHECK:           scf.for
// CHECK:             memref.load %[[EMB]]
// CHECK:             memref.store %{{.*}}, %[[X]]
// CHECK:         kernel.attention
// CHECK:         %[[L:.*]] = memref.alloc() : memref<64xf32>
// CHECK-NEXT:    %[[ONE:.*]] = arith.constant 1 : index
// CHECK-NEXT:    %[[AT_LEAST_ONE:.*]] = arith.maxsi %[[ROWS]], %[[ONE]] : index
// CHECK-NEXT:    %[[LOGIT_ROWS:.*]] = arith.minsi %[[AT_LEAST_ONE]], %[[N]] : index
// CHECK-NEXT:    %[[FIRST:.*]] = arith.subi %[[N]], %[[LOGIT_ROWS]] : index
// CHECK-NEXT:    kernel.linear %[[X]] from_row %[[FIRST]], %[[EMB]] into %[[L]] rows %[[LOGIT_ROWS]] {in_features = 8 : i64, out_features = 16 : i64}
// CHECK:         %[[ADDRESS:.*]] = memref.extract_aligned_pointer_as_index %[[L]]
// CHECK:         %[[ADDRESS64:.*]] = arith.index_cast %[[ADDRESS]] : index to i64
// CHECK:         %[[POINTER:.*]] = llvm.inttoptr %[[ADDRESS64]] : i64 to !llvm.ptr
// CHECK:         return %[[POINTER]] : !llvm.ptr
// CHECK-NOT:   {{ llm\.}}
module attributes {llm.model = #llm.model<arch = "llama", vocab_size = 16, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 2, head_dim = 4, max_context = 32, bos_id = 1, eos_id = 2, tokenizer = "tok.model">} {
  func.func @forward(%ids: tensor<?x?xi64>) -> tensor<?x?x16xf32> {
    %emb = llm.weight "emb" : tensor<16x8xf32> = dense<1.0> : tensor<16x8xf32>
    %x = llm.embedding %emb, %ids : (tensor<16x8xf32>, tensor<?x?xi64>) -> tensor<?x?x8xf32>
    // The attention unit #llm.model counts as its one layer.
    %unit = llm.attention %x, %x, %x {num_heads = 2 : i64, num_kv_heads = 2 : i64, head_dim = 4 : i64, scale = 0.5 : f64, layer = 0 : i64} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
    %l = llm.logits %x, %emb {tied} : (tensor<?x?x8xf32>, tensor<16x8xf32>) -> tensor<?x?x16xf32>
    return %l : tensor<?x?x16xf32>
  }
}

// -----

// Learned positions: rows pos .. pos + n - 1 of the table; the residual add.
// CHECK-LABEL: func.func @ms_forward(
// CHECK-SAME:      %{{.*}}: memref<4xi32>, %[[N64:[^:]*]]: i64, %[[POS64:[^:]*]]: i64, %[[ROWS64:[^:]*]]: i64)
// CHECK-NEXT:    %[[N:.*]] = arith.index_cast %[[N64]] : i64 to index
// CHECK-NEXT:    %[[POS:.*]] = arith.index_cast %[[POS64]] : i64 to index
// CHECK:         %[[WPE:.*]] = memref.get_global @ms_w_1 : memref<256xf32>
// CHECK:         %[[X:.*]] = memref.alloc() : memref<32xf32>
// CHECK:         %[[P:.*]] = memref.alloc() : memref<32xf32>
// CHECK:         scf.for %[[R:.*]] = %{{.*}} to %[[N]]
// CHECK:           %[[ROW:.*]] = arith.addi %[[POS]], %[[R]] : index
// CHECK:           arith.muli %[[ROW]]
// CHECK:           scf.for
// CHECK:             memref.load %[[WPE]]
// CHECK:             memref.store %{{.*}}, %[[P]]
// CHECK:         %[[SUM:.*]] = memref.alloc() : memref<32xf32>
// CHECK:         %[[END:.*]] = arith.muli %[[N]], %{{.*}} : index
// CHECK:         scf.for %[[I:.*]] = %{{.*}} to %[[END]]
// CHECK:           %[[A:.*]] = memref.load %[[X]][%[[I]]]
// CHECK:           %[[B:.*]] = memref.load %[[P]][%[[I]]]
// CHECK:           %[[AB:.*]] = arith.addf %[[A]], %[[B]] : f32
// CHECK:           memref.store %[[AB]], %[[SUM]][%[[I]]]
// CHECK:         kernel.linear %[[SUM]]
module attributes {llm.model = #llm.model<arch = "gpt2", vocab_size = 16, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 2, head_dim = 4, max_context = 32, bos_id = 1, eos_id = 2, tokenizer = "tok.model">} {
  func.func @forward(%ids: tensor<?x?xi64>) -> tensor<?x?x16xf32> {
    %emb = llm.weight "emb" : tensor<16x8xf32> = dense<1.0> : tensor<16x8xf32>
    %wpe = llm.weight "wpe" : tensor<32x8xf32> = dense<0.5> : tensor<32x8xf32>
    %x = llm.embedding %emb, %ids : (tensor<16x8xf32>, tensor<?x?xi64>) -> tensor<?x?x8xf32>
    %p = llm.position_embedding %wpe, %ids : (tensor<32x8xf32>, tensor<?x?xi64>) -> tensor<?x?x8xf32>
    %s = llm.add %x, %p : tensor<?x?x8xf32>
    // The attention unit #llm.model counts as its one layer.
    %unit = llm.attention %x, %x, %x {num_heads = 2 : i64, num_kv_heads = 2 : i64, head_dim = 4 : i64, scale = 0.5 : f64, layer = 0 : i64} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
    %l = llm.logits %s, %emb {tied} : (tensor<?x?x8xf32>, tensor<16x8xf32>) -> tensor<?x?x16xf32>
    return %l : tensor<?x?x16xf32>
  }
}

// -----

// RMSNorm: per row, a sum of squares, then one scaling loop.
// CHECK-LABEL: func.func @ms_forward(
// CHECK:         %[[GAIN:.*]] = memref.get_global @ms_w_1 : memref<8xf32>
// CHECK:         %[[X:.*]] = memref.alloc() : memref<32xf32>
// CHECK:         %[[H:.*]] = memref.alloc() : memref<32xf32>
// CHECK:         scf.for
// CHECK:           %[[SQUARES:.*]] = scf.for {{.*}} iter_args
// CHECK:             memref.load %[[X]]
// CHECK:             arith.mulf
// CHECK:           %[[MEAN:.*]] = arith.divf %[[SQUARES]]
// CHECK:           %[[EPS:.*]] = arith.constant 9.99999974E-6 : f32
// CHECK:           %[[SHIFTED:.*]] = arith.addf %[[MEAN]], %[[EPS]]
// CHECK:           %[[ROOT:.*]] = math.sqrt %[[SHIFTED]]
// CHECK:           %[[INV:.*]] = arith.divf %{{.*}}, %[[ROOT]]
// CHECK:           scf.for %[[C:.*]] =
// CHECK:             %[[V:.*]] = memref.load %[[X]]
// CHECK:             %[[SCALED:.*]] = arith.mulf %[[V]], %[[INV]]
// CHECK:             %[[G:.*]] = memref.load %[[GAIN]][%[[C]]]
// CHECK:             %[[OUT:.*]] = arith.mulf %[[SCALED]], %[[G]]
// CHECK:             memref.store %[[OUT]], %[[H]]
// CHECK:         kernel.linear %[[H]]
module attributes {llm.model = #llm.model<arch = "llama", vocab_size = 16, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 2, head_dim = 4, max_context = 32, bos_id = 1, eos_id = 2, tokenizer = "tok.model">} {
  func.func @forward(%ids: tensor<?x?xi64>) -> tensor<?x?x16xf32> {
    %emb = llm.weight "emb" : tensor<16x8xf32> = dense<1.0> : tensor<16x8xf32>
    %g = llm.weight "g" : tensor<8xf32> = dense<1.0> : tensor<8xf32>
    %x = llm.embedding %emb, %ids : (tensor<16x8xf32>, tensor<?x?xi64>) -> tensor<?x?x8xf32>
    %h = llm.rms_norm %x, %g {epsilon = 1.0e-5 : f64} : (tensor<?x?x8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
    // The attention unit #llm.model counts as its one layer.
    %unit = llm.attention %x, %x, %x {num_heads = 2 : i64, num_kv_heads = 2 : i64, head_dim = 4 : i64, scale = 0.5 : f64, layer = 0 : i64} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
    %l = llm.logits %h, %emb {tied} : (tensor<?x?x8xf32>, tensor<16x8xf32>) -> tensor<?x?x16xf32>
    return %l : tensor<?x?x16xf32>
  }
}

// -----

// LayerNorm with bias: mean, then variance, then scale, shift and bias.
// CHECK-LABEL: func.func @ms_forward(
// CHECK:         %[[GAIN:.*]] = memref.get_global @ms_w_1 : memref<8xf32>
// CHECK:         %[[BIAS:.*]] = memref.get_global @ms_w_2 : memref<8xf32>
// CHECK:         %[[H:.*]] = memref.alloc() : memref<32xf32>
// CHECK:         scf.for
// CHECK:           %[[TOTAL:.*]] = scf.for {{.*}} iter_args
// CHECK:           %[[MEAN:.*]] = arith.divf %[[TOTAL]]
// CHECK:           scf.for {{.*}} iter_args
// CHECK:             arith.subf %{{.*}}, %[[MEAN]]
// CHECK:           math.sqrt
// CHECK:           scf.for %[[C:.*]] =
// CHECK:             arith.subf %{{.*}}, %[[MEAN]]
// CHECK:             memref.load %[[GAIN]][%[[C]]]
// CHECK:             %[[B:.*]] = memref.load %[[BIAS]][%[[C]]]
// CHECK:             %[[OUT:.*]] = arith.addf %{{.*}}, %[[B]]
// CHECK:             memref.store %[[OUT]], %[[H]]
module attributes {llm.model = #llm.model<arch = "gpt2", vocab_size = 16, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 2, head_dim = 4, max_context = 32, bos_id = 1, eos_id = 2, tokenizer = "tok.model">} {
  func.func @forward(%ids: tensor<?x?xi64>) -> tensor<?x?x16xf32> {
    %emb = llm.weight "emb" : tensor<16x8xf32> = dense<1.0> : tensor<16x8xf32>
    %g = llm.weight "g" : tensor<8xf32> = dense<1.0> : tensor<8xf32>
    %b = llm.weight "b" : tensor<8xf32> = dense<0.5> : tensor<8xf32>
    %x = llm.embedding %emb, %ids : (tensor<16x8xf32>, tensor<?x?xi64>) -> tensor<?x?x8xf32>
    %h = llm.layer_norm %x, %g, %b {epsilon = 1.0e-5 : f64} : (tensor<?x?x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
    // The attention unit #llm.model counts as its one layer.
    %unit = llm.attention %x, %x, %x {num_heads = 2 : i64, num_kv_heads = 2 : i64, head_dim = 4 : i64, scale = 0.5 : f64, layer = 0 : i64} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
    %l = llm.logits %h, %emb {tied} : (tensor<?x?x8xf32>, tensor<16x8xf32>) -> tensor<?x?x16xf32>
    return %l : tensor<?x?x16xf32>
  }
}

// -----

// A projection with bias, and untied logits with bias: kernel.linear.
// CHECK-LABEL: func.func @ms_forward(
// CHECK-SAME:      %[[N64:[^:]*]]: i64, %[[POS64:[^:]*]]: i64, %[[ROWS64:[^:]*]]: i64)
// CHECK-NEXT:    %[[N:.*]] = arith.index_cast %[[N64]] : i64 to index
// CHECK-NEXT:    %[[POS:.*]] = arith.index_cast %[[POS64]] : i64 to index
// CHECK:         %[[W:.*]] = memref.get_global @ms_w_1 : memref<64xf32>
// CHECK:         %[[B:.*]] = memref.get_global @ms_w_2 : memref<8xf32>
// CHECK:         %[[HEAD:.*]] = memref.get_global @ms_w_3 : memref<128xf32>
// CHECK:         %[[HEAD_BIAS:.*]] = memref.get_global @ms_w_4 : memref<16xf32>
// CHECK:         %[[X:.*]] = memref.alloc() : memref<32xf32>
// CHECK:         %[[Y:.*]] = memref.alloc() : memref<32xf32>
// CHECK:         kernel.linear %[[X]], %[[W]] bias %[[B]] into %[[Y]] rows %[[N]] {in_features = 8 : i64, out_features = 8 : i64}
// CHECK-SAME:      : memref<32xf32>, memref<64xf32>, memref<8xf32> into memref<32xf32>
// CHECK:         kernel.attention
// CHECK:         %[[L:.*]] = memref.alloc() : memref<64xf32>
// CHECK:         kernel.linear %[[Y]] from_row %{{.*}}, %[[HEAD]] bias %[[HEAD_BIAS]] into %[[L]] rows %{{.*}} {in_features = 8 : i64, out_features = 16 : i64}
module attributes {llm.model = #llm.model<arch = "llama", vocab_size = 16, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 2, head_dim = 4, max_context = 32, bos_id = 1, eos_id = 2, tokenizer = "tok.model">} {
  func.func @forward(%ids: tensor<?x?xi64>) -> tensor<?x?x16xf32> {
    %emb = llm.weight "emb" : tensor<16x8xf32> = dense<1.0> : tensor<16x8xf32>
    %w = llm.weight "w" : tensor<8x8xf32> = dense<0.1> : tensor<8x8xf32>
    %b = llm.weight "b" : tensor<8xf32> = dense<0.2> : tensor<8xf32>
    %head = llm.weight "head" : tensor<16x8xf32> = dense<0.3> : tensor<16x8xf32>
    %head_bias = llm.weight "head_bias" : tensor<16xf32> = dense<0.4> : tensor<16xf32>
    %x = llm.embedding %emb, %ids : (tensor<16x8xf32>, tensor<?x?xi64>) -> tensor<?x?x8xf32>
    %y = llm.linear %x, %w, %b : (tensor<?x?x8xf32>, tensor<8x8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
    // The attention unit #llm.model counts as its one layer.
    %unit = llm.attention %x, %x, %x {num_heads = 2 : i64, num_kv_heads = 2 : i64, head_dim = 4 : i64, scale = 0.5 : f64, layer = 0 : i64} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
    %l = llm.logits %y, %head, %head_bias : (tensor<?x?x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<?x?x16xf32>
    return %l : tensor<?x?x16xf32>
  }
}

// -----

// RoPE: copy, then rotate pairs by position * frequency (a shared constant
// table); rotate_half pairs i with i + 2 here.
// CHECK:       memref.global "private" constant @ms_rope_10000_4 : memref<2xf32> = dense<[1.000000e+00, 0.00999999977]>
// CHECK-LABEL: func.func @ms_forward(
// CHECK-SAME:      %[[N64:[^:]*]]: i64, %[[POS64:[^:]*]]: i64, %[[ROWS64:[^:]*]]: i64)
// CHECK-NEXT:    %[[N:.*]] = arith.index_cast %[[N64]] : i64 to index
// CHECK-NEXT:    %[[POS:.*]] = arith.index_cast %[[POS64]] : i64 to index
// CHECK:         %[[X:.*]] = memref.alloc() : memref<32xf32>
// CHECK:         %[[Y:.*]] = memref.alloc() : memref<32xf32>
// CHECK:         scf.for %[[I:.*]] =
// CHECK:           memref.store %{{.*}}, %[[Y]][%[[I]]]
// CHECK:         %[[FREQS:.*]] = memref.get_global @ms_rope_10000_4 : memref<2xf32>
// CHECK:         scf.for %[[R:.*]] = %{{.*}} to %[[N]]
// CHECK:           %[[P:.*]] = arith.addi %[[POS]], %[[R]]
// CHECK:           %[[P64:.*]] = arith.index_cast %[[P]] : index to i64
// CHECK:           %[[POSITION:.*]] = arith.uitofp %[[P64]] : i64 to f32
// CHECK:           scf.for %[[PAIR:.*]] =
// CHECK:             %[[F:.*]] = memref.load %[[FREQS]][%[[PAIR]]]
// CHECK:             %[[ANGLE:.*]] = arith.mulf %[[POSITION]], %[[F]]
// CHECK:             math.cos %[[ANGLE]]
// CHECK:             math.sin %[[ANGLE]]
// CHECK:             %[[SECOND:.*]] = arith.addi %[[PAIR]], %c2{{(_[0-9]+)?}} : index
// CHECK:             scf.for
// CHECK:               memref.store %{{.*}}, %[[Y]]
// CHECK:               memref.store %{{.*}}, %[[Y]]
module attributes {llm.model = #llm.model<arch = "llama", vocab_size = 16, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 2, head_dim = 4, max_context = 32, bos_id = 1, eos_id = 2, tokenizer = "tok.model">} {
  func.func @forward(%ids: tensor<?x?xi64>) -> tensor<?x?x16xf32> {
    %emb = llm.weight "emb" : tensor<16x8xf32> = dense<1.0> : tensor<16x8xf32>
    %x = llm.embedding %emb, %ids : (tensor<16x8xf32>, tensor<?x?xi64>) -> tensor<?x?x8xf32>
    %y = llm.rope %x {head_dim = 4 : i64, rotary_dim = 4 : i64, theta = 10000.0 : f64, style = #llm<rope_style rotate_half>} : tensor<?x?x8xf32>
    // The attention unit #llm.model counts as its one layer.
    %unit = llm.attention %x, %x, %x {num_heads = 2 : i64, num_kv_heads = 2 : i64, head_dim = 4 : i64, scale = 0.5 : f64, layer = 0 : i64} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
    %l = llm.logits %y, %emb {tied} : (tensor<?x?x8xf32>, tensor<16x8xf32>) -> tensor<?x?x16xf32>
    return %l : tensor<?x?x16xf32>
  }
}

// -----

// Interleaved RoPE pairs 2i with 2i + 1.
// CHECK-LABEL: func.func @ms_forward(
// CHECK:         math.sin
// CHECK:         %[[FIRST:.*]] = arith.muli %{{.*}}, %c2{{(_[0-9]+)?}} : index
// CHECK:         arith.addi %[[FIRST]], %c1{{(_[0-9]+)?}} : index
module attributes {llm.model = #llm.model<arch = "llama", vocab_size = 16, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 2, head_dim = 4, max_context = 32, bos_id = 1, eos_id = 2, tokenizer = "tok.model">} {
  func.func @forward(%ids: tensor<?x?xi64>) -> tensor<?x?x16xf32> {
    %emb = llm.weight "emb" : tensor<16x8xf32> = dense<1.0> : tensor<16x8xf32>
    %x = llm.embedding %emb, %ids : (tensor<16x8xf32>, tensor<?x?xi64>) -> tensor<?x?x8xf32>
    %y = llm.rope %x {head_dim = 4 : i64, rotary_dim = 4 : i64, theta = 10000.0 : f64, style = #llm<rope_style interleaved>} : tensor<?x?x8xf32>
    // The attention unit #llm.model counts as its one layer.
    %unit = llm.attention %x, %x, %x {num_heads = 2 : i64, num_kv_heads = 2 : i64, head_dim = 4 : i64, scale = 0.5 : f64, layer = 0 : i64} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
    %l = llm.logits %y, %emb {tied} : (tensor<?x?x8xf32>, tensor<16x8xf32>) -> tensor<?x?x16xf32>
    return %l : tensor<?x?x16xf32>
  }
}

// -----

// Attention: the layer's K and V caches are persistent globals of
// context x kv features; this call's keys and values go to rows pos ..
// pos + n - 1, then the kernel reads them with a scores scratch buffer of
// heads x context.
// CHECK:       memref.global "private" @ms_key_cache_0 : memref<128xf32> = uninitialized
// CHECK:       memref.global "private" @ms_value_cache_0 : memref<128xf32> = uninitialized
// CHECK-LABEL: func.func @ms_forward(
// CHECK-SAME:      %[[N64:[^:]*]]: i64, %[[POS64:[^:]*]]: i64, %[[ROWS64:[^:]*]]: i64)
// CHECK-NEXT:    %[[N:.*]] = arith.index_cast %[[N64]] : i64 to index
// CHECK-NEXT:    %[[POS:.*]] = arith.index_cast %[[POS64]] : i64 to index
// CHECK:         %[[X:.*]] = memref.alloc() : memref<32xf32>
// CHECK:         %[[K:.*]] = memref.alloc() : memref<16xf32>
// CHECK:         %[[V:.*]] = memref.alloc() : memref<16xf32>
// CHECK:         %[[OUT:.*]] = memref.alloc() : memref<32xf32>
// CHECK:         %[[KC:.*]] = memref.get_global @ms_key_cache_0 : memref<128xf32>
// CHECK:         %[[VC:.*]] = memref.get_global @ms_value_cache_0 : memref<128xf32>
// CHECK:         %[[BASE:.*]] = arith.muli %[[POS]], %c4{{(_[0-9]+)?}} : index
// CHECK:         scf.for %[[I:.*]] =
// CHECK:           %[[DST:.*]] = arith.addi %[[BASE]], %[[I]]
// CHECK:           %[[KV:.*]] = memref.load %[[K]][%[[I]]]
// CHECK:           memref.store %[[KV]], %[[KC]][%[[DST]]]
// CHECK:           %[[VV:.*]] = memref.load %[[V]][%[[I]]]
// CHECK:           memref.store %[[VV]], %[[VC]][%[[DST]]]
// CHECK:         %[[SCORES:.*]] = memref.alloc() : memref<64xf32>
// CHECK:         kernel.attention %[[X]], %[[KC]], %[[VC]] into %[[OUT]] scratch %[[SCORES]] rows %[[N]] position %[[POS]]
// CHECK-SAME:      {head_dim = 4 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, scale = 5.000000e-01 : f64}
// CONTEXT:     memref.global "private" @ms_key_cache_0 : memref<32xf32> = uninitialized
// CONTEXT:     memref.alloc() : memref<16xf32>
// CONTEXT:     kernel.attention
module attributes {llm.model = #llm.model<arch = "llama", vocab_size = 16, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 1, head_dim = 4, max_context = 32, bos_id = 1, eos_id = 2, tokenizer = "tok.model">} {
  func.func @forward(%ids: tensor<?x?xi64>) -> tensor<?x?x16xf32> {
    %emb = llm.weight "emb" : tensor<16x8xf32> = dense<1.0> : tensor<16x8xf32>
    %wk = llm.weight "wk" : tensor<4x8xf32> = dense<0.1> : tensor<4x8xf32>
    %wv = llm.weight "wv" : tensor<4x8xf32> = dense<0.2> : tensor<4x8xf32>
    %x = llm.embedding %emb, %ids : (tensor<16x8xf32>, tensor<?x?xi64>) -> tensor<?x?x8xf32>
    %k = llm.linear %x, %wk : (tensor<?x?x8xf32>, tensor<4x8xf32>) -> tensor<?x?x4xf32>
    %v = llm.linear %x, %wv : (tensor<?x?x8xf32>, tensor<4x8xf32>) -> tensor<?x?x4xf32>
    %a = llm.attention %x, %k, %v {num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 4 : i64, scale = 0.5 : f64, layer = 0 : i64} : (tensor<?x?x8xf32>, tensor<?x?x4xf32>, tensor<?x?x4xf32>) -> tensor<?x?x8xf32>
    %l = llm.logits %a, %emb {tied} : (tensor<?x?x8xf32>, tensor<16x8xf32>) -> tensor<?x?x16xf32>
    return %l : tensor<?x?x16xf32>
  }
}

// -----

// Gated MLP (SwiGLU): up and gate projections into scratch buffers of
// 4 x 12, silu(gate) * up in place, then the down projection.
// CHECK-LABEL: func.func @ms_forward(
// CHECK-SAME:      %[[N64:[^:]*]]: i64, %[[POS64:[^:]*]]: i64, %[[ROWS64:[^:]*]]: i64)
// CHECK-NEXT:    %[[N:.*]] = arith.index_cast %[[N64]] : i64 to index
// CHECK-NEXT:    %[[POS:.*]] = arith.index_cast %[[POS64]] : i64 to index
// CHECK:         %[[UPW:.*]] = memref.get_global @ms_w_1 : memref<96xf32>
// CHECK:         %[[GATEW:.*]] = memref.get_global @ms_w_2 : memref<96xf32>
// CHECK:         %[[DOWNW:.*]] = memref.get_global @ms_w_3 : memref<96xf32>
// CHECK:         %[[X:.*]] = memref.alloc() : memref<32xf32>
// CHECK:         %[[OUT:.*]] = memref.alloc() : memref<32xf32>
// CHECK:         %[[UP:.*]] = memref.alloc() : memref<48xf32>
// CHECK:         %[[GATE:.*]] = memref.alloc() : memref<48xf32>
// CHECK:         kernel.linear %[[X]], %[[UPW]] into %[[UP]] rows %[[N]] {in_features = 8 : i64, out_features = 12 : i64}
// CHECK:         kernel.linear %[[X]], %[[GATEW]] into %[[GATE]] rows %[[N]]
// CHECK:         scf.for %[[I:.*]] =
// CHECK:           %[[G:.*]] = memref.load %[[GATE]][%[[I]]]
// CHECK:           %[[NEG:.*]] = arith.negf %[[G]]
// CHECK:           math.exp %[[NEG]]
// CHECK:           %[[SILU:.*]] = arith.divf %[[G]]
// CHECK:           %[[U:.*]] = memref.load %[[UP]][%[[I]]]
// CHECK:           %[[PRODUCT:.*]] = arith.mulf %[[SILU]], %[[U]]
// CHECK:           memref.store %[[PRODUCT]], %[[UP]][%[[I]]]
// CHECK:         kernel.linear %[[UP]], %[[DOWNW]] into %[[OUT]] rows %[[N]] {in_features = 12 : i64, out_features = 8 : i64}
module attributes {llm.model = #llm.model<arch = "llama", vocab_size = 16, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 2, head_dim = 4, max_context = 32, bos_id = 1, eos_id = 2, tokenizer = "tok.model">} {
  func.func @forward(%ids: tensor<?x?xi64>) -> tensor<?x?x16xf32> {
    %emb = llm.weight "emb" : tensor<16x8xf32> = dense<1.0> : tensor<16x8xf32>
    %up = llm.weight "up" : tensor<12x8xf32> = dense<0.1> : tensor<12x8xf32>
    %gate = llm.weight "gate" : tensor<12x8xf32> = dense<0.3> : tensor<12x8xf32>
    %down = llm.weight "down" : tensor<8x12xf32> = dense<0.1> : tensor<8x12xf32>
    %x = llm.embedding %emb, %ids : (tensor<16x8xf32>, tensor<?x?xi64>) -> tensor<?x?x8xf32>
    %m = llm.mlp %x up %up gate %gate down %down {activation = #llm<activation silu>} : (tensor<?x?x8xf32>, tensor<12x8xf32>, tensor<12x8xf32>, tensor<8x12xf32>) -> tensor<?x?x8xf32>
    // The attention unit #llm.model counts as its one layer.
    %unit = llm.attention %x, %x, %x {num_heads = 2 : i64, num_kv_heads = 2 : i64, head_dim = 4 : i64, scale = 0.5 : f64, layer = 0 : i64} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
    %l = llm.logits %m, %emb {tied} : (tensor<?x?x8xf32>, tensor<16x8xf32>) -> tensor<?x?x16xf32>
    return %l : tensor<?x?x16xf32>
  }
}

// -----

// Plain MLP with biases and GELU (erf): one scratch buffer, act(up) in place.
// CHECK-LABEL: func.func @ms_forward(
// CHECK:         %[[UPB:.*]] = memref.get_global @ms_w_2 : memref<12xf32>
// CHECK:         %[[DOWNB:.*]] = memref.get_global @ms_w_4 : memref<8xf32>
// CHECK:         %[[UP:.*]] = memref.alloc() : memref<48xf32>
// CHECK-NOT:     memref.alloc
// CHECK:         kernel.linear %{{.*}}, %{{.*}} bias %[[UPB]] into %[[UP]]
// CHECK:         scf.for
// CHECK:           math.erf
// CHECK-NOT:       memref.load
// CHECK:           memref.store %{{.*}}, %[[UP]]
// CHECK:         kernel.linear %[[UP]], %{{.*}} bias %[[DOWNB]]
module attributes {llm.model = #llm.model<arch = "gpt2", vocab_size = 16, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 2, head_dim = 4, max_context = 32, bos_id = 1, eos_id = 2, tokenizer = "tok.model">} {
  func.func @forward(%ids: tensor<?x?xi64>) -> tensor<?x?x16xf32> {
    %emb = llm.weight "emb" : tensor<16x8xf32> = dense<1.0> : tensor<16x8xf32>
    %up = llm.weight "up" : tensor<12x8xf32> = dense<0.1> : tensor<12x8xf32>
    %up_bias = llm.weight "up_bias" : tensor<12xf32> = dense<0.1> : tensor<12xf32>
    %down = llm.weight "down" : tensor<8x12xf32> = dense<0.1> : tensor<8x12xf32>
    %down_bias = llm.weight "down_bias" : tensor<8xf32> = dense<0.1> : tensor<8xf32>
    %x = llm.embedding %emb, %ids : (tensor<16x8xf32>, tensor<?x?xi64>) -> tensor<?x?x8xf32>
    %m = llm.mlp %x up %up bias %up_bias down %down bias %down_bias {activation = #llm<activation gelu>} : (tensor<?x?x8xf32>, tensor<12x8xf32>, tensor<12xf32>, tensor<8x12xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
    // The attention unit #llm.model counts as its one layer.
    %unit = llm.attention %x, %x, %x {num_heads = 2 : i64, num_kv_heads = 2 : i64, head_dim = 4 : i64, scale = 0.5 : f64, layer = 0 : i64} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
    %l = llm.logits %m, %emb {tied} : (tensor<?x?x8xf32>, tensor<16x8xf32>) -> tensor<?x?x16xf32>
    return %l : tensor<?x?x16xf32>
  }
}

// -----

// GELU with the tanh approximation.
// CHECK-LABEL: func.func @ms_forward(
// CHECK:         scf.for
// CHECK:           math.tanh
// CHECK:         kernel.linear
module attributes {llm.model = #llm.model<arch = "gpt2", vocab_size = 16, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 2, head_dim = 4, max_context = 32, bos_id = 1, eos_id = 2, tokenizer = "tok.model">} {
  func.func @forward(%ids: tensor<?x?xi64>) -> tensor<?x?x16xf32> {
    %emb = llm.weight "emb" : tensor<16x8xf32> = dense<1.0> : tensor<16x8xf32>
    %up = llm.weight "up" : tensor<12x8xf32> = dense<0.1> : tensor<12x8xf32>
    %down = llm.weight "down" : tensor<8x12xf32> = dense<0.1> : tensor<8x12xf32>
    %x = llm.embedding %emb, %ids : (tensor<16x8xf32>, tensor<?x?xi64>) -> tensor<?x?x8xf32>
    %m = llm.mlp %x up %up down %down {activation = #llm<activation gelu_tanh>} : (tensor<?x?x8xf32>, tensor<12x8xf32>, tensor<8x12xf32>) -> tensor<?x?x8xf32>
    // The attention unit #llm.model counts as its one layer.
    %unit = llm.attention %x, %x, %x {num_heads = 2 : i64, num_kv_heads = 2 : i64, head_dim = 4 : i64, scale = 0.5 : f64, layer = 0 : i64} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
    %l = llm.logits %m, %emb {tied} : (tensor<?x?x8xf32>, tensor<16x8xf32>) -> tensor<?x?x16xf32>
    return %l : tensor<?x?x16xf32>
  }
}

// -----

// ReLU.
// CHECK-LABEL: func.func @ms_forward(
// CHECK:         scf.for
// CHECK:           %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK:           arith.maximumf %{{.*}}, %[[ZERO]] : f32
// CHECK:         kernel.linear
module attributes {llm.model = #llm.model<arch = "gpt2", vocab_size = 16, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 2, head_dim = 4, max_context = 32, bos_id = 1, eos_id = 2, tokenizer = "tok.model">} {
  func.func @forward(%ids: tensor<?x?xi64>) -> tensor<?x?x16xf32> {
    %emb = llm.weight "emb" : tensor<16x8xf32> = dense<1.0> : tensor<16x8xf32>
    %up = llm.weight "up" : tensor<12x8xf32> = dense<0.1> : tensor<12x8xf32>
    %down = llm.weight "down" : tensor<8x12xf32> = dense<0.1> : tensor<8x12xf32>
    %x = llm.embedding %emb, %ids : (tensor<16x8xf32>, tensor<?x?xi64>) -> tensor<?x?x8xf32>
    %m = llm.mlp %x up %up down %down {activation = #llm<activation relu>} : (tensor<?x?x8xf32>, tensor<12x8xf32>, tensor<8x12xf32>) -> tensor<?x?x8xf32>
    // The attention unit #llm.model counts as its one layer.
    %unit = llm.attention %x, %x, %x {num_heads = 2 : i64, num_kv_heads = 2 : i64, head_dim = 4 : i64, scale = 0.5 : f64, layer = 0 : i64} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
    %l = llm.logits %m, %emb {tied} : (tensor<?x?x8xf32>, tensor<16x8xf32>) -> tensor<?x?x16xf32>
    return %l : tensor<?x?x16xf32>
  }
}

// -----

// A quantized (int8, one scale per row) embedding table tied to the logits:
// one read-only global for the codes and one for the f16 scales, shared by
// both uses and counted once (128 + 32 bytes). The lookup dequantizes one
// row per token through the runtime kernel; the logits projection is a
// kernel.linear with the scales and the kernel-level encoding (the whole
// row is one group of 8).
// CHECK:       module attributes {{{.*}}ms.weight_bytes = 160 : i64}
// CHECK:       memref.global "private" constant @ms_w_0 : memref<128xi8> = dense_resource<emb_q> {alignment = 64 : i64}
// CHECK:       memref.global "private" constant @ms_w_0_scales : memref<16xf16> = dense_resource<emb_s> {alignment = 64 : i64}
// CHECK-NOT:   @ms_w_1
// CHECK-LABEL: func.func @ms_forward(
// CHECK-SAME:      %[[TOKENS:.*]]: memref<4xi32>, %[[N64:[^:]*]]: i64, %[[POS64:[^:]*]]: i64, %[[ROWS64:[^:]*]]: i64)
// CHECK-NEXT:    %[[N:.*]] = arith.index_cast %[[N64]] : i64 to index
// CHECK:         %[[CODES:.*]] = memref.get_global @ms_w_0 : memref<128xi8>
// CHECK:         %[[X:.*]] = memref.alloc() : memref<32xf32>
// CHECK:         %[[SCALES:.*]] = memref.get_global @ms_w_0_scales : memref<16xf16>
// CHECK:         scf.for %[[R:.*]] = %{{.*}} to %[[N]]
// CHECK:           %[[ID:.*]] = memref.load %[[TOKENS]][%[[R]]] : memref<4xi32>
// CHECK:           %[[ROW:.*]] = arith.index_cast %[[ID]] : i32 to index
// CHECK:           kernel.dequantize_row %[[CODES]], %[[SCALES]] row %[[ROW]] into %[[X]] row %[[R]] {in_features = 8 : i64, weight_encoding = #kernel.quant<bits = 8, group = 8>} : memref<128xi8>, memref<16xf16> into memref<32xf32>
// CHECK:         kernel.attention
// CHECK:         %[[L:.*]] = memref.alloc() : memref<64xf32>
// CHECK:         %[[LOGIT_SCALES:.*]] = memref.get_global @ms_w_0_scales : memref<16xf16>
// CHECK:         kernel.linear %[[X]] from_row %{{.*}}, %[[CODES]] scales %[[LOGIT_SCALES]] into %[[L]] rows %{{.*}} {in_features = 8 : i64, out_features = 16 : i64, weight_encoding = #kernel.quant<bits = 8, group = 8>} : memref<32xf32>, memref<128xi8>, memref<16xf16> into memref<64xf32>
// CHECK-NOT:     memref.load %[[CODES]]
module attributes {llm.model = #llm.model<arch = "llama", vocab_size = 16, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 2, head_dim = 4, max_context = 32, bos_id = 1, eos_id = 2, tokenizer = "tok.model">} {
  func.func @forward(%ids: tensor<?x?xi64>) -> tensor<?x?x16xf32> {
    %emb = llm.weight "emb" : tensor<16x8xf32, #llm.quant<bits = 8, symmetric = true, scale = f16>> = dense_resource<emb_q> : tensor<16x8xi8> scales dense_resource<emb_s> : tensor<16x1xf16>
    %x = llm.embedding %emb, %ids : (tensor<16x8xf32, #llm.quant<bits = 8, symmetric = true, scale = f16>>, tensor<?x?xi64>) -> tensor<?x?x8xf32>
    %unit = llm.attention %x, %x, %x {num_heads = 2 : i64, num_kv_heads = 2 : i64, head_dim = 4 : i64, scale = 0.5 : f64, layer = 0 : i64} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
    %l = llm.logits %x, %emb {tied} : (tensor<?x?x8xf32>, tensor<16x8xf32, #llm.quant<bits = 8, symmetric = true, scale = f16>>) -> tensor<?x?x16xf32>
    return %l : tensor<?x?x16xf32>
  }
}
{-#
  dialect_resources: {
    builtin: {
      emb_q: "0x0400000025303B46515C67727D88939EA9B4BFCAD5E0EBF6010C17222D38434E59646F7A85909BA6B1BCC7D2DDE8F3FE09141F2A35404B56616C77828D98A3AEB9C4CFDAE5F0FB06111C27323D48535E69747F8A95A0ABB6C1CCD7E2EDF8030E19242F3A45505B66717C87929DA8B3BEC9D4DFEAF5000B16212C37424D58636E79848F9A",
      emb_s: "0x020000001F211F25AE271F29662AAE2B7B2C1F2DC32D662E0A2FAE2F29307B30CD301F31"
    }
  }
#-}

// -----

// A 4-bit asymmetric projection (groups of 4) with a dense bias, and an
// 8-bit asymmetric untied logits weight with a bias: codes, scales and zero
// points each a global (4-bit zero points packed two to a byte); the
// storage bytes are counted (512 + 72 + 32 + 176 + 64).
// CHECK:       module attributes {{{.*}}ms.weight_bytes = 856 : i64}
// CHECK-DAG:   memref.global "private" constant @ms_w_1 : memref<32xi8> = dense_resource<w_q> {alignment = 64 : i64}
// CHECK-DAG:   memref.global "private" constant @ms_w_1_scales : memref<16xf16> = dense_resource<w_s> {alignment = 64 : i64}
// CHECK-DAG:   memref.global "private" constant @ms_w_1_zero_points : memref<8xi8> = dense_resource<w_z> {alignment = 64 : i64}
// CHECK-DAG:   memref.global "private" constant @ms_w_3 : memref<128xi8> = dense_resource<head_q> {alignment = 64 : i64}
// CHECK-DAG:   memref.global "private" constant @ms_w_3_scales : memref<16xf16> = dense_resource<head_s> {alignment = 64 : i64}
// CHECK-DAG:   memref.global "private" constant @ms_w_3_zero_points : memref<16xi8> = dense_resource<head_z> {alignment = 64 : i64}
// CHECK-LABEL: func.func @ms_forward(
// CHECK:         %[[W:.*]] = memref.get_global @ms_w_1 : memref<32xi8>
// CHECK:         %[[B:.*]] = memref.get_global @ms_w_2 : memref<8xf32>
// CHECK:         %[[HEAD:.*]] = memref.get_global @ms_w_3 : memref<128xi8>
// CHECK:         %[[HEAD_BIAS:.*]] = memref.get_global @ms_w_4 : memref<16xf32>
// CHECK:         %[[W_SCALES:.*]] = memref.get_global @ms_w_1_scales : memref<16xf16>
// CHECK:         %[[W_ZERO_POINTS:.*]] = memref.get_global @ms_w_1_zero_points : memref<8xi8>
// CHECK:         kernel.linear %{{.*}}, %[[W]] scales %[[W_SCALES]] zero_points %[[W_ZERO_POINTS]] bias %[[B]] into %{{.*}} {in_features = 8 : i64, out_features = 8 : i64, weight_encoding = #kernel.quant<bits = 4, group = 4>} : memref<32xf32>, memref<32xi8>, memref<16xf16>, memref<8xi8>, memref<8xf32> into memref<32xf32>
// CHECK:         kernel.attention
// CHECK:         %[[HEAD_SCALES:.*]] = memref.get_global @ms_w_3_scales : memref<16xf16>
// CHECK:         %[[HEAD_ZERO_POINTS:.*]] = memref.get_global @ms_w_3_zero_points : memref<16xi8>
// CHECK:         kernel.linear %{{.*}}, %[[HEAD]] scales %[[HEAD_SCALES]] zero_points %[[HEAD_ZERO_POINTS]] bias %[[HEAD_BIAS]] into %{{.*}} {in_features = 8 : i64, out_features = 16 : i64, weight_encoding = #kernel.quant<bits = 8, group = 8>} : memref<32xf32>, memref<128xi8>, memref<16xf16>, memref<16xi8>, memref<16xf32> into memref<64xf32>
module attributes {llm.model = #llm.model<arch = "llama", vocab_size = 16, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 2, head_dim = 4, max_context = 32, bos_id = 1, eos_id = 2, tokenizer = "tok.model">} {
  func.func @forward(%ids: tensor<?x?xi64>) -> tensor<?x?x16xf32> {
    %emb = llm.weight "emb" : tensor<16x8xf32> = dense<1.0> : tensor<16x8xf32>
    %w = llm.weight "w" : tensor<8x8xf32, #llm.quant<bits = 4, group = 4, symmetric = false, scale = f16>> = dense_resource<w_q> : tensor<8x4xi8> scales dense_resource<w_s> : tensor<8x2xf16> zero_points dense_resource<w_z> : tensor<8x1xi8>
    %b = llm.weight "b" : tensor<8xf32> = dense<0.2> : tensor<8xf32>
    %head = llm.weight "head" : tensor<16x8xf32, #llm.quant<bits = 8, symmetric = false, scale = f16>> = dense_resource<head_q> : tensor<16x8xi8> scales dense_resource<head_s> : tensor<16x1xf16> zero_points dense_resource<head_z> : tensor<16x1xi8>
    %head_bias = llm.weight "head_bias" : tensor<16xf32> = dense<0.4> : tensor<16xf32>
    %x0 = llm.embedding %emb, %ids : (tensor<16x8xf32>, tensor<?x?xi64>) -> tensor<?x?x8xf32>
    %x = llm.linear %x0, %w, %b : (tensor<?x?x8xf32>, tensor<8x8xf32, #llm.quant<bits = 4, group = 4, symmetric = false, scale = f16>>, tensor<8xf32>) -> tensor<?x?x8xf32>
    %unit = llm.attention %x, %x, %x {num_heads = 2 : i64, num_kv_heads = 2 : i64, head_dim = 4 : i64, scale = 0.5 : f64, layer = 0 : i64} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
    %l = llm.logits %x, %head, %head_bias : (tensor<?x?x8xf32>, tensor<16x8xf32, #llm.quant<bits = 8, symmetric = false, scale = f16>>, tensor<16xf32>) -> tensor<?x?x16xf32>
    return %l : tensor<?x?x16xf32>
  }
}
{-#
  dialect_resources: {
    builtin: {
      w_q: "0x040000004A55606B76818C97A2ADB8C3CED9E4EFFA05101B26313C47525D68737E89949F",
      w_s: "0x02000000662A662A662A662A662A662A662A662A662A662A662A662A662A662A662A662A",
      w_z: "0x040000008888888888888888",
      head_q: "0x040000006F7A85909BA6B1BCC7D2DDE8F3FE09141F2A35404B56616C77828D98A3AEB9C4CFDAE5F0FB06111C27323D48535E69747F8A95A0ABB6C1CCD7E2EDF8030E19242F3A45505B66717C87929DA8B3BEC9D4DFEAF5000B16212C37424D58636E79848F9AA5B0BBC6D1DCE7F2FD08131E29343F4A55606B76818C97A2ADB8C3CED9E4",
      head_s: "0x020000001F251F251F251F251F251F251F251F251F251F251F251F251F251F251F251F25",
      head_z: "0x0400000080808080808080808080808080808080"
    }
  }
#-}

// -----

// Bitmask sparse weights: an f32 projection keeping one value per row and
// an untied int8 logits weight keeping one code per row. Each is globals
// for its mask bytes (the weight's converted storage), kept values (or
// codes), row offsets and (codes) row scales, taken by kernel.linear with
// #kernel.sparse; the storage bytes are counted (512 + 8 + 32 + 36 + 16 +
// 16 + 68 + 32).
// CHECK:       module attributes {{{.*}}ms.weight_bytes = 720 : i64}
// CHECK-DAG:   memref.global "private" constant @ms_w_1_masks : memref<8xi8> = dense<1> {alignment = 64 : i64}
// CHECK-DAG:   memref.global "private" constant @ms_w_1_values : memref<8xf32> = dense<5.000000e-01> {alignment = 64 : i64}
// CHECK-DAG:   memref.global "private" constant @ms_w_1_offsets : memref<9xi32> = dense<[0, 1, 2, 3, 4, 5, 6, 7, 8]> {alignment = 64 : i64}
// CHECK-DAG:   memref.global "private" constant @ms_w_2_masks : memref<16xi8> = dense<2> {alignment = 64 : i64}
// CHECK-DAG:   memref.global "private" constant @ms_w_2_values : memref<16xi8> = dense<3> {alignment = 64 : i64}
// CHECK-DAG:   memref.global "private" constant @ms_w_2_scales : memref<16xf16> = dense<2.500000e-01> {alignment = 64 : i64}
// CHECK-LABEL: func.func @ms_forward(
// CHECK:         %[[W_MASKS:.*]] = memref.get_global @ms_w_1_masks : memref<8xi8>
// CHECK:         %[[HEAD_MASKS:.*]] = memref.get_global @ms_w_2_masks : memref<16xi8>
// CHECK:         %[[W:.*]] = memref.get_global @ms_w_1_values : memref<8xf32>
// CHECK:         %[[W_OFFSETS:.*]] = memref.get_global @ms_w_1_offsets : memref<9xi32>
// CHECK:         kernel.linear %{{.*}}, %[[W]] indices %[[W_MASKS]] offsets %[[W_OFFSETS]] into %{{.*}} {in_features = 8 : i64, out_features = 8 : i64, weight_encoding = #kernel.sparse} : memref<32xf32>, memref<8xf32>, memref<8xi8>, memref<9xi32> into memref<32xf32>
// CHECK:         %[[HEAD:.*]] = memref.get_global @ms_w_2_values : memref<16xi8>
// CHECK:         %[[HEAD_OFFSETS:.*]] = memref.get_global @ms_w_2_offsets : memref<17xi32>
// CHECK:         %[[HEAD_SCALES:.*]] = memref.get_global @ms_w_2_scales : memref<16xf16>
// CHECK:         kernel.linear %{{.*}}, %[[HEAD]] scales %[[HEAD_SCALES]] indices %[[HEAD_MASKS]] offsets %[[HEAD_OFFSETS]] into %{{.*}} {in_features = 8 : i64, out_features = 16 : i64, weight_encoding = #kernel.sparse} : memref<32xf32>, memref<16xi8>, memref<16xf16>, memref<16xi8>, memref<17xi32> into memref<64xf32>
module attributes {llm.model = #llm.model<arch = "llama", vocab_size = 16, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 2, head_dim = 4, max_context = 32, bos_id = 1, eos_id = 2, tokenizer = "tok.model">} {
  func.func @forward(%ids: tensor<?x?xi64>) -> tensor<?x?x16xf32> {
    %emb = llm.weight "emb" : tensor<16x8xf32> = dense<1.0> : tensor<16x8xf32>
    %w = llm.weight "w" : tensor<8x8xf32, #llm.sparse<pattern = "unstructured", format = bitmask>> = dense<0.5> : tensor<8xf32> indices dense<1> : tensor<8x1xi8> offsets dense<[0, 1, 2, 3, 4, 5, 6, 7, 8]> : tensor<9xi32>
    %head = llm.weight "head" : tensor<16x8xf32, #llm.sparse<pattern = "unstructured", format = bitmask, quant = #llm.quant<bits = 8, symmetric = true, scale = f16>>> = dense<3> : tensor<16xi8> scales dense<0.25> : tensor<16x1xf16> indices dense<2> : tensor<16x1xi8> offsets dense<[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]> : tensor<17xi32>
    %x0 = llm.embedding %emb, %ids : (tensor<16x8xf32>, tensor<?x?xi64>) -> tensor<?x?x8xf32>
    %x = llm.linear %x0, %w : (tensor<?x?x8xf32>, tensor<8x8xf32, #llm.sparse<pattern = "unstructured", format = bitmask>>) -> tensor<?x?x8xf32>
    %unit = llm.attention %x, %x, %x {num_heads = 2 : i64, num_kv_heads = 2 : i64, head_dim = 4 : i64, scale = 0.5 : f64, layer = 0 : i64} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
    %l = llm.logits %x, %head : (tensor<?x?x8xf32>, tensor<16x8xf32, #llm.sparse<pattern = "unstructured", format = bitmask, quant = #llm.quant<bits = 8, symmetric = true, scale = f16>>>) -> tensor<?x?x16xf32>
    return %l : tensor<?x?x16xf32>
  }
}

// -----

// A gated MLP with three quantized projections: 4-bit per row (group 0 is
// the row, 8 features), 8-bit in groups of 8, and a 3-bit down projection
// whose 12 inputs are a group of 8 plus a tail group of 4 (5 bytes a row).
// CHECK:       module attributes {{{.*}}ms.weight_bytes = 776 : i64}
// CHECK-DAG:   memref.global "private" constant @ms_w_1 : memref<48xi8> = dense_resource<up_q>
// CHECK-DAG:   memref.global "private" constant @ms_w_2 : memref<96xi8> = dense_resource<gate_q>
// CHECK-DAG:   memref.global "private" constant @ms_w_3 : memref<40xi8> = dense_resource<down_q>
// CHECK-DAG:   memref.global "private" constant @ms_w_3_scales : memref<16xf16> = dense_resource<down_s>
// CHECK-NOT:   zero_points
// CHECK-LABEL: func.func @ms_forward(
// CHECK:         %[[UPW:.*]] = memref.get_global @ms_w_1 : memref<48xi8>
// CHECK:         %[[GATEW:.*]] = memref.get_global @ms_w_2 : memref<96xi8>
// CHECK:         %[[DOWNW:.*]] = memref.get_global @ms_w_3 : memref<40xi8>
// CHECK:         %[[UP:.*]] = memref.alloc() : memref<48xf32>
// CHECK:         %[[UP_SCALES:.*]] = memref.get_global @ms_w_1_scales : memref<12xf16>
// CHECK:         kernel.linear %{{.*}}, %[[UPW]] scales %[[UP_SCALES]] into %[[UP]] rows %{{.*}} {in_features = 8 : i64, out_features = 12 : i64, weight_encoding = #kernel.quant<bits = 4, group = 8>}
// CHECK:         %[[GATE_SCALES:.*]] = memref.get_global @ms_w_2_scales : memref<12xf16>
// CHECK:         kernel.linear %{{.*}}, %[[GATEW]] scales %[[GATE_SCALES]] into %{{.*}} {in_features = 8 : i64, out_features = 12 : i64, weight_encoding = #kernel.quant<bits = 8, group = 8>}
// CHECK:         math.exp
// CHECK:         %[[DOWN_SCALES:.*]] = memref.get_global @ms_w_3_scales : memref<16xf16>
// CHECK:         kernel.linear %[[UP]], %[[DOWNW]] scales %[[DOWN_SCALES]] into %{{.*}} {in_features = 12 : i64, out_features = 8 : i64, weight_encoding = #kernel.quant<bits = 3, group = 8>} : memref<48xf32>, memref<40xi8>, memref<16xf16> into memref<32xf32>
module attributes {llm.model = #llm.model<arch = "llama", vocab_size = 16, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 2, head_dim = 4, max_context = 32, bos_id = 1, eos_id = 2, tokenizer = "tok.model">} {
  func.func @forward(%ids: tensor<?x?xi64>) -> tensor<?x?x16xf32> {
    %emb = llm.weight "emb" : tensor<16x8xf32> = dense<1.0> : tensor<16x8xf32>
    %up = llm.weight "up" : tensor<12x8xf32, #llm.quant<bits = 4, symmetric = true, scale = f16>> = dense_resource<up_q> : tensor<12x4xi8> scales dense_resource<up_s> : tensor<12x1xf16>
    %gate = llm.weight "gate" : tensor<12x8xf32, #llm.quant<bits = 8, group = 8, symmetric = true, scale = f16>> = dense_resource<gate_q> : tensor<12x8xi8> scales dense_resource<gate_s> : tensor<12x1xf16>
    %down = llm.weight "down" : tensor<8x12xf32, #llm.quant<bits = 3, group = 8, symmetric = true, scale = f16>> = dense_resource<down_q> : tensor<8x5xi8> scales dense_resource<down_s> : tensor<8x2xf16>
    %x = llm.embedding %emb, %ids : (tensor<16x8xf32>, tensor<?x?xi64>) -> tensor<?x?x8xf32>
    %m = llm.mlp %x up %up gate %gate down %down {activation = #llm<activation silu>} : (tensor<?x?x8xf32>, tensor<12x8xf32, #llm.quant<bits = 4, symmetric = true, scale = f16>>, tensor<12x8xf32, #llm.quant<bits = 8, group = 8, symmetric = true, scale = f16>>, tensor<8x12xf32, #llm.quant<bits = 3, group = 8, symmetric = true, scale = f16>>) -> tensor<?x?x8xf32>
    %unit = llm.attention %x, %x, %x {num_heads = 2 : i64, num_kv_heads = 2 : i64, head_dim = 4 : i64, scale = 0.5 : f64, layer = 0 : i64} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
    %l = llm.logits %m, %emb {tied} : (tensor<?x?x8xf32>, tensor<16x8xf32>) -> tensor<?x?x16xf32>
    return %l : tensor<?x?x16xf32>
  }
}
{-#
  dialect_resources: {
    builtin: {
      up_q: "0x04000000949FAAB5C0CBD6E1ECF7020D18232E39444F5A65707B86919CA7B2BDC8D3DEE9F4FF0A15202B36414C57626D78838E99",
      up_s: "0x02000000662E662E662E662E662E662E662E662E662E662E662E662E",
      gate_q: "0x04000000B9C4CFDAE5F0FB06111C27323D48535E69747F8A95A0ABB6C1CCD7E2EDF8030E19242F3A45505B66717C87929DA8B3BEC9D4DFEAF5000B16212C37424D58636E79848F9AA5B0BBC6D1DCE7F2FD08131E29343F4A55606B76818C97A2ADB8C3CE",
      gate_s: "0x020000001F211F211F211F211F211F211F211F211F211F211F211F21",
      down_q: "0x04000000DEE9F4FF0A15202B36414C57626D78838E99A4AFBAC5D0DBE6F1FC07121D28333E49545F6A75808B",
      down_s: "0x020000000034003400340034003400340034003400340034003400340034003400340034"
    }
  }
#-}
