//===- Calibrated.cpp - the calibrated methods in the order they compose -===//
//
// Part of the Microscale project.
//
// Clipping chooses each group's range, GPTQ rounds within those ranges
// while cancelling the error it leaves, and the scale refit then solves
// each group's scale for the codes GPTQ picked. Each step starts from the
// last one's result, so the combination is at least as good as its first
// step on the calibration statistics (the refit keeps a row only when it
// helps). GPTQ's rounding depends on the scales it is given and the refit's
// scales on the rounding, so a second round from the refitted scales often
// finds a little more; rows keep whichever round did best. After each
// refit a descent over the codes moves single codes one step where that
// lowers the error for the refitted scales (and the scales are refitted
// once more for them).
//
//===----------------------------------------------------------------------===//

#include "microscale/Quant/Calibrated.h"

#include <algorithm>

using namespace mlir::microscale::quant;

/// Copies row `r` (codes, scales, zero points) of `from` into `into`.
static void copyRow(const QuantizedMatrix &from, int64_t r,
                    QuantizedMatrix &into) {
  const int64_t rowBytes = from.format.rowBytes(from.cols);
  const int64_t groups = from.format.numGroups(from.cols);
  std::copy_n(from.packed.begin() + r * rowBytes, rowBytes,
              into.packed.begin() + r * rowBytes);
  std::copy_n(from.scales.begin() + r * groups, groups,
              into.scales.begin() + r * groups);
  if (!from.format.symmetric)
    std::copy_n(from.zeroPoints.begin() + r * groups, groups,
                into.zeroPoints.begin() + r * groups);
}

QuantizedMatrix mlir::microscale::quant::quantizeCalibrated(
    llvm::ArrayRef<float> weights, int64_t rows, int64_t cols,
    const Format &format, const InputStatistics &stats,
    const CalibratedOptions &options) {
  ClipSearchResult clip;
  if (options.clipSearch)
    clip = searchClipping(weights, rows, cols, format, stats, options.clip);
  QuantizedMatrix result;
  if (options.gptq) {
    GPTQOptions gptq = options.gptqOptions;
    if (options.clipSearch)
      gptq.groupParams = clip.params;
    result = quantizeGPTQ(weights, rows, cols, format, stats, gptq);
  } else if (options.clipSearch) {
    result = quantizeWithGroupParams(weights, rows, cols, format, clip.params);
  } else {
    result = quantizeRoundToNearest(weights, rows, cols, format);
  }
  if (!options.refitScales)
    return result;
  auto refit = [&](QuantizedMatrix &matrix) {
    refitScales(weights, matrix, stats);
    if (options.codeDescent && descendCodes(weights, matrix, stats) > 0.0)
      refitScales(weights, matrix, stats);
  };
  refit(result);
  if (!options.gptq)
    return result;
  std::vector<double> errors =
      outputErrorPerRow(weights, dequantize(result), rows, stats);
  for (int round = 1; round < options.rounds; ++round) {
    GPTQOptions gptq = options.gptqOptions;
    std::vector<GroupParams> params = allGroupParams(result);
    gptq.groupParams = params;
    QuantizedMatrix next =
        quantizeGPTQ(weights, rows, cols, format, stats, gptq);
    refit(next);
    std::vector<double> nextErrors =
        outputErrorPerRow(weights, dequantize(next), rows, stats);
    for (int64_t r = 0; r < rows; ++r)
      if (nextErrors[r] < errors[r]) {
        copyRow(next, r, result);
        errors[r] = nextErrors[r];
      }
  }
  return result;
}
