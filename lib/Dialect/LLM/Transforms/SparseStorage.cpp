//===- SparseStorage.cpp - pruned matrices without their zeros --*- C++ -*-===//
//
// Part of the Microscale project.
//
// Re-encodes pruned matrices in the bitmask storage of
// microscale/Sparse/BitmaskStorage.h where the sparse kernels pay: the
// choice is per matrix, from its density and the crossover measured for its
// value type (f32 or int8 codes). The logical type stays, so the users of a
// weight do not change; only its encoding and storage do.
//
//===----------------------------------------------------------------------===//

#include "microscale/Dialect/LLM/IR/WeightData.h"
#include "microscale/Dialect/LLM/Transforms/Passes.h"
#include "microscale/Sparse/BitmaskStorage.h"

#include "llvm/ADT/MapVector.h"
#include "llvm/Support/Format.h"

#include <cstring>

namespace mlir::microscale::llm {
#define GEN_PASS_DEF_SPARSESTORAGEPASS
#include "microscale/Dialect/LLM/Transforms/Passes.h.inc"
} // namespace mlir::microscale::llm

using namespace mlir;
using namespace mlir::microscale;
using namespace mlir::microscale::llm;

namespace {

constexpr StringLiteral kPass = "llm-sparse-storage";

/// Whether `quant` is what bitmask storage can keep as its values' codes.
bool isInt8PerRow(QuantAttr quant, int64_t inFeatures) {
  return quant.getBits() == 8 && quant.isSymmetric() &&
         quant.getScale().isF16() && !quant.hasInt8Activations() &&
         quant.getNumGroups(inFeatures) == 1;
}

/// A matrix in the values bitmask storage keeps: f32 values or int8 codes.
struct Candidate {
  WeightOp weight;
  QuantAttr quant;            // null for f32
  std::vector<uint8_t> bytes; // the dense values or codes, row-major
};

struct SparseStoragePass
    : public llm::impl::SparseStoragePassBase<SparseStoragePass> {
  using SparseStoragePassBase::SparseStoragePassBase;

  void runOnOperation() override;

private:
  /// The weights every use of which is a matrix product, in program order.
  SmallVector<WeightOp> findMatrices();
  /// `weight`'s dense values or codes; std::nullopt when its storage is not
  /// one bitmask storage keeps.
  FailureOr<std::optional<Candidate>> readCandidate(WeightOp weight);
  /// Re-encodes `candidate` when its density says so.
  LogicalResult encode(Candidate &candidate);
};

SmallVector<WeightOp> SparseStoragePass::findMatrices() {
  llvm::MapVector<Operation *, bool> allProducts;
  for (WeightRef ref : collectWeights(getOperation())) {
    WeightOp weight = getWeightOp(ref.use);
    if (!weight)
      continue;
    WeightRole role = ref.use.role;
    bool product = isLayerMatrixRole(role) || role == WeightRole::Logits;
    auto [it, first] = allProducts.insert({weight, product});
    if (!first)
      it->second &= product;
  }
  SmallVector<WeightOp> matrices;
  for (auto [op, product] : allProducts)
    if (product)
      matrices.push_back(cast<WeightOp>(op));
  return matrices;
}

FailureOr<std::optional<Candidate>>
SparseStoragePass::readCandidate(WeightOp weight) {
  RankedTensorType type = weight.getType();
  if (type.getRank() != 2 || !type.hasStaticShape() ||
      !type.getElementType().isF32())
    return std::optional<Candidate>();
  Attribute encoding = weight.getEncoding();
  auto quant = dyn_cast_or_null<QuantAttr>(encoding);
  if ((encoding && !quant) ||
      (quant && !isInt8PerRow(quant, type.getDimSize(1))))
    return std::optional<Candidate>();
  // Dense f32 values and 8-bit codes are both their own storage bytes.
  auto bytes = readStorageBytes(weight, weight.getValue(), "value");
  if (!bytes)
    return weight.emitOpError()
               << kPass << ": " << llvm::toString(bytes.takeError()),
           failure();
  return std::optional<Candidate>(Candidate{weight, quant, std::move(*bytes)});
}

/// The bitmask storage of `dense`, as bytes of T.
template <typename T>
sparse::BitmaskMatrix<T> encodeBytes(ArrayRef<uint8_t> bytes, int64_t rows,
                                     int64_t cols) {
  std::vector<T> dense(bytes.size() / sizeof(T));
  std::memcpy(dense.data(), bytes.data(), bytes.size());
  return sparse::encodeBitmask<T>(dense, rows, cols);
}

template <typename T> ArrayRef<uint8_t> bytesOf(const std::vector<T> &values) {
  return ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(values.data()),
                           values.size() * sizeof(T));
}

LogicalResult SparseStoragePass::encode(Candidate &candidate) {
  WeightOp weight = candidate.weight;
  RankedTensorType type = weight.getType();
  int64_t rows = type.getDimSize(0), cols = type.getDimSize(1);
  int64_t nonZeros =
      candidate.quant
          ? sparse::countNonZeros<int8_t>(ArrayRef<int8_t>(
                reinterpret_cast<const int8_t *>(candidate.bytes.data()),
                candidate.bytes.size()))
          : sparse::countNonZeros<float>(ArrayRef<float>(
                reinterpret_cast<const float *>(candidate.bytes.data()),
                candidate.bytes.size() / sizeof(float)));
  double density = static_cast<double>(nonZeros) / (rows * cols);
  double crossover = candidate.quant ? maxDensityInt8 : maxDensityF32;
  bool encode = nonZeros > 0 && nonZeros < rows * cols &&
                (storage == "sparse" || density <= crossover);
  if (printChoices)
    llvm::outs() << kPass << ": " << weight.getName() << " "
                 << (candidate.quant ? "int8" : "f32") << " density "
                 << llvm::format("%.4f", density) << " -> "
                 << (encode ? "bitmask" : "dense") << "\n";
  if (!encode)
    return success();
  MLIRContext *context = &getContext();
  auto encoding = SparseAttr::get(context, "unstructured",
                                  SparseFormat::Bitmask, candidate.quant);
  OpBuilder builder(weight);
  WeightOp sparseWeight;
  auto create = [&](ArrayRef<uint8_t> values, int64_t count,
                    ArrayRef<uint8_t> masks, ArrayRef<int32_t> offsets) {
    sparseWeight = createBitmaskWeight(
        builder, weight.getLoc(), weight.getName(),
        RankedTensorType::get(type.getShape(), type.getElementType()), encoding,
        values, count, masks, offsets, weight.getScalesAttr());
  };
  if (candidate.quant) {
    auto matrix = encodeBytes<int8_t>(candidate.bytes, rows, cols);
    create(bytesOf(matrix.values), matrix.values.size(), matrix.masks,
           matrix.offsets);
  } else {
    auto matrix = encodeBytes<float>(candidate.bytes, rows, cols);
    create(bytesOf(matrix.values), matrix.values.size(), matrix.masks,
           matrix.offsets);
  }
  weight.replaceAllUsesWith(sparseWeight.getResult());
  weight.erase();
  return success();
}

void SparseStoragePass::runOnOperation() {
  ModuleOp module = getOperation();
  if (storage != "auto" && storage != "sparse") {
    module.emitError() << kPass << ": storage must be auto or sparse, got '"
                       << storage << "'";
    return signalPassFailure();
  }
  for (auto [name, value] :
       {std::make_pair("max-density-f32", double(maxDensityF32)),
        std::make_pair("max-density-int8", double(maxDensityInt8))})
    if (!(value >= 0.0 && value <= 1.0)) {
      module.emitError() << kPass << ": " << name
                         << " is a share of non-zero weights, in [0, 1]";
      return signalPassFailure();
    }
  for (WeightOp weight : findMatrices()) {
    FailureOr<std::optional<Candidate>> candidate = readCandidate(weight);
    if (failed(candidate))
      return signalPassFailure();
    if (*candidate && failed(encode(**candidate)))
      return signalPassFailure();
  }
}

} // namespace
