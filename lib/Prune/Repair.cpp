//===- Repair.cpp - removing columns of a projection, and repairing it ----===//
//
// Part of the Microscale project.
//
// Output errors, the ridge refit of the kept columns and the cost of
// removing a group of columns all come from H = X^T X. The matrices are
// small (an attention output or MLP hidden width), so a dense Cholesky
// factorization does all the solving.
//
//===----------------------------------------------------------------------===//

#include "microscale/Prune/Prune.h"

#include <cassert>
#include <cmath>
#include <limits>

using namespace mlir::microscale;
using namespace mlir::microscale::prune;

namespace {

/// Factors the symmetric `[n, n]` matrix `a` in place into its lower
/// Cholesky factor; false when it is not positive definite.
bool cholesky(std::vector<double> &a, int64_t n) {
  for (int64_t j = 0; j < n; ++j) {
    double diagonal = a[j * n + j];
    for (int64_t k = 0; k < j; ++k)
      diagonal -= a[j * n + k] * a[j * n + k];
    if (!(diagonal > 0.0) || !std::isfinite(diagonal))
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

/// Solves L L^T x = b in place for the factor `l` of choleskyInPlace.
void choleskySolve(const std::vector<double> &l, int64_t n, double *b) {
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

/// The inverse of the symmetric positive definite `[n, n]` matrix `a`.
std::optional<std::vector<double>> inverse(std::vector<double> a, int64_t n) {
  if (!cholesky(a, n))
    return std::nullopt;
  std::vector<double> result(n * n, 0.0), column(n);
  for (int64_t j = 0; j < n; ++j) {
    std::fill(column.begin(), column.end(), 0.0);
    column[j] = 1.0;
    choleskySolve(a, n, column.data());
    for (int64_t i = 0; i < n; ++i)
      result[i * n + j] = column[i];
  }
  return result;
}

/// H + lambda I with lambda = `dampening` times H's mean diagonal (a tiny
/// absolute ridge when the diagonal is all zero).
std::vector<double> damped(llvm::ArrayRef<double> hessian, int64_t n,
                           double dampening) {
  double mean = 0.0;
  for (int64_t i = 0; i < n; ++i)
    mean += hessian[i * n + i];
  mean /= static_cast<double>(n);
  double lambda = mean > 0.0 ? dampening * mean : 1e-12;
  std::vector<double> result(hessian.begin(), hessian.end());
  for (int64_t i = 0; i < n; ++i)
    result[i * n + i] += lambda;
  return result;
}

/// d^T H d.
double quadraticForm(llvm::ArrayRef<double> hessian, const double *d,
                     int64_t n) {
  double total = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    if (d[i] == 0.0)
      continue;
    const double *row = hessian.data() + i * n;
    double sum = 0.0;
    for (int64_t j = 0; j < n; ++j)
      sum += row[j] * d[j];
    total += d[i] * sum;
  }
  return total;
}

} // namespace

std::vector<float> prune::selectColumns(llvm::ArrayRef<float> w, int64_t rows,
                                        int64_t cols,
                                        llvm::ArrayRef<int64_t> kept) {
  assert(static_cast<int64_t>(w.size()) == rows * cols);
  std::vector<float> result;
  result.reserve(rows * kept.size());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c : kept)
      result.push_back(w[r * cols + c]);
  return result;
}

std::vector<float> prune::selectRows(llvm::ArrayRef<float> w, int64_t cols,
                                     llvm::ArrayRef<int64_t> kept) {
  std::vector<float> result;
  result.reserve(cols * kept.size());
  for (int64_t r : kept)
    result.insert(result.end(), w.begin() + r * cols,
                  w.begin() + (r + 1) * cols);
  return result;
}

std::vector<int64_t> prune::expandGroups(llvm::ArrayRef<int64_t> groups,
                                         int64_t groupSize) {
  std::vector<int64_t> result;
  for (int64_t group : groups)
    for (int64_t i = 0; i < groupSize; ++i)
      result.push_back(group * groupSize + i);
  return result;
}

double prune::columnPruningError(llvm::ArrayRef<float> w, int64_t rows,
                                 int64_t cols, llvm::ArrayRef<double> hessian,
                                 llvm::ArrayRef<int64_t> kept,
                                 llvm::ArrayRef<float> pruned) {
  // The difference W - W' P on all columns (a removed column keeps all of
  // W's value) avoids cancelling large traces against each other.
  const int64_t k = kept.size();
  std::vector<double> d(cols);
  double total = 0.0;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c)
      d[c] = w[r * cols + c];
    for (int64_t j = 0; j < k; ++j)
      d[kept[j]] -= pruned[r * k + j];
    total += quadraticForm(hessian, d.data(), cols);
  }
  return total;
}

std::optional<std::vector<float>>
prune::refitColumns(llvm::ArrayRef<float> w, int64_t rows, int64_t cols,
                    llvm::ArrayRef<double> hessian,
                    llvm::ArrayRef<int64_t> kept, double lambda) {
  const int64_t k = kept.size();
  std::vector<double> a(k * k);
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < k; ++j)
      a[i * k + j] = hessian[kept[i] * cols + kept[j]] + (i == j ? lambda : 0);
  if (!cholesky(a, k))
    return std::nullopt;
  std::vector<float> result(rows * k);
  std::vector<double> b(k);
  for (int64_t r = 0; r < rows; ++r) {
    // b = (W H[:,S]) row r; H is symmetric, so H[:,S] column j is row S_j.
    for (int64_t j = 0; j < k; ++j) {
      const double *h = hessian.data() + kept[j] * cols;
      double sum = 0.0;
      for (int64_t c = 0; c < cols; ++c)
        sum += static_cast<double>(w[r * cols + c]) * h[c];
      b[j] = sum;
    }
    choleskySolve(a, k, b.data());
    for (int64_t j = 0; j < k; ++j)
      result[r * k + j] = static_cast<float>(b[j]);
  }
  return result;
}

ColumnRepair prune::pruneColumns(llvm::ArrayRef<float> w, int64_t rows,
                                 int64_t cols, llvm::ArrayRef<double> hessian,
                                 llvm::ArrayRef<int64_t> kept, bool refit,
                                 double dampening) {
  ColumnRepair repair;
  repair.weights = selectColumns(w, rows, cols, kept);
  repair.unrefitError = repair.error =
      columnPruningError(w, rows, cols, hessian, kept, repair.weights);
  if (!refit || kept.empty())
    return repair;
  double mean = 0.0;
  for (int64_t c : kept)
    mean += hessian[c * cols + c];
  mean /= static_cast<double>(kept.size());
  double lambda = mean > 0.0 ? dampening * mean : 1e-12;
  std::optional<std::vector<float>> refitted =
      refitColumns(w, rows, cols, hessian, kept, lambda);
  if (!refitted)
    return repair;
  double error = columnPruningError(w, rows, cols, hessian, kept, *refitted);
  if (!(error < repair.unrefitError))
    return repair; // Never worse than the plain cut.
  repair.weights = std::move(*refitted);
  repair.error = error;
  repair.refit = true;
  return repair;
}

/// ||X W^T - Z P^T||^2 = tr(W Hx W^T) - 2 tr(W C P^T) + tr(P Hz P^T) for
/// the pruned `p` (`[rows, k]`).
static double targetError(llvm::ArrayRef<float> w, int64_t rows, int64_t n,
                          llvm::ArrayRef<double> targetGram,
                          llvm::ArrayRef<double> cross,
                          llvm::ArrayRef<double> gram, llvm::ArrayRef<float> p,
                          int64_t k) {
  std::vector<double> wRow(n), pRow(k), wc(k);
  double total = 0.0;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t i = 0; i < n; ++i)
      wRow[i] = w[r * n + i];
    for (int64_t j = 0; j < k; ++j)
      pRow[j] = p[r * k + j];
    std::fill(wc.begin(), wc.end(), 0.0);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < k; ++j)
        wc[j] += wRow[i] * cross[i * k + j];
    double crossTerm = 0.0;
    for (int64_t j = 0; j < k; ++j)
      crossTerm += wc[j] * pRow[j];
    total += quadraticForm(targetGram, wRow.data(), n) - 2.0 * crossTerm +
             quadraticForm(gram, pRow.data(), k);
  }
  return total;
}

ColumnRepair prune::pruneColumnsTowardTarget(llvm::ArrayRef<float> w,
                                             int64_t rows, int64_t n,
                                             llvm::ArrayRef<double> targetGram,
                                             llvm::ArrayRef<double> cross,
                                             llvm::ArrayRef<double> gram,
                                             llvm::ArrayRef<int64_t> kept,
                                             bool refit, double dampening) {
  const int64_t k = kept.size();
  ColumnRepair repair;
  repair.weights = selectColumns(w, rows, n, kept);
  repair.unrefitError = repair.error =
      targetError(w, rows, n, targetGram, cross, gram, repair.weights, k);
  if (!refit || k == 0)
    return repair;
  double mean = 0.0;
  for (int64_t j = 0; j < k; ++j)
    mean += gram[j * k + j];
  mean /= static_cast<double>(k);
  std::vector<double> a(gram.begin(), gram.end());
  for (int64_t j = 0; j < k; ++j)
    a[j * k + j] += mean > 0.0 ? dampening * mean : 1e-12;
  if (!cholesky(a, k))
    return repair;
  std::vector<float> refitted(rows * k);
  std::vector<double> b(k);
  for (int64_t r = 0; r < rows; ++r) {
    std::fill(b.begin(), b.end(), 0.0);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < k; ++j)
        b[j] += static_cast<double>(w[r * n + i]) * cross[i * k + j];
    choleskySolve(a, k, b.data());
    for (int64_t j = 0; j < k; ++j)
      refitted[r * k + j] = static_cast<float>(b[j]);
  }
  double error = targetError(w, rows, n, targetGram, cross, gram, refitted, k);
  if (!(error < repair.unrefitError))
    return repair;
  repair.weights = std::move(refitted);
  repair.error = error;
  repair.refit = true;
  return repair;
}

std::vector<double>
prune::groupRemovalErrors(llvm::ArrayRef<float> w, int64_t rows, int64_t cols,
                          llvm::ArrayRef<double> hessian, int64_t groupSize,
                          bool compensated, double dampening) {
  assert(groupSize > 0 && cols % groupSize == 0);
  const int64_t groups = cols / groupSize;
  std::vector<double> errors(groups, 0.0);
  std::optional<std::vector<double>> hessianInverse;
  if (compensated)
    hessianInverse = inverse(damped(hessian, cols, dampening), cols);
  // The quadratic form of each group's block: H[R,R] uncompensated,
  // ([H^-1]_RR)^-1 compensated (which falls back to H[R,R] when the damped
  // H cannot be inverted).
  std::vector<double> block(groupSize * groupSize), d(groupSize);
  for (int64_t g = 0; g < groups; ++g) {
    const int64_t first = g * groupSize;
    for (int64_t i = 0; i < groupSize; ++i)
      for (int64_t j = 0; j < groupSize; ++j)
        block[i * groupSize + j] =
            hessianInverse ? (*hessianInverse)[(first + i) * cols + first + j]
                           : hessian[(first + i) * cols + first + j];
    if (hessianInverse) {
      std::optional<std::vector<double>> blockInverse =
          inverse(block, groupSize);
      if (!blockInverse) {
        errors[g] = std::numeric_limits<double>::infinity();
        continue;
      }
      block = std::move(*blockInverse);
    }
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t i = 0; i < groupSize; ++i)
        d[i] = w[r * cols + first + i];
      errors[g] += quadraticForm(block, d.data(), groupSize);
    }
  }
  return errors;
}

std::vector<int64_t> prune::greedyColumnRemoval(llvm::ArrayRef<float> w,
                                                int64_t rows, int64_t cols,
                                                llvm::ArrayRef<double> hessian,
                                                int64_t count,
                                                double dampening) {
  std::vector<int64_t> order;
  std::optional<std::vector<double>> inverseOrNone =
      inverse(damped(hessian, cols, dampening), cols);
  if (!inverseOrNone)
    return order;
  std::vector<double> &hinv = *inverseOrNone;
  std::vector<double> current(w.begin(), w.end());
  std::vector<bool> removed(cols, false);
  for (int64_t step = 0; step < count && step < cols; ++step) {
    // The cost of removing column c with the others refit:
    // sum_r W[r,c]^2 / [H^-1]_cc.
    int64_t best = -1;
    double bestCost = std::numeric_limits<double>::infinity();
    for (int64_t c = 0; c < cols; ++c) {
      if (removed[c] || !(hinv[c * cols + c] > 0.0))
        continue;
      double sum = 0.0;
      for (int64_t r = 0; r < rows; ++r)
        sum += current[r * cols + c] * current[r * cols + c];
      double cost = sum / hinv[c * cols + c];
      if (cost < bestCost) {
        bestCost = cost;
        best = c;
      }
    }
    if (best < 0)
      break;
    // The refit moves W[r,c]'s contribution onto the columns correlated
    // with c; then c leaves H^-1 (a Schur complement update).
    double pivot = hinv[best * cols + best];
    for (int64_t r = 0; r < rows; ++r) {
      double factor = current[r * cols + best] / pivot;
      for (int64_t c = 0; c < cols; ++c)
        current[r * cols + c] -= factor * hinv[best * cols + c];
    }
    std::vector<double> pivotRow(hinv.begin() + best * cols,
                                 hinv.begin() + (best + 1) * cols);
    for (int64_t i = 0; i < cols; ++i) {
      double factor = pivotRow[i] / pivot;
      for (int64_t j = 0; j < cols; ++j)
        hinv[i * cols + j] -= factor * pivotRow[j];
    }
    removed[best] = true;
    order.push_back(best);
  }
  return order;
}
