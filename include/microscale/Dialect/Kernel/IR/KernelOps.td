//===- KernelOps.td - kernel dialect operations ------------*- tablegen -*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_DIALECT_KERNEL_IR_KERNELOPS_TD
#define MICROSCALE_DIALECT_KERNEL_IR_KERNELOPS_TD

include "microscale/Dialect/Kernel/IR/KernelDialect.td"
include "mlir/IR/OpBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

class Kernel_Op<string mnemonic, list<Trait> traits = []> :
    Op<Kernel_Dialect, mnemonic, traits>;

def Kernel_Buffer : StaticShapeMemRefOf<[AnyType]>;

def Kernel_LinearOp : Kernel_Op<"linear"> {
  let summary = "rows of a buffer times a weight matrix, plus bias";
  let description = [{
    `output[r, o] = sum_i input[r, i] * weight[o, i] (+ bias[o])` for
    `r < rows`, `o < out_features`, `i < in_features`. `weight` holds the
    `[out_features, in_features]` matrix in its storage form: for a dense
    weight (no `weight_encoding`) that is the matrix itself, row-major; an
    encoded weight (quantized, sparse) keeps its encoding attribute here so
    the kernel table can pick a kernel that understands the storage.

    ```mlir
    kernel.linear %x, %w bias %b into %y rows %n
        {in_features = 8 : i64, out_features = 16 : i64}
        : memref<32xf32>, memref<128xf32>, memref<16xf32> into memref<64xf32>
    ```
  }];
  let arguments = (ins
    Arg<Kernel_Buffer, "rows x in_features values", [MemRead]>:$input,
    Arg<Kernel_Buffer, "the weight's storage", [MemRead]>:$weight,
    Arg<Optional<Kernel_Buffer>, "out_features values", [MemRead]>:$bias,
    Arg<Kernel_Buffer, "rows x out_features values", [MemWrite]>:$output,
    Index:$rows,
    I64Attr:$in_features,
    I64Attr:$out_features,
    OptionalAttr<AnyAttr>:$weight_encoding);
  let assemblyFormat = [{
    $input `,` $weight (`bias` $bias^)? `into` $output `rows` $rows attr-dict
    `:` type($input) `,` type($weight) (`,` type($bias)^)? `into` type($output)
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
