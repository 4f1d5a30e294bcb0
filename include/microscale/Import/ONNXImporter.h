//===- ONNXImporter.h - ONNX ModelProto to the onnx dialect -----*- C++ -*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_IMPORT_ONNXIMPORTER_H
#define MICROSCALE_IMPORT_ONNXIMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/Error.h"

namespace mlir::microscale {

/// Limits the importer checks before it allocates or computes anything from
/// a model's numbers (README, "Limits and errors").
namespace import_limits {
/// Most dimensions of any tensor, including the length of a shape operand
/// (Reshape, Expand, ConstantOfShape), which becomes a result's rank.
constexpr int64_t kMaxRank = 64;
/// Most elements of any tensor with static dimensions (2^40).
constexpr int64_t kMaxElements = int64_t(1) << 40;
/// Largest ONNX file (protobuf's limit); larger models keep their weights
/// as external data.
constexpr uint64_t kMaxModelBytes = INT32_MAX;
} // namespace import_limits

/// Imports the ONNX model at `path` into a module holding one `func.func`
/// (`@main_graph`) of `onnx.node` / `onnx.constant` ops. Initializers become
/// `dense_resource` blobs; external data is read from the model's folder.
///
/// Every failure is returned as an error whose message names the file, the
/// node (name and op type) when there is one, and the reason.
llvm::Expected<OwningOpRef<ModuleOp>> importONNXModel(llvm::StringRef path,
                                                      MLIRContext *context);

} // namespace mlir::microscale

#endif // MICROSCALE_IMPORT_ONNXIMPORTER_H
