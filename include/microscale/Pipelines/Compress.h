//===- Compress.h - compression of a raised model ---------------*- C++ -*-===//
//
// Part of the Microscale project.
//
// What `microscale compile`, `run`, `perplexity` and `eval` do to a raised
// `llm` module before lowering it, spelled once as options and applied by
// one function (a pass pipeline on the `llm` dialect).
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_PIPELINES_COMPRESS_H
#define MICROSCALE_PIPELINES_COMPRESS_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlir::microscale {

struct CompressionOptions {
  /// Weight format for the quantized weights ("" = keep float): `int8`,
  /// `q4` (4-bit, groups of 32, symmetric), or spelled out as
  /// `q<bits>[_g<group>|_row][_sym|_asym][_f16|_bf16|_f32]`.
  std::string quantize;
  /// Which weights the default format applies to: `all` (linears, the
  /// embedding and the logits projection) or `linears`.
  std::string quantizeWeights = "all";
  /// `regex=format` pairs on weight names; `float` keeps a weight as it is.
  std::vector<std::string> overrides;
  /// Quantization method: `rtn`, or calibration-aware methods.
  std::string method = "rtn";
  /// Plain text the calibration-aware methods run the float model on.
  std::string calibrationFile;
  int64_t calibrationTokens = 8192;
  /// Mixed precision: a byte budget for all weights or an average width.
  int64_t weightBudget = 0;
  double bitsPerWeight = 0;
  /// Most calibration tokens the budget's sensitivity measurement reads: it
  /// runs the model once per matrix and candidate format.
  int64_t sensitivityTokens = 2048;
  /// Folder the model's relative tokenizer path is resolved against.
  std::string modelDir;
  /// Structured pruning, before quantization: the share of query heads and
  /// of MLP channels to remove, and layers to remove (a count `N`, the
  /// cheapest by calibration loss, or a list `L1,L2`; "" keeps them).
  double pruneHeads = 0;
  double pruneMLP = 0;
  std::string pruneLayers;
  /// What ranks heads and MLP channels: `loss` (heads; MLP channels use
  /// `activation`), `activation` or `magnitude` (needs no calibration).
  std::string pruneImportance = "loss";
  /// Unstructured sparsity, after structured pruning: the share of each
  /// linear's weights to zero, or an N:M pattern (`2:4`), and how the
  /// zeros are chosen: `magnitude`, `wanda` or `sparsegpt` (the last two
  /// on calibration text).
  double pruneWeights = 0;
  std::string prunePattern;
  std::string pruneMethod = "sparsegpt";
  /// How the linears' matrices are stored once pruned and quantized:
  /// `auto` (without their zeros where the measured crossover says that
  /// pays: llm-sparse-storage), `sparse` (without their zeros whenever they
  /// have some) or `dense`.
  std::string sparseStorage = "auto";

  bool usesBudget() const { return weightBudget > 0 || bitsPerWeight > 0; }
  bool quantizes() const { return !quantize.empty() || usesBudget(); }
  bool prunes() const {
    return pruneHeads > 0 || pruneMLP > 0 || !pruneLayers.empty() ||
           sparsifies();
  }
  bool sparsifies() const { return pruneWeights != 0 || !prunePattern.empty(); }
  bool enabled() const {
    return quantizes() || prunes() || sparseStorage == "sparse";
  }
  /// One line for the program's descriptor ("none" when disabled).
  std::string describe() const;
};

/// Compresses `module` in place as `options` say. Errors name the flag or
/// weight at fault.
llvm::Error compress(ModuleOp module, const CompressionOptions &options);

} // namespace mlir::microscale

#endif // MICROSCALE_PIPELINES_COMPRESS_H
