//===- LLMAttrs.td - llm dialect attributes ----------------*- tablegen -*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_DIALECT_LLM_IR_LLMATTRS_TD
#define MICROSCALE_DIALECT_LLM_IR_LLMATTRS_TD

include "microscale/Dialect/LLM/IR/LLMDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def LLM_RopeStyle : I32EnumAttr<"RopeStyle", "pairing of rotary dimensions", [
  I32EnumAttrCase<"RotateHalf", 0, "rotate_half">,
  I32EnumAttrCase<"Interleaved", 1, "interleaved">
]> {
  let cppNamespace = "::mlir::microscale::llm";
  let genSpecializedAttr = 0;
}
def LLM_RopeStyleAttr : EnumAttr<LLM_Dialect, LLM_RopeStyle, "rope_style">;

def LLM_Activation : I32EnumAttr<"Activation", "MLP activation function", [
  I32EnumAttrCase<"SiLU", 0, "silu">,
  I32EnumAttrCase<"GELU", 1, "gelu">,
  I32EnumAttrCase<"GELUTanh", 2, "gelu_tanh">,
  I32EnumAttrCase<"ReLU", 3, "relu">
]> {
  let cppNamespace = "::mlir::microscale::llm";
  let genSpecializedAttr = 0;
}
def LLM_ActivationAttr : EnumAttr<LLM_Dialect, LLM_Activation, "activation">;

def LLM_ModelAttr : AttrDef<LLM_Dialect, "Model"> {
  let mnemonic = "model";
  let summary = "model-level facts of a raised decoder";
  let description = [{
    Recorded on the module as `llm.model`. Every later stage (memory planning,
    the runtime, the tokenizer) reads the model's dimensions from here.

    ```mlir
    module attributes {llm.model = #llm.model<arch = "llama", vocab_size = 512,
        hidden_size = 64, num_layers = 5, num_heads = 8, num_kv_heads = 4,
        head_dim = 8, max_context = 512, bos_id = 1, eos_id = 2,
        tokenizer = "tok512.model">} { ... }
    ```
  }];
  let parameters = (ins
    StringRefParameter<"architecture family">:$arch,
    "int64_t":$vocab_size,
    "int64_t":$hidden_size,
    "int64_t":$num_layers,
    "int64_t":$num_heads,
    "int64_t":$num_kv_heads,
    "int64_t":$head_dim,
    "int64_t":$max_context,
    "int64_t":$bos_id,
    "int64_t":$eos_id,
    StringRefParameter<"tokenizer file, relative to the model">:$tokenizer
  );
  let assemblyFormat = "`<` struct(params) `>`";
}

#endif // MICROSCALE_DIALECT_LLM_IR_LLMATTRS_TD
