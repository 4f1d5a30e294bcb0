//===- Encode.h - text to token ids at compile time -------------*- C++ -*-===//
//
// Part of the Microscale project.
//
// The compiler tokenizes text (calibration text for quantization) with the
// very code the generated programs run: the runtime's tokenizer, reading
// the blob buildTokenizerBlob lays out. Compiler and program cannot
// disagree on ids.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_TOKENIZER_ENCODE_H
#define MICROSCALE_TOKENIZER_ENCODE_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlir::microscale {

/// Encodes `text` with the tokenizer `blob` (a leading BOS when `addBos`
/// and the tokenizer has one).
llvm::Expected<std::vector<int32_t>>
encodeText(llvm::ArrayRef<uint8_t> blob, llvm::StringRef text, bool addBos);

/// The text of `ids` as a generated program prints it when they follow
/// `prevId` (-1: none; the BOS id drops a SentencePiece word's leading
/// space, as decoding does at the start of a text); the tokenizer runtime's
/// decoder on the tables of `blob`.
llvm::Expected<std::string> decodeIds(llvm::ArrayRef<uint8_t> blob,
                                      llvm::ArrayRef<int64_t> ids,
                                      int64_t prevId);

/// The BOS id of the tokenizer in `blob`, or -1.
llvm::Expected<int32_t> tokenizerBosId(llvm::ArrayRef<uint8_t> blob);

} // namespace mlir::microscale

#endif // MICROSCALE_TOKENIZER_ENCODE_H
