//===- EvalReport.h - the row `microscale eval` prints ----------*- C++ -*-===//
//
// Part of the Microscale project.
//
// One evaluation of a compressed model against its float original: quality
// on the same ids, sizes and speed. `eval` prints one row; a sweep prints
// many, so the printers take rows and the columns are listed once
// (`columnsOf`), in the order every format prints them.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_TOOLS_EVALREPORT_H
#define MICROSCALE_TOOLS_EVALREPORT_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <string>

namespace mlir::microscale::driver {

/// Perplexity and distribution agreement of the compressed program against
/// the float one, over the same scored positions.
struct EvalQuality {
  int64_t tokens = 0; // scored positions
  double floatPerplexity = 0, compressedPerplexity = 0;
  double meanKL = 0;        // mean KL(float || compressed), nats
  double top1Agreement = 0; // fraction of positions with equal argmax
};

/// Medians of `bench` at one thread.
struct EvalSpeed {
  double prefillTokensPerSecond = 0, decodeTokensPerSecond = 0;
};

struct EvalRow {
  std::string model, compression;
  int64_t ctx = 0;
  EvalQuality quality;
  int64_t floatWeightBytes = 0, compressedWeightBytes = 0;
  /// Elements of the float model's weight tensors.
  int64_t weightParameters = 0;
  int64_t floatExecutableBytes = 0, compressedExecutableBytes = 0;
  EvalSpeed floatSpeed, compressedSpeed;

  /// (compressed PPL / float PPL - 1) x 100.
  double deltaPerplexityPercent() const;
  /// Compressed weight bytes x 8 / weight parameters of the float model.
  double bitsPerWeight() const;
};

enum class EvalFormat { Table, JSON, CSV };

/// Prints rows as an aligned table (header line, one line per row), JSON
/// lines (one object per row) or CSV (header, one line per row).
void printEvalRows(llvm::ArrayRef<EvalRow> rows, EvalFormat format,
                   llvm::raw_ostream &os);

} // namespace mlir::microscale::driver

#endif // MICROSCALE_TOOLS_EVALREPORT_H
