//===- Statistics.cpp - calibration statistics of a linear's input -------===//
//
// Part of the Microscale project.
//
// The statistics every calibrated method reads: H = X^T X and the mean |x|
// of each input channel, summed over calibration tokens.
//
//===----------------------------------------------------------------------===//

#include "microscale/Quant/Calibrated.h"

#include "llvm/Support/FormatVariadic.h"

#include <cassert>
#include <cmath>

using namespace mlir::microscale::quant;

void mlir::microscale::quant::accumulateStatistics(InputStatistics &stats,
                                                   llvm::ArrayRef<float> x,
                                                   int64_t tokens) {
  const int64_t cols = stats.cols;
  assert(static_cast<int64_t>(x.size()) == tokens * cols);
  if (stats.hessian.empty())
    stats.hessian.assign(cols * cols, 0.0);
  if (stats.meanAbs.empty())
    stats.meanAbs.assign(cols, 0.0);
  assert(static_cast<int64_t>(stats.hessian.size()) == cols * cols &&
         static_cast<int64_t>(stats.meanAbs.size()) == cols);
  // meanAbs is kept as a mean: rescale the old sum, add, divide again.
  int64_t total = stats.tokens + tokens;
  if (total == 0)
    return;
  std::vector<double> absSum(cols);
  for (int64_t c = 0; c < cols; ++c)
    absSum[c] = stats.meanAbs[c] * static_cast<double>(stats.tokens);
  std::vector<double> row(cols);
  for (int64_t t = 0; t < tokens; ++t) {
    for (int64_t c = 0; c < cols; ++c) {
      row[c] = x[t * cols + c];
      absSum[c] += std::fabs(row[c]);
    }
    // Upper triangle only; mirrored below.
    for (int64_t i = 0; i < cols; ++i) {
      double xi = row[i];
      if (xi == 0.0)
        continue;
      double *out = stats.hessian.data() + i * cols;
      for (int64_t j = i; j < cols; ++j)
        out[j] += xi * row[j];
    }
  }
  for (int64_t i = 0; i < cols; ++i)
    for (int64_t j = 0; j < i; ++j)
      stats.hessian[i * cols + j] = stats.hessian[j * cols + i];
  stats.tokens = total;
  for (int64_t c = 0; c < cols; ++c)
    stats.meanAbs[c] = absSum[c] / static_cast<double>(total);
}

llvm::Error
mlir::microscale::quant::verifyStatistics(const InputStatistics &stats,
                                          int64_t cols) {
  auto fail = [](const llvm::Twine &message) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
  };
  if (stats.cols != cols)
    return fail(llvm::formatv("calibration statistics have {0} input "
                              "channels, the weight has {1}",
                              stats.cols, cols)
                    .str());
  if (static_cast<int64_t>(stats.hessian.size()) != cols * cols)
    return fail(llvm::formatv("calibration Hessian has {0} entries, "
                              "expected {1} x {1}",
                              stats.hessian.size(), cols)
                    .str());
  if (static_cast<int64_t>(stats.meanAbs.size()) != cols)
    return fail(llvm::formatv("calibration mean |x| has {0} entries, "
                              "expected {1}",
                              stats.meanAbs.size(), cols)
                    .str());
  if (stats.tokens <= 0)
    return fail("calibration statistics hold no tokens");
  for (int64_t i = 0; i < cols * cols; ++i)
    if (!std::isfinite(stats.hessian[i]))
      return fail(llvm::formatv("calibration Hessian entry ({0}, {1}) is not "
                                "finite",
                                i / cols, i % cols)
                      .str());
  for (int64_t c = 0; c < cols; ++c) {
    if (stats.at(c, c) < 0.0)
      return fail(llvm::formatv("calibration Hessian diagonal entry {0} is "
                                "negative",
                                c)
                      .str());
    if (!std::isfinite(stats.meanAbs[c]) || stats.meanAbs[c] < 0.0)
      return fail(llvm::formatv("calibration mean |x| of channel {0} is not "
                                "a finite non-negative number",
                                c)
                      .str());
  }
  return llvm::Error::success();
}
