//===- Passes.td - llm dialect passes ----------------------*- tablegen -*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_DIALECT_LLM_TRANSFORMS_PASSES_TD
#define MICROSCALE_DIALECT_LLM_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

//===----------------------------------------------------------------------===//
// Raising
//===----------------------------------------------------------------------===//

def RaiseONNXPass : Pass<"llm-raise-onnx", "::mlir::ModuleOp"> {
  let summary = "Raise onnx-level graphs of decoder LLMs to the llm dialect";
  let description = [{
    Recognizes the subgraphs that ONNX exporters (torch.onnx, Hugging Face
    Optimum) produce for decoder-only transformers and replaces them with
    `llm` ops: embeddings, RMSNorm/LayerNorm (fused op or decomposed),
    linear projections (MatMul, Gemm, fused QKV + Split), rotary embeddings,
    causal attention with past key/value concatenation and grouped-query
    head repetition, gated and plain MLPs, residual adds and the logits
    projection. Shape plumbing (Shape/Gather/Concat/Reshape/...) that only
    served the recognized subgraphs becomes dead and is erased.

    Afterwards the entry function is rewritten to the llm calling
    convention `(input_ids) -> logits`, the KV cache becoming the state of
    the `llm.attention` ops. Any onnx-level op that survives is an error
    that names its node and why it was not recognized. With
    `allow-partial` the pass only applies the patterns and keeps whatever
    they leave (for debugging and for testing patterns one by one).
  }];
  let dependentDialects = ["::mlir::microscale::llm::LLMDialect"];
  let options = [
    Option<"allowPartial", "allow-partial", "bool", "false",
           "Only apply the patterns; keep unrecognized ops and the signature">,
    Option<"tokenizer", "tokenizer", "std::string", "\"\"",
           "Tokenizer file to record in the llm.model attribute">,
    Option<"maxContext", "max-context", "int64_t", "0",
           "Context length to record (default: from the graph, else 2048)">,
  ];
  let statistics = [
    Statistic<"numAttention", "num-attention", "Attention blocks raised">,
    Statistic<"numMLP", "num-mlp", "MLP blocks raised">,
    Statistic<"numNorms", "num-norms", "Normalizations raised">,
  ];
}

#endif // MICROSCALE_DIALECT_LLM_TRANSFORMS_PASSES_TD
