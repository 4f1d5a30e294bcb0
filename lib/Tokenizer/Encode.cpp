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
  if (count < 0)
    return llvm::createStringError("tokenizing failed (error " +
                                   llvm::Twine(count) + ")");
  ids.resize(count);
  return ids;
}
