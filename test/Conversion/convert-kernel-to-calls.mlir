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

// -----

// Quantized kernel.linear: the kernel for the code width (kernels.def's
// quant8, quant4), else the any-width kernel (quant) told `bits`. Scales and
// zero points are pointers (an absent zero_points, a symmetric weight, is
// null), the group size an i64, and scale_max 0 for half-float scales (an
// f32; logarithmic i8 scales pass their encoding's scale_max).
// CHECK-DAG:   func.func private @ms_linear_q8_f32(!llvm.ptr, i64, i64, !llvm.ptr, !llvm.ptr, f32, !llvm.ptr, i64, i64, !llvm.ptr, !llvm.ptr)
// CHECK-DAG:   func.func private @ms_linear_q4_f32(!llvm.ptr, i64, i64, !llvm.ptr, !llvm.ptr, f32, !llvm.ptr, i64, i64, !llvm.ptr, !llvm.ptr)
// CHECK-DAG:   func.func private @ms_linear_q_f32(!llvm.ptr, i64, i64, !llvm.ptr, !llvm.ptr, f32, !llvm.ptr, i64, i64, i64, !llvm.ptr, !llvm.ptr)
// CHECK-LABEL: func.func @quantized_linear(
// CHECK-SAME:      %[[X:[^:]*]]: memref<32xf32>, %[[Q8:[^:]*]]: memref<128xi8>, %[[Q4:[^:]*]]: memref<64xi8>, %[[Q3:[^:]*]]: memref<48xi8>, %[[S:[^:]*]]: memref<16xf16>, %[[S2:[^:]*]]: memref<32xf16>, %[[Z2:[^:]*]]: memref<16xi8>, %[[B:[^:]*]]: memref<16xf32>, %[[Y:[^:]*]]: memref<64xf32>, %[[N:[^:]*]]: index)
// CHECK:         %[[IN:.*]] = arith.constant 8 : i64
// CHECK:         memref.extract_aligned_pointer_as_index %[[Q8]]
// CHECK:         %[[Q8_POINTER:.*]] = llvm.inttoptr
// CHECK:         memref.extract_aligned_pointer_as_index %[[S]]
// CHECK:         %[[S_POINTER:.*]] = llvm.inttoptr
// CHECK:         %[[HALF_SCALES:.*]] = arith.constant 0.000000e+00 : f32
// CHECK:         %[[NO_ZERO_POINTS:.*]] = llvm.mlir.zero : !llvm.ptr
// CHECK:         %[[GROUP8:.*]] = arith.constant 8 : i64
// CHECK:         %[[OUT:.*]] = arith.constant 16 : i64
// CHECK:         %[[NO_BIAS:.*]] = llvm.mlir.zero : !llvm.ptr
// CHECK:         call @ms_linear_q8_f32(%{{.*}}, %{{.*}}, %[[IN]], %[[Q8_POINTER]], %[[S_POINTER]], %[[HALF_SCALES]], %[[NO_ZERO_POINTS]], %[[GROUP8]], %[[OUT]], %[[NO_BIAS]], %{{.*}})
// CHECK:         memref.extract_aligned_pointer_as_index %[[Q4]]
// CHECK:         memref.extract_aligned_pointer_as_index %[[S2]]
// CHECK:         memref.extract_aligned_pointer_as_index %[[Z2]]
// CHECK:         %[[Z2_POINTER:.*]] = llvm.inttoptr
// CHECK:         %[[GROUP4:.*]] = arith.constant 4 : i64
// CHECK:         memref.extract_aligned_pointer_as_index %[[B]]
// CHECK:         call @ms_linear_q4_f32(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[Z2_POINTER]], %[[GROUP4]], %{{.*}}, %{{.*}}, %{{.*}})
// CHECK:         memref.extract_aligned_pointer_as_index %[[Q3]]
// CHECK:         %[[BITS:.*]] = arith.constant 3 : i64
// CHECK:         %[[GROUP:.*]] = arith.constant 8 : i64
// CHECK:         call @ms_linear_q_f32(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[BITS]], %[[GROUP]], %{{.*}}, %{{.*}}, %{{.*}})
// CHECK-NOT:     kernel.
func.func @quantized_linear(%x: memref<32xf32>, %q8: memref<128xi8>, %q4: memref<64xi8>, %q3: memref<48xi8>, %s: memref<16xf16>, %s2: memref<32xf16>, %z2: memref<16xi8>, %b: memref<16xf32>, %y: memref<64xf32>, %n: index) {
  kernel.linear %x, %q8 scales %s into %y rows %n {in_features = 8 : i64, out_features = 16 : i64, weight_encoding = #kernel.quant<bits = 8, group = 8>} : memref<32xf32>, memref<128xi8>, memref<16xf16> into memref<64xf32>
  kernel.linear %x, %q4 scales %s2 zero_points %z2 bias %b into %y rows %n {in_features = 8 : i64, out_features = 16 : i64, weight_encoding = #kernel.quant<bits = 4, group = 4>} : memref<32xf32>, memref<64xi8>, memref<32xf16>, memref<16xi8>, memref<16xf32> into memref<64xf32>
  kernel.linear %x, %q3 scales %s into %y rows %n {in_features = 8 : i64, out_features = 16 : i64, weight_encoding = #kernel.quant<bits = 3, group = 8>} : memref<32xf32>, memref<48xi8>, memref<16xf16> into memref<64xf32>
  return
}

// -----

// Sparse kernel.linear: the f32 or the int8 kernel by the weight's element
// type, with the mask bytes, row offsets and (codes) scales as pointers.
// CHECK-DAG:   func.func private @ms_linear_sparse_f32(!llvm.ptr, i64, i64, !llvm.ptr, !llvm.ptr, !llvm.ptr, i64, !llvm.ptr, !llvm.ptr)
// CHECK-DAG:   func.func private @ms_linear_sparse_q8_f32(!llvm.ptr, i64, i64, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, i64, !llvm.ptr, !llvm.ptr)
// CHECK-LABEL: func.func @sparse_linear(
// CHECK-SAME:      %{{[^:]*}}: memref<40xf32>, %[[V:[^:]*]]: memref<50xf32>, %[[C:[^:]*]]: memref<50xi8>, %[[S:[^:]*]]: memref<16xf16>, %[[M:[^:]*]]: memref<32xi8>, %[[O:[^:]*]]: memref<17xi32>
// CHECK:         memref.extract_aligned_pointer_as_index %[[V]]
// CHECK:         memref.extract_aligned_pointer_as_index %[[M]]
// CHECK:         memref.extract_aligned_pointer_as_index %[[O]]
// CHECK:         call @ms_linear_sparse_f32(
// CHECK:         memref.extract_aligned_pointer_as_index %[[C]]
// CHECK:         memref.extract_aligned_pointer_as_index %[[M]]
// CHECK:         memref.extract_aligned_pointer_as_index %[[O]]
// CHECK:         memref.extract_aligned_pointer_as_index %[[S]]
// CHECK:         call @ms_linear_sparse_q8_f32(
// CHECK-NOT:     kernel.
func.func @sparse_linear(%x: memref<40xf32>, %v: memref<50xf32>, %c: memref<50xi8>, %s: memref<16xf16>, %m: memref<32xi8>, %o: memref<17xi32>, %y: memref<64xf32>, %n: index) {
  kernel.linear %x, %v indices %m offsets %o into %y rows %n {in_features = 10 : i64, out_features = 16 : i64, weight_encoding = #kernel.sparse} : memref<40xf32>, memref<50xf32>, memref<32xi8>, memref<17xi32> into memref<64xf32>
  kernel.linear %x, %c scales %s indices %m offsets %o into %y rows %n {in_features = 10 : i64, out_features = 16 : i64, weight_encoding = #kernel.sparse} : memref<40xf32>, memref<50xi8>, memref<16xf16>, memref<32xi8>, memref<17xi32> into memref<64xf32>
  return
}

// -----

// 8-bit activations: the `_a8` kernel of the width (else the any-width one),
// with the scratch buffer as its last pointer. A row lookup in the same
// table has no activations and keeps the plain kernel.
// CHECK-DAG:   func.func private @ms_linear_q4_a8_f32(!llvm.ptr, i64, i64, !llvm.ptr, !llvm.ptr, f32, !llvm.ptr, i64, i64, !llvm.ptr, !llvm.ptr, !llvm.ptr)
// CHECK-DAG:   func.func private @ms_linear_q_a8_f32(!llvm.ptr, i64, i64, !llvm.ptr, !llvm.ptr, f32, !llvm.ptr, i64, i64, i64, !llvm.ptr, !llvm.ptr, !llvm.ptr)
// CHECK-LABEL: func.func @int8_activations(
// CHECK-SAME:      %[[SCRATCH:[^:]*]]: memref<40xf32>
// CHECK:         memref.extract_aligned_pointer_as_index %[[SCRATCH]]
// CHECK:         %[[SCRATCH_POINTER:.*]] = llvm.inttoptr
// CHECK:         call @ms_linear_q4_a8_f32(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[SCRATCH_POINTER]])
// CHECK:         call @ms_linear_q_a8_f32(
// CHECK:         call @ms_dequantize_row_f32(
func.func @int8_activations(%x: memref<32xf32>, %q4: memref<64xi8>, %q3: memref<48xi8>, %s: memref<16xf16>, %y: memref<64xf32>, %scratch: memref<40xf32>, %n: index, %id: index) {
  kernel.linear %x, %q4 scales %s into %y scratch %scratch rows %n {in_features = 8 : i64, out_features = 16 : i64, weight_encoding = #kernel.quant<bits = 4, group = 8, activations = i8>} : memref<32xf32>, memref<64xi8>, memref<16xf16> into memref<64xf32>, memref<40xf32>
  kernel.linear %x, %q3 scales %s into %y scratch %scratch rows %n {in_features = 8 : i64, out_features = 16 : i64, weight_encoding = #kernel.quant<bits = 3, group = 8, activations = i8>} : memref<32xf32>, memref<48xi8>, memref<16xf16> into memref<64xf32>, memref<40xf32>
  kernel.dequantize_row %q4, %s row %id into %y row %n {in_features = 8 : i64, weight_encoding = #kernel.quant<bits = 4, group = 8, activations = i8>} : memref<64xi8>, memref<16xf16> into memref<64xf32>
  return
}

// -----

// kernel.dequantize_row (any width: kernels.def has no quant8 entry for it)
// writes row `output_row` of the output: the output's address plus
// output_row x 8 floats x 4 bytes.
// CHECK:       func.func private @ms_dequantize_row_f32(!llvm.ptr, !llvm.ptr, f32, !llvm.ptr, i64, i64, i64, i64, !llvm.ptr)
// CHECK-LABEL: func.func @dequantize_row(
// CHECK-SAME:      %[[Q:[^:]*]]: memref<128xi8>, %[[S:[^:]*]]: memref<32xf16>, %[[Z:[^:]*]]: memref<32xi8>, %[[OUT:[^:]*]]: memref<32xf32>, %[[ID:[^:]*]]: index, %[[R:[^:]*]]: index)
// CHECK:         memref.extract_aligned_pointer_as_index %[[Q]]
// CHECK:         %[[Q_POINTER:.*]] = llvm.inttoptr
// CHECK:         memref.extract_aligned_pointer_as_index %[[S]]
// CHECK:         %[[S_POINTER:.*]] = llvm.inttoptr
// CHECK:         memref.extract_aligned_pointer_as_index %[[Z]]
// CHECK:         %[[Z_POINTER:.*]] = llvm.inttoptr
// CHECK:         %[[BITS:.*]] = arith.constant 8 : i64
// CHECK:         %[[GROUP:.*]] = arith.constant 4 : i64
// CHECK:         %[[IN:.*]] = arith.constant 8 : i64
// CHECK:         %[[ROW:.*]] = arith.index_cast %[[ID]] : index to i64
// CHECK:         %[[BASE:.*]] = memref.extract_aligned_pointer_as_index %[[OUT]]
// CHECK:         %[[ROW_BYTES:.*]] = arith.constant 32 : index
// CHECK:         %[[OFFSET:.*]] = arith.muli %[[R]], %[[ROW_BYTES]] : index
// CHECK:         %[[ADDRESS:.*]] = arith.addi %[[BASE]], %[[OFFSET]] : index
// CHECK:         %[[ADDRESS64:.*]] = arith.index_cast %[[ADDRESS]] : index to i64
// CHECK:         %[[Y_POINTER:.*]] = llvm.inttoptr %[[ADDRESS64]] : i64 to !llvm.ptr
// CHECK:         call @ms_dequantize_row_f32(%[[Q_POINTER]], %[[S_POINTER]], %{{.*}}, %[[Z_POINTER]], %[[BITS]], %[[GROUP]], %[[IN]], %[[ROW]], %[[Y_POINTER]])
func.func @dequantize_row(%q: memref<128xi8>, %s: memref<32xf16>, %z: memref<32xi8>, %out: memref<32xf32>, %id: index, %r: index) {
  kernel.dequantize_row %q, %s zero_points %z row %id into %out row %r {in_features = 8 : i64, weight_encoding = #kernel.quant<bits = 8, group = 4>} : memref<128xi8>, memref<32xf16>, memref<32xi8> into memref<32xf32>
  return
}

// -----

// kernel.linear reading its input from row `from_row`: the input's address
// plus from_row x 8 floats x 4 bytes.
// CHECK-LABEL: func.func @linear_from_row(
// CHECK-SAME:      %[[X:[^:]*]]: memref<32xf32>, %[[W:[^:]*]]: memref<128xf32>, %[[Y:[^:]*]]: memref<64xf32>, %[[N:[^:]*]]: index, %[[FIRST:[^:]*]]: index)
// CHECK:         %[[BASE:.*]] = memref.extract_aligned_pointer_as_index %[[X]]
// CHECK:         %[[ROW_BYTES:.*]] = arith.constant 32 : index
// CHECK:         %[[OFFSET:.*]] = arith.muli %[[FIRST]], %[[ROW_BYTES]] : index
// CHECK:         %[[ADDRESS:.*]] = arith.addi %[[BASE]], %[[OFFSET]] : index
// CHECK:         %[[ADDRESS64:.*]] = arith.index_cast %[[ADDRESS]] : index to i64
// CHECK:         %[[X_POINTER:.*]] = llvm.inttoptr %[[ADDRESS64]] : i64 to !llvm.ptr
// CHECK:         call @ms_linear_f32(%[[X_POINTER]],
func.func @linear_from_row(%x: memref<32xf32>, %w: memref<128xf32>, %y: memref<64xf32>, %n: index, %first: index) {
  kernel.linear %x from_row %first, %w into %y rows %n {in_features = 8 : i64, out_features = 16 : i64} : memref<32xf32>, memref<128xf32> into memref<64xf32>
  return
}
