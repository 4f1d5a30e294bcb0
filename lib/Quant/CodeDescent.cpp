//===- CodeDescent.cpp - codes moved one step where the error drops -------===//
//
// Part of the Microscale project.
//
// GPTQ rounds each column once, in order, and never revisits a choice; the
// scale refit then moves the grid under the codes it picked. Either can
// leave single codes whose neighbour is closer in the output-error metric
// tr(dW H dW^T). With the residual r = w - q of a row and g = H r, moving
// one code so that q_j changes by delta changes the error by
//
//   -2 delta g_j + delta^2 H_jj,
//
// an O(1) test, and an accepted move updates g in O(cols). Sweeping the
// columns until no move helps is coordinate descent on the codes: it never
// raises the error, and it stops at a point no single step improves.
//
//===----------------------------------------------------------------------===//

#include "microscale/Quant/Calibrated.h"

#include "DotProduct.h"

#include <cassert>
#include <cmath>

using namespace mlir::microscale::quant;

namespace {

/// One row's descent state: its dequantized values, residual and H r.
class RowDescent {
public:
  RowDescent(QuantizedMatrix &q, int64_t row, const float *w,
             const InputStatistics &stats)
      : q(q), row(row), stats(stats), cols(q.cols), values(cols),
        residual(cols), gradient(cols) {
    dequantizeRow(q, row, values.data());
    for (int64_t c = 0; c < cols; ++c)
      residual[c] = static_cast<double>(w[c]) - values[c];
    for (int64_t i = 0; i < cols; ++i)
      gradient[i] = detail::dotProduct(stats.hessian.data() + i * cols,
                                       residual.data(), cols);
  }

  /// One pass over the columns; returns the error removed.
  double sweep() {
    const int64_t size = q.format.groupSize(cols);
    const int64_t rowBytes = q.format.rowBytes(cols);
    double removed = 0.0;
    for (int64_t c = 0; c < cols; ++c) {
      GroupParams params = groupParams(q, row, c / size);
      if (!(params.scale > 0.0f))
        continue;
      int32_t code = q.code(row, c);
      for (int step : {1, -1}) {
        int32_t next = code + step;
        if (next < q.format.minCode() || next > q.format.maxCode())
          continue;
        float value = dequantizeValue(next, params);
        double delta = static_cast<double>(value) - values[c];
        double change = delta * (delta * stats.at(c, c) - 2.0 * gradient[c]);
        // Strictly better beyond rounding noise, so sweeps cannot cycle.
        if (!(change < -1e-12 * (std::fabs(2.0 * delta * gradient[c]) +
                                 delta * delta * stats.at(c, c))))
          continue;
        storeCode(q.packed.data() + row * rowBytes, q.format.bits, c, next);
        values[c] = value;
        residual[c] -= delta;
        const double *h = stats.hessian.data() + c * cols;
        for (int64_t i = 0; i < cols; ++i)
          gradient[i] -= delta * h[i];
        removed -= change;
        break;
      }
    }
    return removed;
  }

private:
  QuantizedMatrix &q;
  int64_t row;
  const InputStatistics &stats;
  int64_t cols;
  std::vector<float> values;
  std::vector<double> residual, gradient;
};

} // namespace

double mlir::microscale::quant::descendCodes(llvm::ArrayRef<float> weights,
                                             QuantizedMatrix &quantized,
                                             const InputStatistics &stats,
                                             int maxSweeps) {
  const int64_t cols = quantized.cols;
  assert(stats.cols == cols &&
         static_cast<int64_t>(weights.size()) == quantized.rows * cols);
  double removed = 0.0;
  for (int64_t r = 0; r < quantized.rows; ++r) {
    RowDescent descent(quantized, r, weights.data() + r * cols, stats);
    for (int sweep = 0; sweep < maxSweeps; ++sweep) {
      double step = descent.sweep();
      removed += step;
      if (step == 0.0)
        break;
    }
  }
  return removed;
}
