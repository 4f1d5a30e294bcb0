//===- OutputError.cpp - a linear's output error from its input Hessian ---===//
//
// Part of the Microscale project.
//
// ||X W^T - X Q^T||^2 summed over calibration tokens equals
// tr(dW H dW^T) with H = X^T X: the measure every calibrated method
// minimizes, computable without keeping the activations.
//
//===----------------------------------------------------------------------===//

#include "microscale/Quant/Calibrated.h"

#include "DotProduct.h"

#include <cassert>

using namespace mlir::microscale::quant;

double mlir::microscale::quant::rowOutputError(const InputStatistics &stats,
                                               const double *d) {
  // H is symmetric: the diagonal plus twice the upper triangle halves the
  // work of the full quadratic form.
  const int64_t cols = stats.cols;
  double diagonal = 0.0, offDiagonal = 0.0;
  for (int64_t i = 0; i < cols; ++i) {
    double di = d[i];
    if (di == 0.0)
      continue;
    const double *h = stats.hessian.data() + i * cols;
    diagonal += h[i] * di * di;
    offDiagonal += di * detail::dotProduct(h + i + 1, d + i + 1, cols - i - 1);
  }
  return diagonal + 2.0 * offDiagonal;
}

std::vector<double> mlir::microscale::quant::outputErrorPerRow(
    llvm::ArrayRef<float> weights, llvm::ArrayRef<float> reference,
    int64_t rows, const InputStatistics &stats) {
  const int64_t cols = stats.cols;
  assert(static_cast<int64_t>(weights.size()) == rows * cols &&
         weights.size() == reference.size());
  std::vector<double> errors(rows), d(cols);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c)
      d[c] = static_cast<double>(weights[r * cols + c]) -
             static_cast<double>(reference[r * cols + c]);
    errors[r] = rowOutputError(stats, d.data());
  }
  return errors;
}

double mlir::microscale::quant::outputError(llvm::ArrayRef<float> weights,
                                            llvm::ArrayRef<float> reference,
                                            int64_t rows,
                                            const InputStatistics &stats) {
  double total = 0.0;
  for (double error : outputErrorPerRow(weights, reference, rows, stats))
    total += error;
  return total;
}

double mlir::microscale::quant::outputError(llvm::ArrayRef<float> weights,
                                            const QuantizedMatrix &quantized,
                                            const InputStatistics &stats) {
  assert(quantized.cols == stats.cols);
  return outputError(weights, dequantize(quantized), quantized.rows, stats);
}
