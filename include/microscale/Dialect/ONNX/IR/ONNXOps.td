//===- ONNXOps.td - ONNX-level import dialect --------------*- tablegen -*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//
//
// The `onnx` dialect is the importer's faithful, one-op-per-node picture of an
// ONNX graph. It is deliberately generic: one `onnx.node` op carries the ONNX
// op type and attributes, so the importer does not need an ODS op per ONNX
// operator, and raising patterns match on `op_type`.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_DIALECT_ONNX_IR_ONNXOPS_TD
#define MICROSCALE_DIALECT_ONNX_IR_ONNXOPS_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def ONNX_Dialect : Dialect {
  let name = "onnx";
  let summary = "ONNX graphs as imported, one op per ONNX node";
  let description = [{
    The import level of Microscale. Every ONNX node becomes one `onnx.node`
    whose `op_type` names the ONNX operator, every initializer and `Constant`
    node becomes an `onnx.constant`. Raising rewrites these into the `llm`
    dialect.
  }];
  let cppNamespace = "::mlir::microscale::onnx";
}

class ONNX_Op<string mnemonic, list<Trait> traits = []> :
    Op<ONNX_Dialect, mnemonic, traits>;

def ONNX_NodeOp : ONNX_Op<"node", [Pure]> {
  let summary = "one ONNX node";
  let description = [{
    An ONNX node: `op_type` is the ONNX operator name, `name` the node name
    from the file (used in diagnostics), `attributes` the ONNX attributes.
    Missing optional inputs are `onnx.none` values. Every attribute must be
    one ONNX defines for `op_type`, of the kind ONNX gives it (`perm` a list
    of integers, say), so patterns can read attributes without checking.

    ```mlir
    %0 = onnx.node "MatMul"(%x, %w) {name = "/q_proj/MatMul"}
           : (tensor<?x?x64xf32>, tensor<64x64xf32>) -> tensor<?x?x64xf32>
    ```
  }];
  let arguments = (ins StrAttr:$op_type, StrAttr:$name,
                       DictionaryAttr:$onnx_attrs,
                       Variadic<AnyType>:$inputs);
  let results = (outs Variadic<AnyType>:$outputs);
  let assemblyFormat = [{
    $op_type `(` $inputs `)` attr-dict `:` functional-type($inputs, $outputs)
  }];
  let extraClassDeclaration = [{
    /// The ONNX attribute `name`, or null.
    ::mlir::Attribute getOnnxAttr(::llvm::StringRef attrName) {
      return getOnnxAttrs().get(attrName);
    }
    /// Integer attribute with a default.
    int64_t getIntAttr(::llvm::StringRef attrName, int64_t defaultValue);
    /// Float attribute with a default.
    double getFloatAttr(::llvm::StringRef attrName, double defaultValue);
    /// Integer-list attribute (ONNX INTS), or std::nullopt when absent.
    std::optional<::llvm::SmallVector<int64_t>>
    getIntsAttr(::llvm::StringRef attrName);
  }];
  let hasVerifier = 1;
}

def ONNX_ConstantOp : ONNX_Op<"constant", [ConstantLike, Pure]> {
  let summary = "an initializer or Constant node";
  let description = [{
    A constant tensor. Weights are held as `dense_resource` blobs, never as
    text, so large models import quickly and print with weights elided.
  }];
  let arguments = (ins StrAttr:$name, ElementsAttr:$value);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$name attr-dict `:` type($output) `=` $value";
  let hasFolder = 1;
  let hasVerifier = 1;
}

def ONNX_NoneOp : ONNX_Op<"none", [Pure]> {
  let summary = "an absent optional ONNX input";
  let results = (outs NoneType:$output);
  let assemblyFormat = "attr-dict";
}

#endif // MICROSCALE_DIALECT_ONNX_IR_ONNXOPS_TD
