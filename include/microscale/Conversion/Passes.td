//===- Passes.td - conversion passes -----------------------*- tablegen -*-===//
//
// Part of the Microscale project.
//
// From a raised llm module to upstream dialects the emitter lowers to LLVM,
// in three steps (addLLMToStandardPasses adds them in this order):
// convert-llm-to-standard, microscale-plan-memory, convert-kernel-to-calls.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_CONVERSION_PASSES_TD
#define MICROSCALE_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

//===----------------------------------------------------------------------===//
// llm to loops, buffers and kernel ops
//===----------------------------------------------------------------------===//

def ConvertLLMToStandardPass
    : Pass<"convert-llm-to-standard", "::mlir::ModuleOp"> {
  let summary = "Lower a raised llm module to loops, buffers and kernel ops";
  let description = [{
    Replaces the `llm` entry function with the generated program's
    `ms_forward(tokens, n, pos, logit_rows) -> logits` (see
    runtime/include/microscale/runtime.h), written in upstream dialects
    (func, scf, arith, math, memref) plus `kernel` ops for the matrix
    products and attention. Only the last `logit_rows` tokens' logits are
    computed: generation needs one row, scoring text every row, and the
    vocabulary makes the logits the largest product of a prefill.

    One conversion pattern per llm op, driven by a full dialect conversion.
    The type converter maps an activation `tensor<?x?xFxf32>` to its buffer,
    a flat `memref<(max_tokens * F) x f32>` (`n`, the number of tokens of
    this call, is the only dynamic quantity), the token ids to the
    `memref<max_tokens x i32>` argument, and a weight tensor to its storage
    by its encoding (dense: the flat tensor; `#llm.quant`: the flat packed
    codes); a new weight encoding is a case in `convertWeightType`.

    Every activation and scratch buffer is a `memref.alloc` and each layer's
    KV cache (`max-context` positions) an uninitialized mutable
    `memref.global`; `microscale-plan-memory` then places them all in one
    arena. Weights become constant globals holding the original resource
    blobs (no copy): `ms_w_<i>` for the values or packed codes and, for a
    `#llm.quant` weight, `ms_w_<i>_scales` (f16, the kernels' format; other
    scale types are an error naming the weight) and, when asymmetric,
    `ms_w_<i>_zero_points`. Kernel ops on a quantized weight take these as
    operands with a `#kernel.quant` encoding (bits and group size in
    features); a quantized embedding table is read one
    `kernel.dequantize_row` per token. Elementwise work is generated as loops fused per op:
    norms in one pass per row, RoPE in place of a copy, the MLP activation
    fused with the gating product, residual adds.

    The module records `ms.weight_bytes` (the weights' storage bytes, each
    weight once, however many ops use it), `ms.max_tokens` and
    `ms.max_context` for the emitter.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::func::FuncDialect",
    "::mlir::LLVM::LLVMDialect",
    "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::microscale::kernel::KernelDialect",
  ];
  let options = [
    Option<"maxTokens", "max-tokens", "int64_t", "64",
           "Most tokens one ms_forward call processes (prefill chunk)">,
    Option<"maxContext", "max-context", "int64_t", "0",
           "KV-cache positions (default: the model's max_context)">,
  ];
}

//===----------------------------------------------------------------------===//
// Memory planning
//===----------------------------------------------------------------------===//

def PlanMemoryPass : Pass<"microscale-plan-memory", "::mlir::ModuleOp"> {
  let summary = "Place every buffer in one statically sized arena";
  let description = [{
    The generated program allocates nothing at run time. This pass replaces
    every statically shaped `memref.alloc` of the (one) function that has
    them, and every uninitialized mutable `memref.global` (the KV caches), by
    a `memref.view` into one arena global, `ms_arena` (placed in .bss,
    64-byte aligned).

    An allocation lives from the first to the last top-level op of its
    function that uses it (directly or through a view); buffers whose
    lifetimes do not overlap share bytes, placed largest first at the lowest
    free aligned offset (MemoryPlan.h). Globals persist across calls, so
    they follow the planned buffers, each in bytes of its own, in module
    order.

    Records the arena size as the module attribute `ms.arena_bytes`.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::memref::MemRefDialect",
  ];
}

//===----------------------------------------------------------------------===//
// kernel ops to runtime calls
//===----------------------------------------------------------------------===//

def ConvertKernelToCallsPass
    : Pass<"convert-kernel-to-calls", "::mlir::ModuleOp"> {
  let summary = "Replace kernel ops by calls to the runtime's kernels";
  let description = [{
    Each `kernel` op becomes a `func.call` to the runtime symbol that the
    kernel table lists for the op, its element type, its weight's element
    type and its weight encoding (`#kernel.quant<bits = B>` looks up the
    encoding `quantB`, then the any-width `quant`, and passes `bits`,
    `group`, the scales and the zero points, null when absent). The table
    is generated from
    `runtime/include/microscale/kernels.def`, the same file runtime.h
    declares the C functions from, so the two cannot disagree. Buffers are
    passed as pointers, sizes as explicit `i64` (the ABI's `int64_t`, also
    on 32-bit targets), floats as `f32`.

    An op no table entry matches is an error naming the op and its types.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::func::FuncDialect",
    "::mlir::LLVM::LLVMDialect",
    "::mlir::memref::MemRefDialect",
  ];
}

#endif // MICROSCALE_CONVERSION_PASSES_TD
