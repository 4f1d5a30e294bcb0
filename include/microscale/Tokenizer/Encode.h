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
#include <vector>

namespace mlir::microscale {

/// Encodes `text` with the tokenizer `blob` (a leading BOS when `addBos`
/// and the tokenizer has one).
llvm::Expected<std::vector<int32_t>>
encodeText(llvm::ArrayRef<uint8_t> blob, llvm::StringRef text, bool addBos);

} // namespace mlir::microscale

#endif // MICROSCALE_TOKENIZER_ENCODE_H
