//===- Calibrated.h - calibration-aware weight quantization -----*- C++ -*-===//
//
// Part of the Microscale project.
//
// Quantization methods that look at what a linear's input looks like on
// calibration text, not only at its weights. They all minimize the same
// thing: the linear's output error on the calibration tokens,
//
//   ||X W^T - X Q^T||^2 = tr(dW H dW^T),  dW = W - Q,  H = X^T X,
//
// so they only need H (and the mean |x| per input channel), never X itself.
// Every method returns the storage of `Quant.h` (or parameters that feed
// it), so a calibrated matrix is read by the same kernels and reference
// interpreter as a round-to-nearest one. The methods compose in the order
// the issue asks for: activation-aware scales (AWQ family), then a clip
// search, then error-compensating rounding (GPTQ family).
//
// No MLIR here: matrices are row-major `[rows (out), cols (in)]` floats and
// groups run along the input dimension (the last one may be a tail group).
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_QUANT_CALIBRATED_H
#define MICROSCALE_QUANT_CALIBRATED_H

#include "microscale/Quant/Quant.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <vector>

namespace mlir::microscale::quant {

/// What calibration measured at the input X ([tokens, cols]) of a linear.
struct InputStatistics {
  int64_t cols = 0;
  /// H = X^T X, [cols, cols] row-major (symmetric).
  std::vector<double> hessian;
  /// Mean |x| per input channel, [cols].
  std::vector<double> meanAbs;
  /// Number of tokens (rows of X) summed into `hessian`.
  int64_t tokens = 0;

  double at(int64_t i, int64_t j) const { return hessian[i * cols + j]; }
};

/// Accumulates `tokens` rows of X ([tokens, cols] row-major) into `stats`
/// (which must have `stats.cols == cols`; empty vectors are sized here).
void accumulateStatistics(InputStatistics &stats, llvm::ArrayRef<float> x,
                          int64_t tokens);

/// Checks that `stats` fits a matrix with `cols` input features: sizes,
/// finite values, a non-negative diagonal. The methods below assume it
/// holds (they assert); a pass calls this first and reports the message.
llvm::Error verifyStatistics(const InputStatistics &stats, int64_t cols);

//===----------------------------------------------------------------------===//
// Output error
//===----------------------------------------------------------------------===//

/// d^T H d for one row difference `d` (cols values).
double rowOutputError(const InputStatistics &stats, const double *d);

/// Output error of replacing `weights` by `reference` (both [rows, cols]):
/// one tr(dW H dW^T) term per row.
std::vector<double> outputErrorPerRow(llvm::ArrayRef<float> weights,
                                      llvm::ArrayRef<float> reference,
                                      int64_t rows,
                                      const InputStatistics &stats);
/// Their sum, the squared Frobenius norm of the output difference summed
/// over the calibration tokens.
double outputError(llvm::ArrayRef<float> weights,
                   llvm::ArrayRef<float> reference, int64_t rows,
                   const InputStatistics &stats);
/// The output error of a quantized matrix against its float weights.
double outputError(llvm::ArrayRef<float> weights,
                   const QuantizedMatrix &quantized,
                   const InputStatistics &stats);

//===----------------------------------------------------------------------===//
// Explicit group parameters
//===----------------------------------------------------------------------===//

/// Round-to-nearest of `weights` with given group parameters ([rows,
/// groups], e.g. from `searchClipping`), in the storage of `Quant.h`.
/// (`allGroupParams` reads them back from a matrix.)
QuantizedMatrix quantizeWithGroupParams(llvm::ArrayRef<float> weights,
                                        int64_t rows, int64_t cols,
                                        const Format &format,
                                        llvm::ArrayRef<GroupParams> params);
std::vector<GroupParams> allGroupParams(const QuantizedMatrix &matrix);

//===----------------------------------------------------------------------===//
// Clip search
//===----------------------------------------------------------------------===//

struct ClipSearchOptions {
  /// Ratios tried: 1, 1 - step, ..., down to `minRatio` (steps + 1 values).
  int steps = 20;
  float minRatio = 0.5f;
  /// Asymmetric formats: after the shared ratio, also shrink the minimum
  /// and the maximum of each group separately, within `endsWindow` grid
  /// steps of the shared ratio.
  bool separateEnds = true;
  int endsWindow = 6;
  /// Score candidates with the full H of the row (groups interact through
  /// the off-diagonal blocks) rather than only its diagonal. Full H costs
  /// O(steps * cols * groupSize) per row; whole-row groups make that
  /// O(steps * cols^2).
  bool fullHessian = true;
  /// Passes over the groups of a row (with full H, a group's best ratio
  /// depends on the others'). Passes after the first search
  /// `refineWindow` grid steps either side of each group's ratio.
  int sweeps = 2;
  int refineWindow = 2;
};

struct ClipSearchResult {
  /// [rows, groups] ratios for `RoundToNearestOptions::clipRatios`: the
  /// shared ratio of each group (exact when `separateEnds` changed nothing).
  std::vector<float> clipRatios;
  /// [rows, groups] chosen parameters (ratios and separate ends applied);
  /// feed `quantizeWithGroupParams` or `GPTQOptions::groupParams`.
  std::vector<GroupParams> params;
};

/// Per-group clipping that minimizes the output error of round-to-nearest
/// under H. Never worse than no clipping on the calibration statistics (by
/// the measure searched, full H or its diagonal): ratio 1 is a candidate
/// and a change is kept only when it lowers the row's error.
ClipSearchResult searchClipping(llvm::ArrayRef<float> weights, int64_t rows,
                                int64_t cols, const Format &format,
                                const InputStatistics &stats,
                                const ClipSearchOptions &options = {});

//===----------------------------------------------------------------------===//
// GPTQ
//===----------------------------------------------------------------------===//

struct GPTQOptions {
  /// Added to H's diagonal, as a fraction of its mean.
  double dampening = 0.01;
  /// Quantize columns in order of decreasing H_ii (their input energy), so
  /// the important columns are rounded while the most columns are left to
  /// absorb their error. Group parameters are then fixed up front ("static
  /// groups"), since groups stay contiguous in the original column order.
  bool actOrder = true;
  /// Columns updated eagerly before the rest of the row is updated at once.
  int64_t blockSize = 128;
  /// Empty, or [rows, groups] group parameters to use as they are (e.g.
  /// from `searchClipping`). Otherwise: with `actOrder`, round-to-nearest
  /// parameters of the original weights (times `clipRatios`); without,
  /// parameters of each group's error-updated weights when its first column
  /// comes up (times `clipRatios`, or searched when `searchGroupClip`).
  llvm::ArrayRef<GroupParams> groupParams;
  llvm::ArrayRef<float> clipRatios;
  /// Without given parameters and without act order, choose each group's
  /// clip ratio when it comes up by the error GPTQ attributes to its
  /// columns, sum ((w - q) / U_ii)^2.
  bool searchGroupClip = true;
};

/// The factor GPTQ (and SparseGPT) update with: U upper triangular,
/// `[cols, cols]` row-major, with U^T U = (H_P + lambda I)^-1 for H_P the
/// Hessian with rows and columns in `order` (a permutation of the columns)
/// and lambda `dampening` times H's mean diagonal. Row i of U spreads the
/// error of the i-th column visited over the columns visited after it.
/// Never fails: when H cannot be factored even with more dampening, U is
/// diagonal (1 / sqrt(H_ii)), which compensates nothing.
std::vector<float> inverseHessianFactor(const InputStatistics &stats,
                                        llvm::ArrayRef<int64_t> order,
                                        double dampening);

/// Error-compensating rounding (GPTQ, Frantar et al. 2022): each column is
/// rounded in turn and its error is spread over the columns not yet
/// rounded, in proportion to how their inputs correlate (through the
/// Cholesky factor of H^-1).
QuantizedMatrix quantizeGPTQ(llvm::ArrayRef<float> weights, int64_t rows,
                             int64_t cols, const Format &format,
                             const InputStatistics &stats,
                             const GPTQOptions &options = {});

//===----------------------------------------------------------------------===//
// Scale refit
//===----------------------------------------------------------------------===//

/// With the codes fixed, the output error is a quadratic in each row's
/// group scales: refits them by least squares under H, rounded to
/// `format.scale` (asymmetric formats also try zero points from a joint
/// scale-and-offset fit), and keeps a row's new parameters only when they
/// lower its error. Codes never change. Returns the output error removed.
double refitScales(llvm::ArrayRef<float> weights, QuantizedMatrix &quantized,
                   const InputStatistics &stats);

//===----------------------------------------------------------------------===//
// Code descent
//===----------------------------------------------------------------------===//

/// With the group parameters fixed, moves single codes one step up or down
/// wherever that lowers the row's output error under H, sweeping each row
/// until no step helps (at most `maxSweeps` times). Never raises the error;
/// returns the error removed.
double descendCodes(llvm::ArrayRef<float> weights, QuantizedMatrix &quantized,
                    const InputStatistics &stats, int maxSweeps = 4);

//===----------------------------------------------------------------------===//
// The methods in order
//===----------------------------------------------------------------------===//

/// Which of the methods that keep the weights' input scaling to run, in
/// the order they compose (activation-aware scales change the problem and
/// the op before it, so the caller applies them first).
struct CalibratedOptions {
  bool clipSearch = true;
  ClipSearchOptions clip;
  bool gptq = true;
  /// `groupParams` and `clipRatios` are filled in from the clip search.
  GPTQOptions gptqOptions;
  bool refitScales = true;
  /// With the refit: a code descent after each refit, then the scales
  /// refitted again for the codes it moved.
  bool codeDescent = true;
  /// With GPTQ and the refit: rounds of GPTQ from the previous round's
  /// refitted scales (each row keeps its best round).
  int rounds = 2;
};

/// Clip search, then GPTQ starting from its parameters, then a scale
/// refit (and further rounds of GPTQ and refit), as `options` asks; plain
/// round-to-nearest when it asks nothing.
QuantizedMatrix quantizeCalibrated(llvm::ArrayRef<float> weights, int64_t rows,
                                   int64_t cols, const Format &format,
                                   const InputStatistics &stats,
                                   const CalibratedOptions &options = {});

//===----------------------------------------------------------------------===//
// Activation-aware scaling
//===----------------------------------------------------------------------===//

/// One linear reading the shared input.
struct SharedInputLinear {
  llvm::ArrayRef<float> weights;
  int64_t rows = 0;
  Format format;
};

struct ActivationScaleOptions {
  /// Exponents tried for s = meanAbs^alpha: 0, 1/steps, ..., 1.
  int steps = 20;
  /// Each linear's error is measured on at most this many of its rows,
  /// evenly spread (0 = all): one exponent for a whole matrix needs no
  /// more, and a 32000-row logits projection would otherwise dominate.
  int64_t maxScoredRows = 4096;
};

/// Activation-aware scaling (AWQ, Lin et al. 2023): per-input-channel
/// scales s that minimize the summed output error of round-to-nearest of
/// W diag(s) for all `linears`, their input being X diag(1/s). The caller
/// folds 1/s into the op producing X (a norm's weight, or the rows of the
/// previous projection). All ones when no exponent beats alpha = 0.
std::vector<float>
searchActivationScales(llvm::ArrayRef<SharedInputLinear> linears,
                       const InputStatistics &stats,
                       const ActivationScaleOptions &options = {});

/// W diag(s) ([rows, cols]).
std::vector<float> scaleWeights(llvm::ArrayRef<float> weights, int64_t rows,
                                llvm::ArrayRef<float> scales);
/// The statistics of X diag(1/s): H' = diag(1/s) H diag(1/s), meanAbs / s.
InputStatistics scaleStatistics(const InputStatistics &stats,
                                llvm::ArrayRef<float> scales);

} // namespace mlir::microscale::quant

#endif // MICROSCALE_QUANT_CALIBRATED_H
