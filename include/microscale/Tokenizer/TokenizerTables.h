//===- TokenizerTables.h - tokenizer files to the runtime blob --*- C++ -*-===//
//
// Part of the Microscale project.
//
// Reads a model's tokenizer at compile time and lays it out in the flat
// format runtime/include/microscale/tokenizer.h documents, which the
// generated program reads in place.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_TOKENIZER_TOKENIZERTABLES_H
#define MICROSCALE_TOKENIZER_TOKENIZERTABLES_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <vector>

namespace mlir::microscale {

/// Builds the blob from a SentencePiece `.model` (BPE, identity
/// normalization) or a GPT-2 `encoder.json`/`vocab.json` with its
/// `vocab.bpe`/`merges.txt` beside it. Errors name the file and the reason.
llvm::Expected<std::vector<uint8_t>>
buildTokenizerBlob(llvm::StringRef tokenizerPath);

/// The blob of a model's tokenizer: `tokenizer` as the model records it
/// (relative paths are resolved against `modelDir`), checked to have
/// `vocabSize` tokens.
llvm::Expected<std::vector<uint8_t>>
buildModelTokenizerBlob(llvm::StringRef tokenizer, llvm::StringRef modelDir,
                        int64_t vocabSize);

} // namespace mlir::microscale

#endif // MICROSCALE_TOKENIZER_TOKENIZERTABLES_H
