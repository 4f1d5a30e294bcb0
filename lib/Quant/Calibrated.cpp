//===- Calibrated.cpp - the calibrated methods in the order they compose -===//
//
// Part of the Microscale project.
//
// Clipping chooses each group's range, GPTQ rounds within those ranges
// while cancelling the error it leaves, and the scale refit then solves
// each group's scale for the codes GPTQ picked. Each step starts from the
// last one's result, so the combination is at least as good as its first
// step on the calibration statistics (the refit keeps a row only when it
// helps).
//
//===----------------------------------------------------------------------===//

#include "microscale/Quant/Calibrated.h"

using namespace mlir::microscale::quant;

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
  if (options.refitScales)
    refitScales(weights, result, stats);
  return result;
}
