//===- Encode.cpp - text to token ids at compile time -----------*- C++ -*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#include "microscale/Tokenizer/Encode.h"

#include "microscale/tokenizer.h"

using namespace mlir;
using namespace mlir::microscale;

llvm::Expected<std::vector<int32_t>>
mlir::microscale::encodeText(llvm::ArrayRef<uint8_t> blob, llvm::StringRef text,
                             bool addBos) {
  ms_tokenizer tokenizer;
  if (ms_tokenizer_init(&tokenizer, blob.data(),
                        static_cast<int64_t>(blob.size())) != 0)
    return llvm::createStringError("the tokenizer tables are malformed");
  // At most one id per byte, plus BOS.
  std::vector<int32_t> ids(text.size() + 1);
  std::vector<uint8_t> scratch(
      ms_tokenizer_scratch_bytes(&tokenizer, text.size()));
  int64_t count = ms_tokenizer_encode(
      &tokenizer, text.data(), text.size(), addBos ? 1 : 0, ids.data(),
      static_cast<int64_t>(ids.size()), scratch.data(), scratch.size());
  if (count == MS_TOKENIZER_ERROR_UTF8)
    return llvm::createStringError("the text is not valid UTF-8");
  if (count < 0)
    return llvm::createStringError("tokenizing failed (error " +
                                   llvm::Twine(count) + ")");
  ids.resize(count);
  return ids;
}

llvm::Expected<std::string>
mlir::microscale::decodeIds(llvm::ArrayRef<uint8_t> blob,
                            llvm::ArrayRef<int64_t> ids, int64_t prevId) {
  ms_tokenizer tokenizer;
  if (ms_tokenizer_init(&tokenizer, blob.data(),
                        static_cast<int64_t>(blob.size())) != 0)
    return llvm::createStringError("the tokenizer tables are malformed");
  std::string text;
  std::vector<char> piece(tokenizer.max_piece_bytes + 2);
  for (int64_t id : ids) {
    if (id < 0 || id >= tokenizer.vocab_size)
      return llvm::createStringError("id " + llvm::Twine(id) +
                                     " is outside the vocabulary of " +
                                     llvm::Twine(tokenizer.vocab_size));
    int length = ms_tokenizer_decode(&tokenizer, static_cast<int32_t>(prevId),
                                     static_cast<int32_t>(id), piece.data(),
                                     piece.size());
    if (length < 0)
      return llvm::createStringError("cannot decode id " + llvm::Twine(id));
    text.append(piece.data(), length);
    prevId = id;
  }
  return text;
}

llvm::Expected<int32_t>
mlir::microscale::tokenizerBosId(llvm::ArrayRef<uint8_t> blob) {
  ms_tokenizer tokenizer;
  if (ms_tokenizer_init(&tokenizer, blob.data(),
                        static_cast<int64_t>(blob.size())) != 0)
    return llvm::createStringError("the tokenizer tables are malformed");
  return tokenizer.bos_id;
}
