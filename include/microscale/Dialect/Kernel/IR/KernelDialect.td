//===- KernelDialect.td - kernel dialect definition --------*- tablegen -*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_DIALECT_KERNEL_IR_KERNELDIALECT_TD
#define MICROSCALE_DIALECT_KERNEL_IR_KERNELDIALECT_TD

include "mlir/IR/OpBase.td"

def Kernel_Dialect : Dialect {
  let name = "kernel";
  let summary = "calls into the runtime's microkernels, kept as ops";
  let description = [{
    The work the generated program hands to hand-written runtime kernels
    (matrix products, attention), as ops on buffers, in the manner of IREE's
    microkernel ops. `convert-llm-to-standard` produces them;
    `convert-kernel-to-calls` replaces each by a call to the runtime symbol
    that the kernel table (`runtime/include/microscale/kernels.def`) lists
    for the op's element types and weight encoding.

    Keeping the calls as ops until late lets the IR show which kernel does
    what, lets verifiers check buffer sizes before they become raw pointers,
    and makes a new kernel (say, int4 weights) a runtime function plus a
    table entry rather than a change to the lowering.

    Buffers are the flat, row-major memrefs of the lowering: an activation
    of `max_tokens` rows of `features` values is `memref<(max_tokens *
    features) x f32>`; `rows` says how many of those rows this call uses.
    A quantized weight is three buffers (packed codes, scales, zero points)
    described by `#kernel.quant`, the storage the runtime's kernels read.
  }];
  let cppNamespace = "::mlir::microscale::kernel";
  let useDefaultAttributePrinterParser = 1;
}

#endif // MICROSCALE_DIALECT_KERNEL_IR_KERNELDIALECT_TD
