// RUN: microscale-opt %s --split-input-file --verify-diagnostics --convert-kernel-to-calls

// An op no kernels.def entry matches is an error naming what is missing.

func.func @f16_linear(%x: memref<32xf16>, %w: memref<128xf16>, %y: memref<64xf16>, %n: index) {
  // expected-error @below {{no runtime kernel for kernel.linear with element type f16, weight type f16 and weight encoding dense}}
  kernel.linear %x, %w into %y rows %n {in_features = 8 : i64, out_features = 16 : i64} : memref<32xf16>, memref<128xf16> into memref<64xf16>
  return
}

// -----

func.func @encoded_linear(%x: memref<32xf32>, %w: memref<64xi8>, %y: memref<64xf32>, %n: index) {
  // expected-error @below {{no runtime kernel for kernel.linear with element type f32, weight type i8 and weight encoding builtin.string}}
  kernel.linear %x, %w into %y rows %n {in_features = 8 : i64, out_features = 16 : i64, weight_encoding = "int4"} : memref<32xf32>, memref<64xi8> into memref<64xf32>
  return
}

// -----

// A quantized weight names both encodings it looked for.
func.func @f16_quantized_linear(%x: memref<32xf16>, %w: memref<64xi8>, %s: memref<16xf16>, %y: memref<64xf16>, %n: index) {
  // expected-error @below {{no runtime kernel for kernel.linear with element type f16, weight type i8 and weight encoding quant4 or quant}}
  kernel.linear %x, %w scales %s into %y rows %n {in_features = 8 : i64, out_features = 16 : i64, weight_encoding = #kernel.quant<bits = 4, group = 8>} : memref<32xf16>, memref<64xi8>, memref<16xf16> into memref<64xf16>
  return
}
