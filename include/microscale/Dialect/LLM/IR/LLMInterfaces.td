//===- LLMInterfaces.td - llm dialect interfaces -----------*- tablegen -*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_DIALECT_LLM_IR_LLMINTERFACES_TD
#define MICROSCALE_DIALECT_LLM_IR_LLMINTERFACES_TD

include "mlir/IR/OpBase.td"

def LLM_WeightUserOpInterface : OpInterface<"WeightUserOpInterface"> {
  let cppNamespace = "::mlir::microscale::llm";
  let description = [{
    An op that reads model weights. It lists each weight operand that is
    present with its role (`q_proj`, `down_proj`, `norm_gain`, ...) and
    says which decoder layer the op belongs to, so that a pass can find
    and rewrite "every weight", "every projection" or "the K and V
    projections of layer 3" without a case per op. Shapes are the operands'
    types (logical shape and element type; the storage form is the type's
    encoding). `collectWeights` and `findWeights` in LLMOps.h search a module
    through this interface.
  }];
  let methods = [
    InterfaceMethod<[{
        The weight operands that are present, each with its role, in operand
        order.
      }],
      "::llvm::SmallVector<::mlir::microscale::llm::WeightUse>",
      "getWeightUses">,
    InterfaceMethod<[{
        The decoder layer (the attention block's KV-cache slot) the op's
        weights belong to, or std::nullopt for weights outside the layers
        (embeddings, the final norm, the logits).
      }],
      "std::optional<int64_t>", "getWeightLayer", (ins), [{}],
      [{ return std::nullopt; }]>,
  ];
}

#endif // MICROSCALE_DIALECT_LLM_IR_LLMINTERFACES_TD
