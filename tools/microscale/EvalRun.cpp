//===- EvalRun.cpp - running the programs `microscale eval` built ---------===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#include "EvalRun.h"
#include "ChildProcess.h"

#include "llvm/ADT/Twine.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <thread>
#include <vector>

using namespace mlir::microscale::driver;
using llvm::createStringError;
using llvm::Twine;

namespace {
/// What a program's `perplexity --json` printed.
struct PerplexitySummary {
  int64_t tokens = 0;
  double nll = 0, ppl = 0;
};

/// One program's `perplexity --logprobs-out` stream (the format is in
/// runtime/hosted/main.c): read a record at a time, summed as it goes.
class LogprobStream {
public:
  explicit LogprobStream(ChildProcess child) : child(std::move(child)) {}

  /// Reads the header: the magic and the vocabulary size.
  llvm::Error readHeader();
  /// Reads the next record into `nextId` and `row`; false at the end.
  llvm::Expected<bool> next();
  /// Reads the summary after the stream ended and waits for the program;
  /// checks the summary against what the stream showed.
  llvm::Expected<PerplexitySummary> finish();
  /// The error for a stream that stopped where it should not: the
  /// program's own failure if it failed, else `what`.
  llvm::Error failure(const Twine &what);
  /// The error for a stream that is not the format: `what`, and the program
  /// is stopped.
  llvm::Error malformed(const Twine &what);

  int32_t vocab = 0;
  int32_t nextId = 0;
  std::vector<float> row;
  int64_t rows = 0;
  llvm::StringRef name() const { return child.name(); }

private:
  ChildProcess child;
  std::vector<char> record;
  double nll = 0; // from the rows, to check the summary with
};

llvm::Error LogprobStream::failure(const Twine &what) {
  // A program whose stream ended may still print its summary: reading it
  // lets it exit as it would, rather than by a broken pipe. Its stream is
  // closed first, so even a program still writing to it ends.
  child.closeStream();
  if (auto ignored = child.readAllStdout(); !ignored)
    llvm::consumeError(ignored.takeError());
  if (llvm::Error error = child.wait())
    return error;
  return createStringError(child.name() + " " + what);
}

llvm::Error LogprobStream::malformed(const Twine &what) {
  child.kill();
  return createStringError(child.name() + " " + what);
}

llvm::Error LogprobStream::readHeader() {
  char header[8];
  auto got = child.readStream(header, sizeof header);
  if (!got)
    return got.takeError();
  if (*got != sizeof header)
    return failure("wrote no log-probability stream");
  std::memcpy(&vocab, header + 4, sizeof vocab);
  if (std::memcmp(header, "MSLP", 4) != 0 || vocab <= 0)
    return malformed("wrote a log-probability stream without its header");
  row.resize(vocab);
  record.resize(sizeof(int32_t) + vocab * sizeof(float));
  return llvm::Error::success();
}

llvm::Expected<bool> LogprobStream::next() {
  auto got = child.readStream(record.data(), record.size());
  if (!got)
    return got.takeError();
  if (*got == 0)
    return false;
  if (*got != record.size())
    return failure("stopped in the middle of log-probability row " +
                   Twine(rows));
  std::memcpy(&nextId, record.data(), sizeof nextId);
  std::memcpy(row.data(), record.data() + sizeof nextId, vocab * sizeof(float));
  if (nextId < 0 || nextId >= vocab)
    return malformed("wrote the id " + Twine(nextId) + " at row " +
                     Twine(rows) + ", outside its vocabulary");
  nll -= row[nextId];
  ++rows;
  return true;
}

llvm::Expected<PerplexitySummary> LogprobStream::finish() {
  auto text = child.readAllStdout();
  if (!text)
    return text.takeError();
  if (llvm::Error error = child.wait())
    return std::move(error);
  auto json = llvm::json::parse(*text);
  if (!json)
    return createStringError(child.name() + " printed no perplexity summary: " +
                             llvm::toString(json.takeError()));
  const llvm::json::Object *object = json->getAsObject();
  std::optional<int64_t> tokens =
      object ? object->getInteger("tokens") : std::nullopt;
  std::optional<double> mean = object ? object->getNumber("nll") : std::nullopt;
  std::optional<double> ppl = object ? object->getNumber("ppl") : std::nullopt;
  if (!tokens || !mean || !ppl)
    return createStringError(child.name() +
                             " printed a summary without "
                             "tokens, nll and ppl: " +
                             *text);
  // The rows are float32 and the printed NLL has six decimals.
  if (*tokens != rows || std::abs(nll / std::max<int64_t>(rows, 1) - *mean) >
                             1e-4 * std::max(1.0, std::abs(*mean)))
    return createStringError(
        child.name() + " streamed " + Twine(rows) +
        " rows whose mean NLL disagrees with its summary: " + *text);
  return PerplexitySummary{*tokens, *mean, *ppl};
}

/// KL(p || q) of two log-distributions, in double.
double klDivergence(llvm::ArrayRef<float> logP, llvm::ArrayRef<float> logQ) {
  double total = 0;
  for (size_t i = 0; i < logP.size(); ++i)
    total += std::exp(double(logP[i])) * (double(logP[i]) - logQ[i]);
  return total;
}

size_t argmax(llvm::ArrayRef<float> row) {
  return std::max_element(row.begin(), row.end()) - row.begin();
}

llvm::Expected<LogprobStream> startPerplexity(const EvalProgram &program,
                                              llvm::StringRef dataPath,
                                              int64_t ctx, unsigned threads) {
  std::vector<std::string> argv = {program.path,
                                   "perplexity",
                                   "--file",
                                   dataPath.str(),
                                   "--ctx",
                                   std::to_string(ctx),
                                   "--json",
                                   "--logprobs-out",
                                   "/dev/fd/" +
                                       std::to_string(ChildProcess::kStreamFd),
                                   "--threads",
                                   std::to_string(threads)};
  auto child = ChildProcess::spawn(argv, program.path + ".perplexity.log",
                                   program.name, /*withStream=*/true);
  if (!child)
    return child.takeError();
  LogprobStream stream(std::move(*child));
  if (llvm::Error error = stream.readHeader())
    return std::move(error);
  return std::move(stream);
}
} // namespace

llvm::Expected<EvalQuality> mlir::microscale::driver::compareQuality(
    const EvalProgram &floatProgram, const EvalProgram &compressed,
    llvm::StringRef dataPath, int64_t ctx) {
  // Both programs run at once: half the cores each. Results do not depend
  // on the thread count.
  unsigned threads = std::max(1u, std::thread::hardware_concurrency() / 2);
  auto reference = startPerplexity(floatProgram, dataPath, ctx, threads);
  if (!reference)
    return reference.takeError();
  auto candidate = startPerplexity(compressed, dataPath, ctx, threads);
  if (!candidate)
    return candidate.takeError();
  if (reference->vocab != candidate->vocab)
    return createStringError(
        "the programs' vocabularies differ (%d and %d ids)", reference->vocab,
        candidate->vocab);

  EvalQuality quality;
  double klSum = 0;
  int64_t agreements = 0;
  while (true) {
    auto more = reference->next();
    if (!more)
      return more.takeError();
    auto candidateMore = candidate->next();
    if (!candidateMore)
      return candidateMore.takeError();
    if (*more != *candidateMore) {
      LogprobStream &ended = *more ? *candidate : *reference;
      return ended.failure("ended its stream after " + Twine(ended.rows) +
                           " rows, before the other program");
    }
    if (!*more)
      break;
    if (reference->nextId != candidate->nextId)
      return createStringError(
          "the programs scored different ids at position %lld (%d and %d): "
          "their tokenizers differ",
          static_cast<long long>(reference->rows - 1), reference->nextId,
          candidate->nextId);
    klSum += klDivergence(reference->row, candidate->row);
    agreements += argmax(reference->row) == argmax(candidate->row);
  }
  auto referenceSummary = reference->finish();
  if (!referenceSummary)
    return referenceSummary.takeError();
  auto candidateSummary = candidate->finish();
  if (!candidateSummary)
    return candidateSummary.takeError();
  quality.tokens = reference->rows;
  quality.floatPerplexity = referenceSummary->ppl;
  quality.compressedPerplexity = candidateSummary->ppl;
  quality.meanKL = klSum / std::max<int64_t>(quality.tokens, 1);
  quality.top1Agreement =
      double(agreements) / std::max<int64_t>(quality.tokens, 1);
  return quality;
}

llvm::Expected<EvalSpeed>
mlir::microscale::driver::benchProgram(const EvalProgram &program, int runs) {
  // bench's default lengths, shortened to fit a small context.
  int64_t prompt = std::min<int64_t>(128, program.maxContext / 2);
  int64_t generated = std::min<int64_t>(128, program.maxContext - prompt);
  std::vector<std::string> argv = {program.path,      "bench",
                                   "--threads",       "1",
                                   "--runs",          std::to_string(runs),
                                   "--prompt-tokens", std::to_string(prompt),
                                   "--gen-tokens",    std::to_string(generated),
                                   "--json"};
  auto child = ChildProcess::spawn(argv, program.path + ".bench.log",
                                   program.name, /*withStream=*/false);
  if (!child)
    return child.takeError();
  auto text = child->readAllStdout();
  if (!text)
    return text.takeError();
  if (llvm::Error error = child->wait())
    return std::move(error);
  auto json = llvm::json::parse(*text);
  if (!json)
    return createStringError(program.name + " printed no bench result: " +
                             llvm::toString(json.takeError()));
  const llvm::json::Object *object = json->getAsObject();
  std::optional<double> prefill =
      object ? object->getNumber("prefill_tokens_per_s") : std::nullopt;
  std::optional<double> decode =
      object ? object->getNumber("decode_tokens_per_s") : std::nullopt;
  if (!prefill || !decode)
    return createStringError(
        program.name + " printed a bench result without tokens/s: " + *text);
  return EvalSpeed{*prefill, *decode};
}
