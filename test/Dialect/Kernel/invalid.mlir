// RUN: microscale-opt %s --split-input-file --verify-diagnostics

func.func @linear_zero_features(%x: memref<32xf32>, %w: memref<128xf32>, %y: memref<64xf32>, %n: index) {
  // expected-error @below {{in_features and out_features must be positive}}
  kernel.linear %x, %w into %y rows %n {in_features = 0 : i64, out_features = 16 : i64} : memref<32xf32>, memref<128xf32> into memref<64xf32>
  return
}

// -----

func.func @linear_partial_row(%x: memref<30xf32>, %w: memref<128xf32>, %y: memref<64xf32>, %n: index) {
  // expected-error @below {{input holds 30 values, not a whole number of rows of 8}}
  kernel.linear %x, %w into %y rows %n {in_features = 8 : i64, out_features = 16 : i64} : memref<30xf32>, memref<128xf32> into memref<64xf32>
  return
}

// -----

func.func @linear_row_mismatch(%x: memref<32xf32>, %w: memref<128xf32>, %y: memref<32xf32>, %n: index) {
  // expected-error @below {{input has room for 4 rows but output for 2}}
  kernel.linear %x, %w into %y rows %n {in_features = 8 : i64, out_features = 16 : i64} : memref<32xf32>, memref<128xf32> into memref<32xf32>
  return
}

// -----

func.func @linear_weight_size(%x: memref<32xf32>, %w: memref<120xf32>, %y: memref<64xf32>, %n: index) {
  // expected-error @below {{dense weight holds 120 values, expected 16 x 8}}
  kernel.linear %x, %w into %y rows %n {in_features = 8 : i64, out_features = 16 : i64} : memref<32xf32>, memref<120xf32> into memref<64xf32>
  return
}

// -----

func.func @linear_bias_size(%x: memref<32xf32>, %w: memref<128xf32>, %b: memref<8xf32>, %y: memref<64xf32>, %n: index) {
  // expected-error @below {{bias holds 8 values, expected 16}}
  kernel.linear %x, %w bias %b into %y rows %n {in_features = 8 : i64, out_features = 16 : i64} : memref<32xf32>, memref<128xf32>, memref<8xf32> into memref<64xf32>
  return
}

// -----

func.func @linear_dynamic(%x: memref<?xf32>, %w: memref<128xf32>, %y: memref<64xf32>, %n: index) {
  // expected-error @below {{operand #0 must be statically shaped memref of any type values}}
  kernel.linear %x, %w into %y rows %n {in_features = 8 : i64, out_features = 16 : i64} : memref<?xf32>, memref<128xf32> into memref<64xf32>
  return
}

// -----

func.func @attention_heads(%q: memref<24xf32>, %kc: memref<128xf32>, %vc: memref<128xf32>, %out: memref<24xf32>, %s: memref<96xf32>, %n: index, %pos: index) {
  // expected-error @below {{num_heads (3) must be a multiple of num_kv_heads (2)}}
  kernel.attention %q, %kc, %vc into %out scratch %s rows %n position %pos {num_heads = 3 : i64, num_kv_heads = 2 : i64, head_dim = 2 : i64, scale = 0.5 : f64} : memref<24xf32>, memref<128xf32>, memref<128xf32> into memref<24xf32>, memref<96xf32>
  return
}

// -----

func.func @attention_output(%q: memref<32xf32>, %kc: memref<128xf32>, %vc: memref<128xf32>, %out: memref<16xf32>, %s: memref<64xf32>, %n: index, %pos: index) {
  // expected-error @below {{output must have the query's type}}
  kernel.attention %q, %kc, %vc into %out scratch %s rows %n position %pos {num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 4 : i64, scale = 0.5 : f64} : memref<32xf32>, memref<128xf32>, memref<128xf32> into memref<16xf32>, memref<64xf32>
  return
}

// -----

func.func @attention_caches(%q: memref<32xf32>, %kc: memref<128xf32>, %vc: memref<64xf32>, %out: memref<32xf32>, %s: memref<64xf32>, %n: index, %pos: index) {
  // expected-error @below {{key and value caches must have the same type}}
  kernel.attention %q, %kc, %vc into %out scratch %s rows %n position %pos {num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 4 : i64, scale = 0.5 : f64} : memref<32xf32>, memref<128xf32>, memref<64xf32> into memref<32xf32>, memref<64xf32>
  return
}

// -----

func.func @attention_cache_rows(%q: memref<32xf32>, %kc: memref<126xf32>, %vc: memref<126xf32>, %out: memref<32xf32>, %s: memref<64xf32>, %n: index, %pos: index) {
  // expected-error @below {{key cache holds 126 values, not a whole number of rows of 4}}
  kernel.attention %q, %kc, %vc into %out scratch %s rows %n position %pos {num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 4 : i64, scale = 0.5 : f64} : memref<32xf32>, memref<126xf32>, memref<126xf32> into memref<32xf32>, memref<64xf32>
  return
}

// -----

func.func @attention_scratch(%q: memref<32xf32>, %kc: memref<128xf32>, %vc: memref<128xf32>, %out: memref<32xf32>, %s: memref<63xf32>, %n: index, %pos: index) {
  // expected-error @below {{scratch holds 63 values, fewer than num_heads x context = 64}}
  kernel.attention %q, %kc, %vc into %out scratch %s rows %n position %pos {num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 4 : i64, scale = 0.5 : f64} : memref<32xf32>, memref<128xf32>, memref<128xf32> into memref<32xf32>, memref<63xf32>
  return
}

// -----

func.func @quant_bits(%x: memref<32xf32>, %w: memref<64xi8>, %s: memref<16xf16>, %y: memref<64xf32>, %n: index) {
  // expected-error @below {{#kernel.quant bits must be in [2, 8], got 9}}
  kernel.linear %x, %w scales %s into %y rows %n {in_features = 8 : i64, out_features = 16 : i64, weight_encoding = #kernel.quant<bits = 9, group = 8>} : memref<32xf32>, memref<64xi8>, memref<16xf16> into memref<64xf32>
  return
}

// -----

func.func @quant_group(%x: memref<32xf32>, %w: memref<64xi8>, %s: memref<16xf16>, %y: memref<64xf32>, %n: index) {
  // expected-error @below {{#kernel.quant group must be positive, got 0}}
  kernel.linear %x, %w scales %s into %y rows %n {in_features = 8 : i64, out_features = 16 : i64, weight_encoding = #kernel.quant<bits = 4, group = 0>} : memref<32xf32>, memref<64xi8>, memref<16xf16> into memref<64xf32>
  return
}

// -----

func.func @quant_codes_size(%x: memref<32xf32>, %w: memref<128xi8>, %s: memref<16xf16>, %y: memref<64xf32>, %n: index) {
  // expected-error @below {{quantized weight holds 128 bytes, expected 64 (16 rows of 4)}}
  kernel.linear %x, %w scales %s into %y rows %n {in_features = 8 : i64, out_features = 16 : i64, weight_encoding = #kernel.quant<bits = 4, group = 8>} : memref<32xf32>, memref<128xi8>, memref<16xf16> into memref<64xf32>
  return
}

// -----

func.func @quant_codes_type(%x: memref<32xf32>, %w: memref<64xi16>, %s: memref<16xf16>, %y: memref<64xf32>, %n: index) {
  // expected-error @below {{a #kernel.quant weight holds i8 codes, got 'memref<64xi16>'}}
  kernel.linear %x, %w scales %s into %y rows %n {in_features = 8 : i64, out_features = 16 : i64, weight_encoding = #kernel.quant<bits = 4, group = 8>} : memref<32xf32>, memref<64xi16>, memref<16xf16> into memref<64xf32>
  return
}

// -----

// Groups of 3 over 8 features: 3 per row, the last one of 2.
func.func @quant_scales_size(%x: memref<32xf32>, %w: memref<64xi8>, %s: memref<32xf16>, %y: memref<64xf32>, %n: index) {
  // expected-error @below {{scales hold 32 values, expected 48}}
  kernel.linear %x, %w scales %s into %y rows %n {in_features = 8 : i64, out_features = 16 : i64, weight_encoding = #kernel.quant<bits = 4, group = 3>} : memref<32xf32>, memref<64xi8>, memref<32xf16> into memref<64xf32>
  return
}

// -----

func.func @quant_zero_points_size(%x: memref<32xf32>, %w: memref<64xi8>, %s: memref<16xf16>, %z: memref<32xi8>, %y: memref<64xf32>, %n: index) {
  // expected-error @below {{zero_points hold 32 bytes, expected 16}}
  kernel.linear %x, %w scales %s zero_points %z into %y rows %n {in_features = 8 : i64, out_features = 16 : i64, weight_encoding = #kernel.quant<bits = 4, group = 8>} : memref<32xf32>, memref<64xi8>, memref<16xf16>, memref<32xi8> into memref<64xf32>
  return
}

// -----

func.func @quant_without_scales(%x: memref<32xf32>, %w: memref<64xi8>, %y: memref<64xf32>, %n: index) {
  // expected-error @below {{a #kernel.quant weight needs scales}}
  kernel.linear %x, %w into %y rows %n {in_features = 8 : i64, out_features = 16 : i64, weight_encoding = #kernel.quant<bits = 4, group = 8>} : memref<32xf32>, memref<64xi8> into memref<64xf32>
  return
}

// -----

func.func @scales_without_quant(%x: memref<32xf32>, %w: memref<128xf32>, %s: memref<16xf16>, %y: memref<64xf32>, %n: index) {
  // expected-error @below {{scales and zero_points are the storage of a #kernel.quant weight}}
  kernel.linear %x, %w scales %s into %y rows %n {in_features = 8 : i64, out_features = 16 : i64} : memref<32xf32>, memref<128xf32>, memref<16xf16> into memref<64xf32>
  return
}

// -----

func.func @f32_scales(%x: memref<32xf32>, %w: memref<64xi8>, %s: memref<16xf32>, %y: memref<64xf32>, %n: index) {
  // expected-error @below {{operand #2 must be statically shaped memref of 16-bit float or 8-bit signless integer values}}
  kernel.linear %x, %w scales %s into %y rows %n {in_features = 8 : i64, out_features = 16 : i64, weight_encoding = #kernel.quant<bits = 4, group = 8>} : memref<32xf32>, memref<64xi8>, memref<16xf32> into memref<64xf32>
  return
}

// -----

func.func @dequantize_partial_table(%w: memref<78xi8>, %s: memref<32xf16>, %id: index, %out: memref<48xf32>, %r: index) {
  // expected-error @below {{quantized weight holds 78 values, not a whole number of rows of 5}}
  kernel.dequantize_row %w, %s row %id into %out row %r {in_features = 12 : i64, weight_encoding = #kernel.quant<bits = 3, group = 8>} : memref<78xi8>, memref<32xf16> into memref<48xf32>
  return
}

// -----

func.func @dequantize_scales_size(%w: memref<80xi8>, %s: memref<16xf16>, %id: index, %out: memref<48xf32>, %r: index) {
  // expected-error @below {{scales hold 16 values, expected 32}}
  kernel.dequantize_row %w, %s row %id into %out row %r {in_features = 12 : i64, weight_encoding = #kernel.quant<bits = 3, group = 8>} : memref<80xi8>, memref<16xf16> into memref<48xf32>
  return
}

// -----

func.func @dequantize_partial_output(%w: memref<80xi8>, %s: memref<32xf16>, %id: index, %out: memref<40xf32>, %r: index) {
  // expected-error @below {{output holds 40 values, not a whole number of rows of 12}}
  kernel.dequantize_row %w, %s row %id into %out row %r {in_features = 12 : i64, weight_encoding = #kernel.quant<bits = 3, group = 8>} : memref<80xi8>, memref<32xf16> into memref<40xf32>
  return
}

// -----

func.func @quant_log8_scales_without_scale_max(%x: memref<32xf32>, %w: memref<64xi8>, %s: memref<16xi8>, %y: memref<64xf32>, %n: index) {
  // expected-error @below {{scales must be f16 without scale_max, got 'memref<16xi8>'}}
  kernel.linear %x, %w scales %s into %y rows %n {in_features = 8 : i64, out_features = 16 : i64, weight_encoding = #kernel.quant<bits = 4, group = 8>} : memref<32xf32>, memref<64xi8>, memref<16xi8> into memref<64xf32>
  return
}

// -----

func.func @quant_half_scales_with_scale_max(%x: memref<32xf32>, %w: memref<64xi8>, %s: memref<16xf16>, %y: memref<64xf32>, %n: index) {
  // expected-error @below {{scales must be i8 codes with scale_max, got 'memref<16xf16>'}}
  kernel.linear %x, %w scales %s into %y rows %n {in_features = 8 : i64, out_features = 16 : i64, weight_encoding = #kernel.quant<bits = 4, group = 8, scale_max = 1.0 : f32>} : memref<32xf32>, memref<64xi8>, memref<16xf16> into memref<64xf32>
  return
}

// -----

func.func @int8_activations_without_scratch(%x: memref<32xf32>, %w: memref<64xi8>, %s: memref<16xf16>, %y: memref<64xf32>, %n: index) {
  // expected-error @below {{8-bit activations need a scratch buffer}}
  kernel.linear %x, %w scales %s into %y rows %n {in_features = 8 : i64, out_features = 16 : i64, weight_encoding = #kernel.quant<bits = 4, group = 8, activations = i8>} : memref<32xf32>, memref<64xi8>, memref<16xf16> into memref<64xf32>
  return
}

// -----

func.func @int8_activations_small_scratch(%x: memref<32xf32>, %w: memref<64xi8>, %s: memref<16xf16>, %y: memref<64xf32>, %scratch: memref<39xf32>, %n: index) {
  // expected-error @below {{scratch must hold at least 40 f32 values, got 'memref<39xf32>'}}
  kernel.linear %x, %w scales %s into %y scratch %scratch rows %n {in_features = 8 : i64, out_features = 16 : i64, weight_encoding = #kernel.quant<bits = 4, group = 8, activations = i8>} : memref<32xf32>, memref<64xi8>, memref<16xf16> into memref<64xf32>, memref<39xf32>
  return
}

// -----

func.func @int8_activations_group(%x: memref<128xf32>, %w: memref<512xi8>, %s: memref<64xf16>, %y: memref<32xf32>, %scratch: memref<40xf32>, %n: index) {
  // expected-error @below {{8-bit activations need groups that are a multiple of 32 or the whole row, got 16}}
  kernel.linear %x, %w scales %s into %y scratch %scratch rows %n {in_features = 64 : i64, out_features = 16 : i64, weight_encoding = #kernel.quant<bits = 4, group = 16, activations = i8>} : memref<128xf32>, memref<512xi8>, memref<64xf16> into memref<32xf32>, memref<40xf32>
  return
}

// -----

func.func @scratch_without_int8_activations(%x: memref<32xf32>, %w: memref<64xi8>, %s: memref<16xf16>, %y: memref<64xf32>, %scratch: memref<40xf32>, %n: index) {
  // expected-error @below {{scratch is for #kernel.quant weights with 8-bit activations}}
  kernel.linear %x, %w scales %s into %y scratch %scratch rows %n {in_features = 8 : i64, out_features = 16 : i64, weight_encoding = #kernel.quant<bits = 4, group = 8>} : memref<32xf32>, memref<64xi8>, memref<16xf16> into memref<64xf32>, memref<40xf32>
  return
}

// -----

func.func @quant_activations_type(%x: memref<32xf32>, %w: memref<64xi8>, %s: memref<16xf16>, %y: memref<64xf32>, %scratch: memref<40xf32>, %n: index) {
  // expected-error @below {{#kernel.quant activations must be i8, got 'i16'}}
  kernel.linear %x, %w scales %s into %y scratch %scratch rows %n {in_features = 8 : i64, out_features = 16 : i64, weight_encoding = #kernel.quant<bits = 4, group = 8, activations = i16>} : memref<32xf32>, memref<64xi8>, memref<16xf16> into memref<64xf32>, memref<40xf32>
  return
}

// -----

func.func @sparse_masks(%x: memref<40xf32>, %v: memref<50xf32>, %m: memref<16xi8>, %o: memref<17xi32>, %y: memref<64xf32>, %n: index) {
  // 16 rows of 10 inputs: 2 mask bytes a row.
  // expected-error @below {{a #kernel.sparse weight needs 32 mask bytes in indices}}
  kernel.linear %x, %v indices %m offsets %o into %y rows %n {in_features = 10 : i64, out_features = 16 : i64, weight_encoding = #kernel.sparse} : memref<40xf32>, memref<50xf32>, memref<16xi8>, memref<17xi32> into memref<64xf32>
  return
}

// -----

func.func @sparse_offsets(%x: memref<40xf32>, %v: memref<50xf32>, %m: memref<32xi8>, %y: memref<64xf32>, %n: index) {
  // expected-error @below {{a #kernel.sparse weight needs 17 row offsets}}
  kernel.linear %x, %v indices %m into %y rows %n {in_features = 10 : i64, out_features = 16 : i64, weight_encoding = #kernel.sparse} : memref<40xf32>, memref<50xf32>, memref<32xi8> into memref<64xf32>
  return
}

// -----

func.func @sparse_codes_scales(%x: memref<40xf32>, %c: memref<50xi8>, %m: memref<32xi8>, %o: memref<17xi32>, %y: memref<64xf32>, %n: index) {
  // expected-error @below {{sparse i8 codes need 16 f16 scales, one per row}}
  kernel.linear %x, %c indices %m offsets %o into %y rows %n {in_features = 10 : i64, out_features = 16 : i64, weight_encoding = #kernel.sparse} : memref<40xf32>, memref<50xi8>, memref<32xi8>, memref<17xi32> into memref<64xf32>
  return
}

// -----

func.func @sparse_too_many(%x: memref<40xf32>, %v: memref<161xf32>, %m: memref<32xi8>, %o: memref<17xi32>, %y: memref<64xf32>, %n: index) {
  // expected-error @below {{a #kernel.sparse weight keeps at most 160 values}}
  kernel.linear %x, %v indices %m offsets %o into %y rows %n {in_features = 10 : i64, out_features = 16 : i64, weight_encoding = #kernel.sparse} : memref<40xf32>, memref<161xf32>, memref<32xi8>, memref<17xi32> into memref<64xf32>
  return
}

// -----

func.func @indices_without_sparse(%x: memref<32xf32>, %w: memref<128xf32>, %m: memref<16xi8>, %y: memref<64xf32>, %n: index) {
  // expected-error @below {{indices and offsets are the storage of a #kernel.sparse weight}}
  kernel.linear %x, %w indices %m into %y rows %n {in_features = 8 : i64, out_features = 16 : i64} : memref<32xf32>, memref<128xf32>, memref<16xi8> into memref<64xf32>
  return
}
