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

/// The raw little-endian bytes of the storage attribute `attr` of `weight`
/// (`what` names it in errors; a splat is expanded).
llvm::Expected<std::vector<uint8_t>>
readStorageBytes(WeightOp weight, ElementsAttr attr, StringRef what);

/// An `llm.weight` named `name` in the bitmask storage `encoding` of the
/// logical type `logical` (its shape and element type): `values` the bytes
/// of its `nonZeros` kept values (f32, or i8 codes with the encoding's
/// `quant`), `masks` and `offsets` as microscale/Sparse/BitmaskStorage.h
/// lays them out, and with `quant` the row `scales` it keeps.
WeightOp createBitmaskWeight(OpBuilder &builder, Location loc, StringRef name,
                             RankedTensorType logical, SparseAttr encoding,
                             ArrayRef<uint8_t> values, int64_t nonZeros,
                             ArrayRef<uint8_t> masks, ArrayRef<int32_t> offsets,
                             ElementsAttr scales);

} // namespace mlir::microscale::llm

#endif // MICROSCALE_DIALECT_LLM_IR_WEIGHTDATA_H
