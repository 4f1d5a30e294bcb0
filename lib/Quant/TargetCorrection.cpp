//===- TargetCorrection.cpp - quantize toward the float output --*- C++ -*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#include "microscale/Quant/TargetCorrection.h"

#include <cassert>
#include <cmath>

using namespace mlir::microscale::quant;

void mlir::microscale::quant::accumulateCrossStatistics(
    std::vector<double> &cross, llvm::ArrayRef<float> quantizedInput,
    llvm::ArrayRef<float> floatInput, int64_t tokens, int64_t cols) {
  assert(static_cast<int64_t>(quantizedInput.size()) == tokens * cols &&
         static_cast<int64_t>(floatInput.size()) == tokens * cols);
  if (cross.empty())
    cross.assign(cols * cols, 0.0);
  for (int64_t t = 0; t < tokens; ++t) {
    const float *q = quantizedInput.data() + t * cols;
    const float *x = floatInput.data() + t * cols;
    for (int64_t i = 0; i < cols; ++i) {
      double qi = q[i];
      double *row = cross.data() + i * cols;
      for (int64_t j = 0; j < cols; ++j)
        row[j] += qi * x[j];
    }
  }
}

/// In-place Cholesky factor L (lower) of the symmetric [n, n] matrix `a`;
/// false when it is not positive definite.
static bool choleskyFactor(std::vector<double> &a, int64_t n) {
  for (int64_t j = 0; j < n; ++j) {
    double diagonal = a[j * n + j];
    for (int64_t k = 0; k < j; ++k)
      diagonal -= a[j * n + k] * a[j * n + k];
    if (!(diagonal > 0.0))
      return false;
    double root = std::sqrt(diagonal);
    a[j * n + j] = root;
    for (int64_t i = j + 1; i < n; ++i) {
      double sum = a[i * n + j];
      for (int64_t k = 0; k < j; ++k)
        sum -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = sum / root;
    }
  }
  return true;
}

/// Solves L L^T x = b in place with the factor of choleskyFactor.
static void choleskySolve(const std::vector<double> &l, int64_t n, double *b) {
  for (int64_t i = 0; i < n; ++i) {
    double sum = b[i];
    for (int64_t k = 0; k < i; ++k)
      sum -= l[i * n + k] * b[k];
    b[i] = sum / l[i * n + i];
  }
  for (int64_t i = n - 1; i >= 0; --i) {
    double sum = b[i];
    for (int64_t k = i + 1; k < n; ++k)
      sum -= l[k * n + i] * b[k];
    b[i] = sum / l[i * n + i];
  }
}

std::vector<float> mlir::microscale::quant::correctTarget(
    llvm::ArrayRef<float> weights, int64_t rows, int64_t cols,
    llvm::ArrayRef<double> quantizedHessian, llvm::ArrayRef<double> cross,
    double dampening) {
  std::vector<float> result(weights.begin(), weights.end());
  if (static_cast<int64_t>(quantizedHessian.size()) != cols * cols ||
      static_cast<int64_t>(cross.size()) != cols * cols)
    return result;
  std::vector<double> factor(quantizedHessian.begin(), quantizedHessian.end());
  double meanDiagonal = 0.0;
  for (int64_t i = 0; i < cols; ++i)
    meanDiagonal += factor[i * cols + i];
  meanDiagonal /= cols;
  if (!(meanDiagonal > 0.0))
    return result;
  double lambda = dampening * meanDiagonal;
  for (int64_t i = 0; i < cols; ++i)
    factor[i * cols + i] += lambda;
  if (!choleskyFactor(factor, cols))
    return result;
  // w* = (H~ + lambda I)^-1 (C w + lambda w) for each row w: the ridge
  // pulls toward W, not toward 0, so that an unchanged input (C = H~)
  // leaves W exactly as it is.
  std::vector<double> column(cols);
  for (int64_t r = 0; r < rows; ++r) {
    const float *w = weights.data() + r * cols;
    for (int64_t i = 0; i < cols; ++i) {
      double sum = 0.0;
      for (int64_t j = 0; j < cols; ++j)
        sum += cross[i * cols + j] * w[j];
      column[i] = sum + lambda * w[i];
    }
    choleskySolve(factor, cols, column.data());
    bool finite = true;
    for (int64_t i = 0; i < cols; ++i)
      finite &= std::isfinite(column[i]);
    if (!finite)
      continue;
    for (int64_t i = 0; i < cols; ++i)
      result[r * cols + i] = static_cast<float>(column[i]);
  }
  return result;
}
