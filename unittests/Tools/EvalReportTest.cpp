//===- EvalReportTest.cpp - the printers of eval's row --------------------===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#include "EvalReport.h"

#include "llvm/Support/JSON.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace mlir::microscale::driver;

namespace {
EvalRow sampleRow() {
  EvalRow row;
  row.model = "models/a,\"b\".onnx";
  row.compression = "quantize=int8";
  row.ctx = 256;
  row.quality = {1000, 5.0, 5.05, 0.00125, 0.95};
  row.floatWeightBytes = 4000;
  row.compressedWeightBytes = 1000;
  row.weightParameters = 1000;
  row.floatExecutableBytes = 5000;
  row.compressedExecutableBytes = 2000;
  row.floatSpeed = {100.0, 10.0};
  row.compressedSpeed = {200.0, 20.0};
  return row;
}

std::string print(llvm::ArrayRef<EvalRow> rows, EvalFormat format) {
  std::string text;
  llvm::raw_string_ostream os(text);
  printEvalRows(rows, format, os);
  return text;
}

TEST(EvalReportTest, DerivedColumns) {
  EvalRow row = sampleRow();
  EXPECT_NEAR(row.deltaPerplexityPercent(), 1.0, 1e-12);
  EXPECT_DOUBLE_EQ(row.bitsPerWeight(), 8.0);
}

TEST(EvalReportTest, JSONIsOneObjectPerRow) {
  std::string text = print(sampleRow(), EvalFormat::JSON);
  auto parsed = llvm::json::parse(llvm::StringRef(text).rtrim());
  ASSERT_TRUE(bool(parsed)) << llvm::toString(parsed.takeError()) << text;
  const llvm::json::Object &object = *parsed->getAsObject();
  EXPECT_EQ(object.getInteger("schema_version"), 1);
  EXPECT_EQ(object.getString("model"), "models/a,\"b\".onnx");
  EXPECT_EQ(object.getInteger("tokens"), 1000);
  EXPECT_NEAR(*object.getNumber("delta_ppl_pct"), 1.0, 1e-4);
  EXPECT_NEAR(*object.getNumber("mean_kl"), 0.00125, 1e-6);
  EXPECT_EQ(object.getNumber("bits_per_weight"), 8.0);
  EXPECT_EQ(object.getNumber("compressed_decode_tok_s"), 20.0);
}

// JSON has no NaN: a perplexity that is not finite prints null.
TEST(EvalReportTest, NonFiniteIsNull) {
  EvalRow row = sampleRow();
  row.quality.compressedPerplexity = INFINITY;
  std::string text = print(row, EvalFormat::JSON);
  auto parsed = llvm::json::parse(llvm::StringRef(text).rtrim());
  ASSERT_TRUE(bool(parsed)) << llvm::toString(parsed.takeError()) << text;
  EXPECT_EQ(parsed->getAsObject()->get("compressed_ppl")->kind(),
            llvm::json::Value::Null);
}

TEST(EvalReportTest, CSVQuotesFieldsWithCommasAndQuotes) {
  EvalRow rows[] = {sampleRow(), sampleRow()};
  std::string text = print(rows, EvalFormat::CSV);
  llvm::SmallVector<llvm::StringRef> lines;
  llvm::StringRef(text).split(lines, '\n', -1, /*KeepEmpty=*/false);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_TRUE(lines[0].starts_with("model,compression,ctx,tokens,float_ppl"));
  EXPECT_TRUE(lines[1].starts_with("\"models/a,\"\"b\"\".onnx\",quantize=int8,"
                                   "256,1000,5.000000,5.050000,1.0000,"))
      << lines[1].str();
  EXPECT_EQ(lines[1], lines[2]);
}

TEST(EvalReportTest, TableAlignsEveryLine) {
  EvalRow rows[] = {sampleRow(), sampleRow()};
  rows[1].model = "m";
  std::string text = print(rows, EvalFormat::Table);
  llvm::SmallVector<llvm::StringRef> lines;
  llvm::StringRef(text).split(lines, '\n', -1, /*KeepEmpty=*/false);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].size(), lines[1].size());
  EXPECT_EQ(lines[1].size(), lines[2].size());
  // Names align left, numbers right.
  EXPECT_TRUE(lines[2].starts_with("m "));
  EXPECT_TRUE(lines[0].ends_with("compressed_prefill_tok_s"));
  EXPECT_TRUE(lines[1].ends_with(" 200.0"));
}
} // namespace
