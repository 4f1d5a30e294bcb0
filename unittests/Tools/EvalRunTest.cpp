//===- EvalRunTest.cpp - eval's streaming comparison, against fakes -------===//
//
// Part of the Microscale project.
//
// `microscale eval` compares two programs' `perplexity --logprobs-out`
// streams in lockstep. These tests put small Python programs in their place,
// each speaking the stream format with a known distribution or failing in a
// known way, so the arithmetic (KL, agreement) is checked against values
// computed by hand and every failure path (a program that dies before or in
// the middle of its stream, ends early, scores other ids, or never stops
// while the other has failed) gives its error instead of a hang.
//
//===----------------------------------------------------------------------===//

#include "EvalRun.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace mlir::microscale::driver;

namespace {
/// What every fake starts with: the stream on descriptor 3 (only for
/// `perplexity`) and helpers writing the format of runtime/hosted/main.c.
constexpr const char *kPrelude = R"(#!/usr/bin/python3
import math, os, struct, sys
out = os.fdopen(3, "wb") if sys.argv[1] == "perplexity" else None
def header(vocab):
    out.write(b"MSLP" + struct.pack("=i", vocab)); out.flush()
def row(next_id, probabilities):
    logprobs = [math.log(p) for p in probabilities]
    out.write(struct.pack("=i%df" % len(logprobs), next_id, *logprobs))
    out.flush()
def summary(tokens, nll):
    out.close()
    print('{"tokens": %d, "nll": %.6f, "ppl": %.6f}' % (tokens, nll,
                                                        math.exp(nll)))
)";

class EvalRunTest : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("eval-run-test", dir));
    data = path("data.txt");
    std::error_code error;
    llvm::raw_fd_ostream(data, error) << "text\n";
    ASSERT_FALSE(error);
  }
  void TearDown() override { llvm::sys::fs::remove_directories(dir); }

  std::string path(llvm::StringRef name) {
    llvm::SmallString<256> result(dir);
    llvm::sys::path::append(result, name);
    return std::string(result);
  }

  /// A program named `name` running `body` after the prelude.
  EvalProgram fake(llvm::StringRef name, llvm::StringRef body) {
    std::string file = path(name);
    std::error_code error;
    {
      llvm::raw_fd_ostream os(file, error);
      os << kPrelude << body;
    }
    EXPECT_FALSE(error);
    llvm::sys::fs::setPermissions(file, llvm::sys::fs::all_read |
                                            llvm::sys::fs::all_exe |
                                            llvm::sys::fs::owner_write);
    return {file, ("the " + name + " program").str(), 256};
  }

  /// compareQuality's error message, or "" if it succeeded.
  std::string qualityError(const EvalProgram &a, const EvalProgram &b) {
    auto quality = compareQuality(a, b, data, 64);
    return quality ? "" : llvm::toString(quality.takeError());
  }

  llvm::SmallString<256> dir;
  std::string data;
};

/// Two positions over a vocabulary of 2 (ids 1 then 0):
/// float p = (.5, .5), (.9, .1); compressed q = (.25, .75), (.8, .2).
constexpr const char *kFloatRows = R"(
header(2); row(1, [.5, .5]); row(0, [.9, .1])
summary(2, (-math.log(.5) - math.log(.9)) / 2)
)";
constexpr const char *kCompressedRows = R"(
header(2); row(1, [.25, .75]); row(0, [.8, .2])
summary(2, (-math.log(.75) - math.log(.8)) / 2)
)";

TEST_F(EvalRunTest, KLAndAgreementOfKnownDistributions) {
  auto quality = compareQuality(fake("float", kFloatRows),
                                fake("compressed", kCompressedRows), data, 64);
  ASSERT_TRUE(bool(quality)) << llvm::toString(quality.takeError());
  double kl0 = .5 * std::log(.5 / .25) + .5 * std::log(.5 / .75);
  double kl1 = .9 * std::log(.9 / .8) + .1 * std::log(.1 / .2);
  EXPECT_EQ(quality->tokens, 2);
  EXPECT_NEAR(quality->meanKL, (kl0 + kl1) / 2, 1e-7);
  // Position 0 ties at id 0 for float (the first maximum) against id 1.
  EXPECT_DOUBLE_EQ(quality->top1Agreement, 0.5);
  // The perplexities are the ones the programs printed.
  EXPECT_NEAR(quality->floatPerplexity,
              std::exp((-std::log(.5) - std::log(.9)) / 2), 1e-6);
  EXPECT_NEAR(quality->compressedPerplexity,
              std::exp((-std::log(.75) - std::log(.8)) / 2), 1e-6);
}

TEST_F(EvalRunTest, SameProgramHasNoDivergence) {
  auto quality = compareQuality(fake("float", kFloatRows),
                                fake("compressed", kFloatRows), data, 64);
  ASSERT_TRUE(bool(quality)) << llvm::toString(quality.takeError());
  EXPECT_EQ(quality->meanKL, 0.0);
  EXPECT_EQ(quality->top1Agreement, 1.0);
  EXPECT_EQ(quality->floatPerplexity, quality->compressedPerplexity);
}

TEST_F(EvalRunTest, ProgramFailingBeforeItsStream) {
  EXPECT_EQ(qualityError(fake("float", "sys.exit('float: error: bad input')"),
                         fake("compressed", kCompressedRows)),
            "the float program exited with status 1: float: error: bad input");
}

TEST_F(EvalRunTest, ProgramDyingInTheMiddleOfARow) {
  std::string error = qualityError(
      fake("float", kFloatRows),
      fake("compressed", "header(2); row(1, [.5, .5]); out.write(b'\\1\\0');"
                         "out.flush(); os.kill(os.getpid(), 9)"));
  EXPECT_EQ(error.rfind("the compressed program was killed by signal 9", 0), 0u)
      << error;
}

TEST_F(EvalRunTest, StreamEndingEarly) {
  EXPECT_EQ(qualityError(fake("float", kFloatRows),
                         fake("compressed", "header(2); row(1, [.5, .5]); "
                                            "summary(1, -math.log(.5))")),
            "the compressed program ended its stream after 1 rows, before "
            "the other program");
}

TEST_F(EvalRunTest, DifferentIds) {
  EXPECT_EQ(qualityError(fake("float", kFloatRows),
                         fake("compressed", "header(2); row(0, [.5, .5]); "
                                            "summary(1, -math.log(.5))")),
            "the programs scored different ids at position 0 (1 and 0): "
            "their tokenizers differ");
}

TEST_F(EvalRunTest, DifferentVocabularies) {
  EXPECT_EQ(qualityError(fake("float", kFloatRows),
                         fake("compressed", "header(3); summary(0, 0)")),
            "the programs' vocabularies differ (2 and 3 ids)");
}

TEST_F(EvalRunTest, SummaryDisagreeingWithTheStream) {
  std::string error = qualityError(
      fake("float", "header(2); row(1, [.5, .5]); summary(1, 2.0)"),
      fake("compressed", "header(2); row(1, [.25, .75]); "
                         "summary(1, -math.log(.75))"));
  EXPECT_NE(error.find("the float program streamed 1 rows whose mean NLL "
                       "disagrees with its summary"),
            std::string::npos)
      << error;
}

// The float program would stream forever; the compressed one fails at
// once. The comparison stops, reports the failure and kills the other.
TEST_F(EvalRunTest, NoHangWhenTheOtherProgramFails) {
  EvalProgram endless =
      fake("float", "header(2)\nwhile True: row(0, [.5, .5])");
  EvalProgram failing =
      fake("compressed", "header(2); sys.stderr.write('out of memory\\n'); "
                         "sys.exit(3)");
  EXPECT_EQ(qualityError(endless, failing),
            "the compressed program exited with status 3: out of memory");
}

// A bad record from a program that keeps streaming: reported, and the
// program (blocked on a full pipe) is not waited for forever.
TEST_F(EvalRunTest, IdOutsideTheVocabulary) {
  EvalProgram endless =
      fake("float", "header(2)\nwhile True: row(0, [.5, .5])");
  EXPECT_EQ(qualityError(endless, fake("compressed",
                                       "header(2)\nwhile True: row(7, [.5, "
                                       ".5])")),
            "the compressed program wrote the id 7 at row 0, outside its "
            "vocabulary");
}

TEST_F(EvalRunTest, ProgramThatCannotRun) {
  EvalProgram missing = {path("absent"), "the float program", 256};
  std::string error = qualityError(missing, fake("compressed", kFloatRows));
  EXPECT_EQ(error.rfind("cannot run the float program", 0), 0u) << error;
}

TEST_F(EvalRunTest, BenchReadsTheProgramsJSON) {
  auto speed = benchProgram(
      fake("float", "assert sys.argv[1:5] == ['bench', '--threads', '1', "
                    "'--runs']\n"
                    "print('{\"prefill_tokens_per_s\": 100.5, "
                    "\"decode_tokens_per_s\": 20.25}')"),
      3);
  ASSERT_TRUE(bool(speed)) << llvm::toString(speed.takeError());
  EXPECT_EQ(speed->prefillTokensPerSecond, 100.5);
  EXPECT_EQ(speed->decodeTokensPerSecond, 20.25);
  auto broken = benchProgram(fake("compressed", "print('fast')"), 3);
  ASSERT_FALSE(bool(broken));
  std::string error = llvm::toString(broken.takeError());
  EXPECT_EQ(error.rfind("the compressed program printed no bench result", 0),
            0u)
      << error;
}
} // namespace
