//===- KernelOps.td - kernel dialect operations ------------*- tablegen -*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_DIALECT_KERNEL_IR_KERNELOPS_TD
#define MICROSCALE_DIALECT_KERNEL_IR_KERNELOPS_TD

include "microscale/Dialect/Kernel/IR/KernelAttrs.td"
include "microscale/Dialect/Kernel/IR/KernelDialect.td"
include "mlir/IR/OpBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

class Kernel_Op<string mnemonic, list<Trait> traits = []> :
    Op<Kernel_Dialect, mnemonic, traits>;

def Kernel_Buffer : StaticShapeMemRefOf<[AnyType]>;
// A quantized weight's scales are IEEE half floats (the kernels read their
// bits as uint16_t) or logarithmic byte codes (with the encoding's
// scale_max), and its zero points bytes.
def Kernel_ScalesBuffer : StaticShapeMemRefOf<[F16, I8]>;
def Kernel_ZeroPointsBuffer : StaticShapeMemRefOf<[I8]>;
// A sparse weight's mask bytes and row offsets.
def Kernel_IndicesBuffer : StaticShapeMemRefOf<[I8]>;
def Kernel_OffsetsBuffer : StaticShapeMemRefOf<[I32]>;

def Kernel_LinearOp : Kernel_Op<"linear", [AttrSizedOperandSegments]> {
  let summary = "rows of a buffer times a weight matrix, plus bias";
  let description = [{
    `output[r, o] = sum_i input[first + r, i] * weight[o, i] (+ bias[o])`
    for `r < rows`, `o < out_features`, `i < in_features`, where `first` is
    `input_row` when given and 0 otherwise (the logits of the last tokens
    only read the last rows of their input). `weight` holds the
    `[out_features, in_features]` matrix in its storage form: for a dense
    weight (no `weight_encoding`) that is the matrix itself, row-major; an
    encoded weight keeps its encoding attribute here so the kernel table can
    pick a kernel that understands the storage.

    A `#kernel.quant` weight is the packed codes in `weight` plus its
    `scales` and, when asymmetric, its `zero_points` (layouts in
    `#kernel.quant`); the verifier checks all three sizes. A
    `#kernel.sparse` weight is its kept values (or codes) in `weight`, its
    mask bytes in `indices`, its row `offsets` and, for codes, one scale
    per row in `scales` (layouts in `#kernel.sparse`). The kernel
    dequantizes as it multiplies. With 8-bit activations
    (`#kernel.quant<..., activations = i8>`) it also needs `scratch`, at
    least `MS_ACT_SCRATCH_FLOATS(rows, in_features)` values
    (`runtime/include/microscale/quant_activations.h`) for the rows of the
    largest call, where it quantizes the input.

    ```mlir
    kernel.linear %x, %w bias %b into %y rows %n
        {in_features = 8 : i64, out_features = 16 : i64}
        : memref<32xf32>, memref<128xf32>, memref<16xf32> into memref<64xf32>
    kernel.linear %x from_row %f, %w into %y rows %n
        {in_features = 8 : i64, out_features = 16 : i64}
        : memref<32xf32>, memref<128xf32> into memref<64xf32>
    kernel.linear %x, %q scales %s zero_points %z into %y rows %n
        {in_features = 8 : i64, out_features = 16 : i64,
         weight_encoding = #kernel.quant<bits = 4, group = 8>}
        : memref<32xf32>, memref<64xi8>, memref<16xf16>, memref<16xi8>
          into memref<64xf32>
    ```
  }];
  let arguments = (ins
    Arg<Kernel_Buffer, "rows x in_features values", [MemRead]>:$input,
    Arg<Kernel_Buffer, "the weight's storage", [MemRead]>:$weight,
    Arg<Optional<Kernel_ScalesBuffer>, "a quantized weight's scales",
        [MemRead]>:$scales,
    Arg<Optional<Kernel_ZeroPointsBuffer>, "an asymmetric weight's zero points",
        [MemRead]>:$zero_points,
    Arg<Optional<Kernel_IndicesBuffer>, "a sparse weight's mask bytes",
        [MemRead]>:$indices,
    Arg<Optional<Kernel_OffsetsBuffer>, "a sparse weight's row offsets",
        [MemRead]>:$offsets,
    Arg<Optional<Kernel_Buffer>, "out_features values", [MemRead]>:$bias,
    Arg<Kernel_Buffer, "rows x out_features values", [MemWrite]>:$output,
    Arg<Optional<Kernel_Buffer>, "8-bit activation blocks of the input",
        [MemRead, MemWrite]>:$scratch,
    Index:$rows,
    Optional<Index>:$input_row,
    I64Attr:$in_features,
    I64Attr:$out_features,
    OptionalAttr<AnyAttr>:$weight_encoding);
  let assemblyFormat = [{
    $input (`from_row` $input_row^)? `,` $weight (`scales` $scales^)?
    (`zero_points` $zero_points^)? (`indices` $indices^)? (`offsets` $offsets^)?
    (`bias` $bias^)? `into` $output (`scratch` $scratch^)? `rows` $rows
    attr-dict `:` type($input) `,` type($weight) ``
    custom<OptionalBufferTypes>(ref($scales), ref($zero_points),
                                ref($indices), ref($offsets), ref($bias),
                                type($scales), type($zero_points),
                                type($indices), type($offsets), type($bias))
    `into` type($output) (`,` type($scratch)^)?
  }];
  let hasVerifier = 1;
}

def Kernel_DequantizeRowOp : Kernel_Op<"dequantize_row"> {
  let summary = "one row of a quantized table, dequantized into a buffer";
  let description = [{
    Row `row` of the `#kernel.quant` table (`weight`, `scales` and, when
    asymmetric, `zero_points`; `in_features` values per row) is dequantized
    into row `output_row` of `output` (rows of `in_features` values): the
    lookup of a quantized embedding table, one call per token. `row` is not
    checked against the table's rows, like a dense table's lookup.

    ```mlir
    kernel.dequantize_row %q, %s row %id into %out row %r
        {in_features = 8 : i64,
         weight_encoding = #kernel.quant<bits = 8, group = 8>}
        : memref<128xi8>, memref<16xf16> into memref<32xf32>
    ```
  }];
  let arguments = (ins
    Arg<Kernel_Buffer, "the table's packed codes", [MemRead]>:$weight,
    Arg<Kernel_ScalesBuffer, "the table's scales", [MemRead]>:$scales,
    Arg<Optional<Kernel_ZeroPointsBuffer>, "an asymmetric table's zero points",
        [MemRead]>:$zero_points,
    Index:$row,
    Arg<Kernel_Buffer, "rows of in_features values", [MemWrite]>:$output,
    Index:$output_row,
    I64Attr:$in_features,
    Kernel_QuantAttr:$weight_encoding);
  let assemblyFormat = [{
    $weight `,` $scales (`zero_points` $zero_points^)? `row` $row
    `into` $output `row` $output_row attr-dict
    `:` type($weight) `,` type($scales) (`,` type($zero_points)^)?
    `into` type($output)
  }];
  let hasVerifier = 1;
}

def Kernel_AttentionOp : Kernel_Op<"attention"> {
  let summary = "causal attention of a call's queries over the KV cache";
  let description = [{
    The `rows` queries in `query` (`[rows, num_heads * head_dim]`), at
    positions `position .. position + rows - 1`, attend to the cached keys
    and values at positions `0 .. position + rows - 1`; the result is written
    to `output` (same layout as `query`). The caches are `[context,
    num_kv_heads * head_dim]`; query head `h` reads kv head
    `h / (num_heads / num_kv_heads)`. `scratch` holds the scores: at least
    `num_heads * context` values.

    ```mlir
    kernel.attention %q, %kc, %vc into %out scratch %s rows %n position %pos
        {num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 4 : i64,
         scale = 5.000000e-01 : f64}
        : memref<32xf32>, memref<128xf32>, memref<128xf32>
          into memref<32xf32>, memref<64xf32>
    ```
  }];
  let arguments = (ins
    Arg<Kernel_Buffer, "rows x num_heads * head_dim", [MemRead]>:$query,
    Arg<Kernel_Buffer, "context x num_kv_heads * head_dim", [MemRead]>:$key_cache,
    Arg<Kernel_Buffer, "context x num_kv_heads * head_dim", [MemRead]>:$value_cache,
    Arg<Kernel_Buffer, "rows x num_heads * head_dim", [MemWrite]>:$output,
    Arg<Kernel_Buffer, "num_heads x context", [MemRead, MemWrite]>:$scratch,
    Index:$rows,
    Index:$position,
    I64Attr:$num_heads,
    I64Attr:$num_kv_heads,
    I64Attr:$head_dim,
    F64Attr:$scale);
  let assemblyFormat = [{
    $query `,` $key_cache `,` $value_cache `into` $output `scratch` $scratch
    `rows` $rows `position` $position attr-dict
    `:` type($query) `,` type($key_cache) `,` type($value_cache)
    `into` type($output) `,` type($scratch)
  }];
  let hasVerifier = 1;
}

#endif // MICROSCALE_DIALECT_KERNEL_IR_KERNELOPS_TD
