//===- EvalReport.cpp - the row `microscale eval` prints ------------------===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#include "EvalReport.h"

#include "microscale/report.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

#include <cmath>
#include <vector>

using namespace mlir::microscale::driver;

double EvalRow::deltaPerplexityPercent() const {
  return (quality.compressedPerplexity / quality.floatPerplexity - 1) * 100;
}

double EvalRow::bitsPerWeight() const {
  return weightParameters ? compressedWeightBytes * 8.0 / weightParameters
                          : 0.0;
}

namespace {
/// One printed value: its text, and whether JSON quotes it.
struct Cell {
  std::string text;
  bool isString = false;
};

Cell number(double value, const char *style) {
  if (!std::isfinite(value)) // JSON has no NaN; CSV and tables say null too
    return {"null"};
  return {llvm::formatv(style, value).str()};
}
Cell integer(int64_t value) { return {std::to_string(value)}; }
Cell text(llvm::StringRef value) { return {value.str(), true}; }

/// The columns, in printing order: (name, value). Every format uses these.
std::vector<std::pair<const char *, Cell>> columnsOf(const EvalRow &row) {
  const EvalQuality &q = row.quality;
  return {
      {"model", text(row.model)},
      {"compression", text(row.compression)},
      {"ctx", integer(row.ctx)},
      {"tokens", integer(q.tokens)},
      {"float_ppl", number(q.floatPerplexity, "{0:f6}")},
      {"compressed_ppl", number(q.compressedPerplexity, "{0:f6}")},
      {"delta_ppl_pct", number(row.deltaPerplexityPercent(), "{0:f4}")},
      {"mean_kl", number(q.meanKL, "{0:e3}")},
      {"top1_agreement", number(q.top1Agreement, "{0:f6}")},
      {"float_weight_bytes", integer(row.floatWeightBytes)},
      {"compressed_weight_bytes", integer(row.compressedWeightBytes)},
      {"weight_params", integer(row.weightParameters)},
      {"bits_per_weight", number(row.bitsPerWeight(), "{0:f4}")},
      {"float_exe_bytes", integer(row.floatExecutableBytes)},
      {"compressed_exe_bytes", integer(row.compressedExecutableBytes)},
      {"float_decode_tok_s",
       number(row.floatSpeed.decodeTokensPerSecond, "{0:f1}")},
      {"compressed_decode_tok_s",
       number(row.compressedSpeed.decodeTokensPerSecond, "{0:f1}")},
      {"float_prefill_tok_s",
       number(row.floatSpeed.prefillTokensPerSecond, "{0:f1}")},
      {"compressed_prefill_tok_s",
       number(row.compressedSpeed.prefillTokensPerSecond, "{0:f1}")},
  };
}

void printTable(llvm::ArrayRef<EvalRow> rows, llvm::raw_ostream &os) {
  std::vector<std::vector<std::pair<const char *, Cell>>> table;
  for (const EvalRow &row : rows)
    table.push_back(columnsOf(row));
  if (table.empty())
    return;
  std::vector<size_t> widths;
  for (auto &[name, cell] : table.front())
    widths.push_back(strlen(name));
  for (auto &line : table)
    for (auto [i, column] : llvm::enumerate(line))
      widths[i] = std::max(widths[i], column.second.text.size());
  // Strings align left, numbers right, as a reader compares digits.
  auto printLine = [&](auto textOf, auto isString) {
    for (auto [i, width] : llvm::enumerate(widths)) {
      std::string cell = textOf(i);
      if (i)
        os << "  ";
      if (isString(i))
        os << cell << std::string(width - cell.size(), ' ');
      else
        os << std::string(width - cell.size(), ' ') << cell;
    }
    os << "\n";
  };
  const auto &first = table.front();
  auto stringColumn = [&](size_t i) { return first[i].second.isString; };
  printLine([&](size_t i) { return std::string(first[i].first); },
            stringColumn);
  for (auto &line : table)
    printLine([&](size_t i) { return line[i].second.text; }, stringColumn);
}

void printJSON(const EvalRow &row, llvm::raw_ostream &os) {
  os << "{\"schema_version\": " << MS_REPORT_SCHEMA_VERSION;
  for (auto [i, column] : llvm::enumerate(columnsOf(row))) {
    os << ", " << llvm::json::Value(column.first) << ": ";
    if (column.second.isString)
      os << llvm::json::Value(column.second.text);
    else
      os << column.second.text;
  }
  os << "}\n";
}

/// RFC 4180: a field with a comma, quote or line break is quoted.
std::string csvField(const std::string &field) {
  if (field.find_first_of(",\"\r\n") == std::string::npos)
    return field;
  std::string quoted = "\"";
  for (char c : field)
    quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

void printCSV(llvm::ArrayRef<EvalRow> rows, llvm::raw_ostream &os) {
  if (rows.empty())
    return;
  for (auto [i, column] : llvm::enumerate(columnsOf(rows.front())))
    os << (i ? "," : "") << column.first;
  os << "\n";
  for (const EvalRow &row : rows) {
    for (auto [i, column] : llvm::enumerate(columnsOf(row)))
      os << (i ? "," : "") << csvField(column.second.text);
    os << "\n";
  }
}
} // namespace

void mlir::microscale::driver::printEvalRows(llvm::ArrayRef<EvalRow> rows,
                                             EvalFormat format,
                                             llvm::raw_ostream &os) {
  switch (format) {
  case EvalFormat::Table:
    return printTable(rows, os);
  case EvalFormat::JSON:
    for (const EvalRow &row : rows)
      printJSON(row, os);
    return;
  case EvalFormat::CSV:
    return printCSV(rows, os);
  }
}
