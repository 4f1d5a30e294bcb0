//===- FuzzTokenizer.cpp - libFuzzer target: the runtime tokenizer --------===//
//
// Part of the Microscale project.
//
// Feeds text to the generated programs' tokenizer (runtime/core/tokenizer.c,
// built into this target with coverage) with the tables of real tokenizers:
// the files named, colon-separated, by MICROSCALE_FUZZ_TOKENIZERS (a
// SentencePiece .model or a GPT-2 encoder.json), laid out once by the
// compiler's buildTokenizerBlob. The first input byte picks the tokenizer
// and whether to add BOS; the rest is the text. Every id the encoder gives
// must be in the vocabulary and decode; ids read from the text as int32
// must decode or be refused. Anything else aborts, as does any crash or
// sanitizer report.
//
//===----------------------------------------------------------------------===//

#include "microscale/Tokenizer/TokenizerTables.h"
#include "microscale/tokenizer.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

struct LoadedTokenizer {
  std::vector<uint8_t> blob;
  ms_tokenizer tokenizer;
};

std::vector<LoadedTokenizer> &tokenizers() {
  static std::vector<LoadedTokenizer> loaded;
  return loaded;
}

[[noreturn]] void fail(const char *what) {
  llvm::errs() << "microscale-fuzz-tokenizer: " << what << "\n";
  abort();
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  const char *paths = getenv("MICROSCALE_FUZZ_TOKENIZERS");
  if (!paths || !*paths)
    fail("set MICROSCALE_FUZZ_TOKENIZERS to tokenizer files separated by ':'");
  llvm::SmallVector<llvm::StringRef> files;
  llvm::StringRef(paths).split(files, ':', -1, /*KeepEmpty=*/false);
  for (llvm::StringRef file : files) {
    llvm::Expected<std::vector<uint8_t>> blob =
        mlir::microscale::buildTokenizerBlob(file);
    if (!blob) {
      llvm::errs() << llvm::toString(blob.takeError()) << "\n";
      fail("cannot read a tokenizer");
    }
    tokenizers().push_back({std::move(*blob), {}});
  }
  // Pointers into the blobs are taken once the vector no longer moves.
  for (LoadedTokenizer &t : tokenizers())
    if (ms_tokenizer_init(&t.tokenizer, t.blob.data(),
                          static_cast<int64_t>(t.blob.size())))
      fail("the compiler's blob does not initialize");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  const LoadedTokenizer &loaded = tokenizers()[data[0] % tokenizers().size()];
  const ms_tokenizer *t = &loaded.tokenizer;
  bool addBos = data[0] & 0x80;
  const char *text = reinterpret_cast<const char *>(data + 1);
  size_t len = size - 1;

  // Exactly the scratch the runtime says it needs and the ids the program
  // allocates (one per byte, plus BOS and the dummy prefix), so that
  // overruns are caught; only invalid UTF-8 may be refused.
  std::vector<uint8_t> scratch(ms_tokenizer_scratch_bytes(t, len));
  std::vector<int32_t> ids(len + 2);
  int64_t count =
      ms_tokenizer_encode(t, text, len, addBos, ids.data(), ids.size(),
                          scratch.data(), scratch.size());
  if (count < 0 && count != MS_TOKENIZER_ERROR_UTF8)
    fail("valid text did not encode with the scratch and ids the program "
         "gives");
  char piece[1024];
  int32_t prev = -1;
  for (int64_t i = 0; i < count; ++i) {
    if (ids[i] < 0 || ids[i] >= t->vocab_size)
      fail("an encoded id is outside the vocabulary");
    if (ms_tokenizer_decode(t, prev, ids[i], piece, sizeof piece) < 0)
      fail("an encoded id does not decode");
    prev = ids[i];
  }
  // Arbitrary ids: decoded or refused, never read out of bounds.
  for (size_t i = 0; i + 4 <= len; i += 4) {
    int32_t id;
    std::memcpy(&id, text + i, 4);
    int written = ms_tokenizer_decode(t, prev, id, piece, sizeof piece);
    if (written >= 0 && (id < 0 || id >= t->vocab_size))
      fail("an id outside the vocabulary decoded");
    prev = id;
  }
  return 0;
}
