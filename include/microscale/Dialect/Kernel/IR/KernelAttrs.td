//===- KernelAttrs.td - kernel dialect attributes ----------*- tablegen -*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_DIALECT_KERNEL_IR_KERNELATTRS_TD
#define MICROSCALE_DIALECT_KERNEL_IR_KERNELATTRS_TD

include "microscale/Dialect/Kernel/IR/KernelDialect.td"
include "mlir/IR/AttrTypeBase.td"

def Kernel_QuantAttr : AttrDef<Kernel_Dialect, "Quant"> {
  let mnemonic = "quant";
  let summary = "a weight quantized group-wise, as the runtime's kernels read it";
  let description = [{
    The weight encoding of a kernel op whose weight is a `#llm.quant` weight
    after lowering: `bits` per code and `group` input features per scale
    (resolved: the whole row is `group = in_features`, never 0). The kernel
    op's operands hold the storage of `runtime/include/microscale/
    kernels.def`:

    - the weight: `out x ceil(in * bits / 8)` bytes of packed codes (`i8`),
      each row its own bit stream, least significant bits first;
    - the scales: `out x ceil(in / group)` IEEE half floats (`f16`), or,
      with `scale_max`, as many 8-bit logarithmic codes (`i8`; code `c` is
      `scale_max * 2^(-c / 32)`);
    - the zero points (asymmetric weights only): `out x ceil(ceil(in /
      group) * bits / 8)` bytes (`i8`), each row's unsigned zero points
      packed like its codes; without them the codes are signed.

    With `activations = i8` the kernel quantizes its input to 8 bits in
    blocks of 32 features first (`#llm.quant`'s `activations`), in a scratch
    buffer the op provides.

    `convert-kernel-to-calls` looks up the kernel table's encoding column
    `quant<bits>` (e.g. `quant4`) first, then the any-width `quant`; with
    8-bit activations, `quant<bits>_a8` then `quant_a8`.

    ```mlir
    #kernel.quant<bits = 4, group = 32>
    ```
  }];
  let parameters = (ins "int64_t":$bits, "int64_t":$group,
      OptionalParameter<"::mlir::FloatAttr",
                        "largest scale of logarithmic i8 scales">:$scale_max,
      OptionalParameter<"::mlir::Type",
                        "i8: activations quantized in blocks">:$activations);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Whether the kernel quantizes its input to 8-bit blocks.
    bool hasInt8Activations() const { return static_cast<bool>(getActivations()); }
    /// Bytes of one packed row of `inFeatures` codes.
    int64_t getRowBytes(int64_t inFeatures) const;
    /// Scales (and zero points) per row of `inFeatures`, counting a shorter
    /// tail group.
    int64_t getNumGroups(int64_t inFeatures) const;
    /// Bytes of one row's packed zero points.
    int64_t getZeroPointRowBytes(int64_t inFeatures) const {
      return (getNumGroups(inFeatures) * getBits() + 7) / 8;
    }
  }];
}

def Kernel_SparseAttr : AttrDef<Kernel_Dialect, "Sparse"> {
  let mnemonic = "sparse";
  let summary = "a pruned weight without its zeros, as the sparse kernels read it";
  let description = [{
    The weight encoding of a kernel op whose weight is a `#llm.sparse<...,
    format = bitmask>` weight after lowering
    (`microscale/Sparse/BitmaskStorage.h`). The kernel op's operands hold:

    - the weight: the kept values row after row in input order, `f32`, or
      the `i8` codes of a per-row symmetric 8-bit matrix;
    - the indices: `out x ceil(in / 8)` mask bytes (`i8`), bit j of byte b
      of row o set when input `8 * b + j` is kept;
    - the offsets: `out + 1` row starts into the weight (`i32`);
    - the scales (codes only): one IEEE half float per row (`f16`).

    `convert-kernel-to-calls` looks up the kernel table's encoding column
    `sparse`; the weight's element type picks the f32 or the int8 kernel.

    ```mlir
    #kernel.sparse
    ```
  }];
}

#endif // MICROSCALE_DIALECT_KERNEL_IR_KERNELATTRS_TD
