// RUN: microscale-opt %s --split-input-file --convert-kernel-to-calls | FileCheck %s

// f32 kernel.linear calls ms_linear_f32 (kernels.def): buffers by aligned
// address, sizes as explicit i64; an absent bias is a null pointer.
// CHECK:       func.func private @ms_linear_f32(!llvm.ptr, i64, i64, !llvm.ptr, i64, !llvm.ptr, !llvm.ptr)
// CHECK-LABEL: func.func @linear(
// CHECK-SAME:      %[[X:[^:]*]]: memref<32xf32>, %[[W:[^:]*]]: memref<128xf32>, %[[B:[^:]*]]: memref<16xf32>, %[[Y:[^:]*]]: memref<64xf32>, %[[N:[^:]*]]: index)
// CHECK:         %[[X_ADDRESS:.*]] = memref.extract_aligned_pointer_as_index %[[X]]
// CHECK:         %[[X_ADDRESS64:.*]] = arith.index_cast %[[X_ADDRESS]] : index to i64
// CHECK:         %[[X_POINTER:.*]] = llvm.inttoptr %[[X_ADDRESS64]] : i64 to !llvm.ptr
// CHECK:         %[[ROWS:.*]] = arith.index_cast %[[N]] : index to i64
// CHECK:         %[[IN:.*]] = arith.constant 8 : i64
// CHECK:         memref.extract_aligned_pointer_as_index %[[W]]
// CHECK:         %[[W_POINTER:.*]] = llvm.inttoptr
// CHECK:         %[[OUT:.*]] = arith.constant 16 : i64
// CHECK:         %[[NULL:.*]] = llvm.mlir.zero : !llvm.ptr
// CHECK:         memref.extract_aligned_pointer_as_index %[[Y]]
// CHECK:         %[[Y_POINTER:.*]] = llvm.inttoptr
// CHECK:         call @ms_linear_f32(%[[X_POINTER]], %[[ROWS]], %[[IN]], %[[W_POINTER]], %[[OUT]], %[[NULL]], %[[Y_POINTER]])
// CHECK:         memref.extract_aligned_pointer_as_index %[[B]]
// CHECK:         call @ms_linear_f32
// CHECK-NOT:     kernel.
func.func @linear(%x: memref<32xf32>, %w: memref<128xf32>, %b: memref<16xf32>, %y: memref<64xf32>, %n: index) {
  kernel.linear %x, %w into %y rows %n {in_features = 8 : i64, out_features = 16 : i64} : memref<32xf32>, memref<128xf32> into memref<64xf32>
  kernel.linear %x, %w bias %b into %y rows %n {in_features = 8 : i64, out_features = 16 : i64} : memref<32xf32>, memref<128xf32>, memref<16xf32> into memref<64xf32>
  return
}

// -----

// f32 kernel.attention calls ms_attention_f32; the scale is an f32.
// CHECK:       func.func private @ms_attention_f32(!llvm.ptr, !llvm.ptr, !llvm.ptr, i64, i64, i64, i64, i64, f32, !llvm.ptr, !llvm.ptr)
// CHECK-LABEL: func.func @attention(
// CHECK-SAME:      %[[N:[^:]*]]: index, %[[POS:[^:]*]]: index)
// CHECK:         %[[ROWS:.*]] = arith.index_cast %[[N]] : index to i64
// CHECK:         %[[POSITION:.*]] = arith.index_cast %[[POS]] : index to i64
// CHECK:         %[[HEADS:.*]] = arith.constant 2 : i64
// CHECK:         %[[KV_HEADS:.*]] = arith.constant 1 : i64
// CHECK:         %[[HEAD_DIM:.*]] = arith.constant 4 : i64
// CHECK:         %[[SCALE:.*]] = arith.constant 5.000000e-01 : f32
// CHECK:         call @ms_attention_f32(%{{.*}}, %{{.*}}, %{{.*}}, %[[ROWS]], %[[POSITION]], %[[HEADS]], %[[KV_HEADS]], %[[HEAD_DIM]], %[[SCALE]], %{{.*}}, %{{.*}})
func.func @attention(%q: memref<32xf32>, %kc: memref<128xf32>, %vc: memref<128xf32>, %out: memref<32xf32>, %scratch: memref<64xf32>, %n: index, %pos: index) {
  kernel.attention %q, %kc, %vc into %out scratch %scratch rows %n position %pos {num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 4 : i64, scale = 0.5 : f64} : memref<32xf32>, memref<128xf32>, memref<128xf32> into memref<32xf32>, memref<64xf32>
  return
}
