//===- WeightData.h - weight contents as numbers ----------------*- C++ -*-===//
//
// Part of the Microscale project.
//
// Reads what an `llm.weight` stands for (dense of any float width, or
// decoded through the quantization library) and builds quantized weights
// from the library's matrices, so that passes and the reference
// interpreter see weights through one definition of each encoding.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_DIALECT_LLM_IR_WEIGHTDATA_H
#define MICROSCALE_DIALECT_LLM_IR_WEIGHTDATA_H

#include "microscale/Dialect/LLM/IR/LLMOps.h"
#include "microscale/Quant/Quant.h"

#include "mlir/IR/Builders.h"
#include "llvm/Support/Error.h"

#include <vector>

namespace mlir::microscale::llm {

/// The logical contents of `weight` as float32, row-major: dense f32, f16 or
/// bf16 values, or `#llm.quant` storage dequantized. Errors name the weight.
llvm::Expected<std::vector<float>> readWeightValues(WeightOp weight);

/// The library's format of an encoding, and back.
quant::Format getQuantFormat(QuantAttr attr);
QuantAttr getQuantAttr(MLIRContext *context, const quant::Format &format);

/// The resource blob key for data of the weight `name`: MLIR's textual form
/// only accepts identifier characters in keys, and exporters name weights
/// `onnx::MatMul_12` or `model/layers.0/...`.
std::string getResourceKey(StringRef name, StringRef suffix);

/// An `llm.weight` named `name` holding `matrix` (resource blobs for the
/// codes, scales and zero points), whose logical type is `logical` with the
/// matrix's encoding.
WeightOp createQuantizedWeight(OpBuilder &builder, Location loc, StringRef name,
                               RankedTensorType logical,
                               const quant::QuantizedMatrix &matrix);

} // namespace mlir::microscale::llm

#endif // MICROSCALE_DIALECT_LLM_IR_WEIGHTDATA_H
