// RUN: microscale-opt %s | microscale-opt | FileCheck %s

// CHECK-LABEL: func.func @linear
// CHECK:         kernel.linear %arg0, %arg1 into %arg3 rows %arg4 {in_features = 8 : i64, out_features = 16 : i64} : memref<32xf32>, memref<128xf32> into memref<64xf32>
// CHECK:         kernel.linear %arg0, %arg1 bias %arg2 into %arg3 rows %arg4 {in_features = 8 : i64, out_features = 16 : i64} : memref<32xf32>, memref<128xf32>, memref<16xf32> into memref<64xf32>
// CHECK:         kernel.linear %arg0 from_row %arg5, %arg1 into %arg3 rows %arg4 {in_features = 8 : i64, out_features = 16 : i64} : memref<32xf32>, memref<128xf32> into memref<64xf32>
func.func @linear(%x: memref<32xf32>, %w: memref<128xf32>, %b: memref<16xf32>, %y: memref<64xf32>, %n: index, %first: index) {
  kernel.linear %x, %w into %y rows %n {in_features = 8 : i64, out_features = 16 : i64} : memref<32xf32>, memref<128xf32> into memref<64xf32>
  kernel.linear %x, %w bias %b into %y rows %n {in_features = 8 : i64, out_features = 16 : i64} : memref<32xf32>, memref<128xf32>, memref<16xf32> into memref<64xf32>
  kernel.linear %x from_row %first, %w into %y rows %n {in_features = 8 : i64, out_features = 16 : i64} : memref<32xf32>, memref<128xf32> into memref<64xf32>
  return
}

// An encoded weight keeps its encoding; its storage size is the encoding's
// business.
// CHECK-LABEL: func.func @encoded_linear
// CHECK:         kernel.linear %arg0, %arg1 into %arg2 rows %arg3 {in_features = 8 : i64, out_features = 16 : i64, weight_encoding = "int4"} : memref<32xf32>, memref<64xi8> into memref<64xf32>
func.func @encoded_linear(%x: memref<32xf32>, %w: memref<64xi8>, %y: memref<64xf32>, %n: index) {
  kernel.linear %x, %w into %y rows %n {in_features = 8 : i64, out_features = 16 : i64, weight_encoding = "int4"} : memref<32xf32>, memref<64xi8> into memref<64xf32>
  return
}

// A #kernel.quant weight: packed codes, f16 scales, optional zero points;
// the optional buffers' types follow in operand order.
// CHECK-LABEL: func.func @quantized_linear
// CHECK:         kernel.linear %arg0, %arg1 scales %arg2 into %arg5 rows %arg6 {in_features = 8 : i64, out_features = 16 : i64, weight_encoding = #kernel.quant<bits = 4, group = 8>} : memref<32xf32>, memref<64xi8>, memref<16xf16> into memref<64xf32>
// CHECK:         kernel.linear %arg0, %arg1 scales %arg2 zero_points %arg3 bias %arg4 into %arg5 rows %arg6 {in_features = 8 : i64, out_features = 16 : i64, weight_encoding = #kernel.quant<bits = 4, group = 8>} : memref<32xf32>, memref<64xi8>, memref<16xf16>, memref<16xi8>, memref<16xf32> into memref<64xf32>
// CHECK:         kernel.linear %arg0, %arg1 scales %arg2 bias %arg4 into %arg5 rows %arg6 {in_features = 8 : i64, out_features = 16 : i64, weight_encoding = #kernel.quant<bits = 4, group = 8>} : memref<32xf32>, memref<64xi8>, memref<16xf16>, memref<16xf32> into memref<64xf32>
func.func @quantized_linear(%x: memref<32xf32>, %w: memref<64xi8>, %s: memref<16xf16>, %z: memref<16xi8>, %b: memref<16xf32>, %y: memref<64xf32>, %n: index) {
  kernel.linear %x, %w scales %s into %y rows %n {in_features = 8 : i64, out_features = 16 : i64, weight_encoding = #kernel.quant<bits = 4, group = 8>} : memref<32xf32>, memref<64xi8>, memref<16xf16> into memref<64xf32>
  kernel.linear %x, %w scales %s zero_points %z bias %b into %y rows %n {in_features = 8 : i64, out_features = 16 : i64, weight_encoding = #kernel.quant<bits = 4, group = 8>} : memref<32xf32>, memref<64xi8>, memref<16xf16>, memref<16xi8>, memref<16xf32> into memref<64xf32>
  kernel.linear %x, %w scales %s bias %b into %y rows %n {in_features = 8 : i64, out_features = 16 : i64, weight_encoding = #kernel.quant<bits = 4, group = 8>} : memref<32xf32>, memref<64xi8>, memref<16xf16>, memref<16xf32> into memref<64xf32>
  return
}

// A #kernel.sparse weight: kept values (f32) or codes (i8, with a scale
// per row), mask bytes and row offsets; 16 rows of 10 inputs take 2 mask
// bytes each.
// CHECK-LABEL: func.func @sparse_linear
// CHECK:         kernel.linear %arg0, %arg1 indices %arg4 offsets %arg5 into %arg7 rows %arg8 {in_features = 10 : i64, out_features = 16 : i64, weight_encoding = #kernel.sparse} : memref<40xf32>, memref<50xf32>, memref<32xi8>, memref<17xi32> into memref<64xf32>
// CHECK:         kernel.linear %arg0, %arg2 scales %arg3 indices %arg4 offsets %arg5 bias %arg6 into %arg7 rows %arg8 {in_features = 10 : i64, out_features = 16 : i64, weight_encoding = #kernel.sparse} : memref<40xf32>, memref<50xi8>, memref<16xf16>, memref<32xi8>, memref<17xi32>, memref<16xf32> into memref<64xf32>
func.func @sparse_linear(%x: memref<40xf32>, %v: memref<50xf32>, %c: memref<50xi8>, %s: memref<16xf16>, %m: memref<32xi8>, %o: memref<17xi32>, %b: memref<16xf32>, %y: memref<64xf32>, %n: index) {
  kernel.linear %x, %v indices %m offsets %o into %y rows %n {in_features = 10 : i64, out_features = 16 : i64, weight_encoding = #kernel.sparse} : memref<40xf32>, memref<50xf32>, memref<32xi8>, memref<17xi32> into memref<64xf32>
  kernel.linear %x, %c scales %s indices %m offsets %o bias %b into %y rows %n {in_features = 10 : i64, out_features = 16 : i64, weight_encoding = #kernel.sparse} : memref<40xf32>, memref<50xi8>, memref<16xf16>, memref<32xi8>, memref<17xi32>, memref<16xf32> into memref<64xf32>
  return
}

// A 16 x 12 table of 3-bit codes (5 bytes a row) in groups of 8 and a tail
// group of 4.
// CHECK-LABEL: func.func @dequantize_row
// CHECK:         kernel.dequantize_row %arg0, %arg1 row %arg3 into %arg4 row %arg5 {in_features = 12 : i64, weight_encoding = #kernel.quant<bits = 3, group = 8>} : memref<80xi8>, memref<32xf16> into memref<48xf32>
// CHECK:         kernel.dequantize_row %arg0, %arg1 zero_points %arg2 row %arg3 into %arg4 row %arg5 {in_features = 12 : i64, weight_encoding = #kernel.quant<bits = 3, group = 8>} : memref<80xi8>, memref<32xf16>, memref<16xi8> into memref<48xf32>
func.func @dequantize_row(%w: memref<80xi8>, %s: memref<32xf16>, %z: memref<16xi8>, %id: index, %out: memref<48xf32>, %r: index) {
  kernel.dequantize_row %w, %s row %id into %out row %r {in_features = 12 : i64, weight_encoding = #kernel.quant<bits = 3, group = 8>} : memref<80xi8>, memref<32xf16> into memref<48xf32>
  kernel.dequantize_row %w, %s zero_points %z row %id into %out row %r {in_features = 12 : i64, weight_encoding = #kernel.quant<bits = 3, group = 8>} : memref<80xi8>, memref<32xf16>, memref<16xi8> into memref<48xf32>
  return
}

// CHECK-LABEL: func.func @attention
// CHECK:         kernel.attention %arg0, %arg1, %arg2 into %arg3 scratch %arg4 rows %arg5 position %arg6 {head_dim = 4 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, scale = 5.000000e-01 : f64} : memref<32xf32>, memref<128xf32>, memref<128xf32> into memref<32xf32>, memref<64xf32>
func.func @attention(%q: memref<32xf32>, %kc: memref<128xf32>, %vc: memref<128xf32>, %out: memref<32xf32>, %scratch: memref<64xf32>, %n: index, %pos: index) {
  kernel.attention %q, %kc, %vc into %out scratch %scratch rows %n position %pos {num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 4 : i64, scale = 0.5 : f64} : memref<32xf32>, memref<128xf32>, memref<128xf32> into memref<32xf32>, memref<64xf32>
  return
}

// -----

// 8-bit activations: the kernel quantizes the input into `scratch`, 10
// floats per 32-feature block per row (4 rows of one block here).
// CHECK-LABEL: func.func @int8_activations
// CHECK:         kernel.linear %arg0, %arg1 scales %arg2 into %arg3 scratch %arg4 rows %arg5 {in_features = 8 : i64, out_features = 16 : i64, weight_encoding = #kernel.quant<bits = 4, group = 8, activations = i8>} : memref<32xf32>, memref<64xi8>, memref<16xf16> into memref<64xf32>, memref<40xf32>
func.func @int8_activations(%x: memref<32xf32>, %w: memref<64xi8>, %s: memref<16xf16>, %y: memref<64xf32>, %scratch: memref<40xf32>, %n: index) {
  kernel.linear %x, %w scales %s into %y scratch %scratch rows %n {in_features = 8 : i64, out_features = 16 : i64, weight_encoding = #kernel.quant<bits = 4, group = 8, activations = i8>} : memref<32xf32>, memref<64xi8>, memref<16xf16> into memref<64xf32>, memref<40xf32>
  return
}
