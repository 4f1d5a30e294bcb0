//===- TokenizerTables.cpp - tokenizer files to the runtime blob -*- C++
//-*-===//
//
// Part of the Microscale project.
//
// SentencePiece models are protobufs; they are read with protobuf's wire
// reader (the schema is small and libsentencepiece does not expose the
// normalizer settings the encoder must honour). GPT-2 vocabularies are JSON
// plus a merge list.
//
//===----------------------------------------------------------------------===//

#include "microscale/Tokenizer/TokenizerTables.h"
#include "microscale/Support/RegularFile.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <numeric>

using namespace mlir::microscale;
using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedInputStream;
using llvm::StringRef;

namespace {

llvm::Error makeError(StringRef path, const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 path + ": " + message);
}

enum PieceType : uint8_t {
  Normal = 1,
  Unknown = 2,
  Control = 3,
  UserDefined = 4,
  Unused = 5,
  Byte = 6
};

/// Everything the blob holds, before layout.
struct Tables {
  uint32_t kind = 0;
  int32_t bos = -1, eos = -1, unk = -1;
  uint32_t flags = 0;
  std::vector<std::string> pieces;
  std::vector<float> scores;
  std::vector<uint8_t> types;
  std::vector<int32_t> byteIds = std::vector<int32_t>(256, -1);
  std::vector<std::array<uint32_t, 4>> merges;
};

//===----------------------------------------------------------------------===//
// SentencePiece
//===----------------------------------------------------------------------===//

/// Reads one length-delimited submessage with `fieldFn(field, wireType)`,
/// which returns false for fields it does not consume.
template <typename Fn> bool readMessage(CodedInputStream &in, Fn fieldFn) {
  uint32_t length;
  if (!in.ReadVarint32(&length))
    return false;
  auto limit = in.PushLimit(length);
  while (uint32_t tag = in.ReadTag()) {
    if (!fieldFn(tag >> 3, tag & 7, in) && !WireFormatLite::SkipField(&in, tag))
      return false;
  }
  bool complete = in.ConsumedEntireMessage();
  in.PopLimit(limit);
  return complete;
}

bool readVarint(CodedInputStream &in, uint32_t wire, uint64_t &value) {
  return wire == 0 && in.ReadVarint64(&value);
}

llvm::Expected<Tables> readSentencePiece(StringRef path, StringRef bytes) {
  Tables t;
  t.kind = 1;
  // proto2 defaults of the fields that matter.
  uint64_t modelType = 1, byteFallback = 0, allowWhitespaceOnly = 0,
           splitByWhitespace = 1, whitespaceAsSuffix = 0, unkId = 0, bosId = 1,
           eosId = 2, addDummyPrefix = 1, removeExtra = 1, escapeWhitespace = 1;
  std::string normalizerName, charsmap;
  CodedInputStream in(reinterpret_cast<const uint8_t *>(bytes.data()),
                      static_cast<int>(bytes.size()));
  in.SetTotalBytesLimit(INT32_MAX);
  bool ok = true;
  while (uint32_t tag = in.ReadTag()) {
    uint32_t field = tag >> 3, wire = tag & 7;
    if (field == 1 && wire == 2) {
      std::string piece;
      float score = 0.0f;
      uint64_t type = Normal;
      ok = readMessage(in, [&](uint32_t f, uint32_t w, CodedInputStream &s) {
        if (f == 1 && w == 2)
          return WireFormatLite::ReadString(&s, &piece);
        if (f == 2 && w == 5) {
          uint32_t raw;
          if (!s.ReadLittleEndian32(&raw))
            return false;
          std::memcpy(&score, &raw, 4);
          return true;
        }
        if (f == 3)
          return readVarint(s, w, type);
        return false;
      });
      t.pieces.push_back(piece);
      t.scores.push_back(score);
      t.types.push_back(static_cast<uint8_t>(type));
    } else if (field == 2 && wire == 2) {
      ok = readMessage(in, [&](uint32_t f, uint32_t w, CodedInputStream &s) {
        switch (f) {
        case 3:
          return readVarint(s, w, modelType);
        case 22:
          return readVarint(s, w, splitByWhitespace);
        case 24:
          return readVarint(s, w, whitespaceAsSuffix);
        case 26:
          return readVarint(s, w, allowWhitespaceOnly);
        case 35:
          return readVarint(s, w, byteFallback);
        case 40:
          return readVarint(s, w, unkId);
        case 41:
          return readVarint(s, w, bosId);
        case 42:
          return readVarint(s, w, eosId);
        default:
          return false;
        }
      });
    } else if (field == 3 && wire == 2) {
      ok = readMessage(in, [&](uint32_t f, uint32_t w, CodedInputStream &s) {
        switch (f) {
        case 1:
          return w == 2 && WireFormatLite::ReadString(&s, &normalizerName);
        case 2:
          return w == 2 && WireFormatLite::ReadBytes(&s, &charsmap);
        case 3:
          return readVarint(s, w, addDummyPrefix);
        case 4:
          return readVarint(s, w, removeExtra);
        case 5:
          return readVarint(s, w, escapeWhitespace);
        default:
          return false;
        }
      });
    } else {
      ok = WireFormatLite::SkipField(&in, tag);
    }
    if (!ok)
      break;
  }
  if (!ok || !in.ConsumedEntireMessage() || t.pieces.empty())
    return makeError(path, "not a SentencePiece model (protobuf parse failed)");
  if (modelType != 2)
    return makeError(path, "only BPE SentencePiece models are supported");
  if (!charsmap.empty() ||
      (!normalizerName.empty() && normalizerName != "identity"))
    return makeError(path, "normalization '" + normalizerName +
                               "' is not supported (identity only)");
  if (whitespaceAsSuffix || !splitByWhitespace || !escapeWhitespace)
    return makeError(path, "whitespace handling is not supported "
                           "(need split_by_whitespace, prefix spaces)");
  t.unk = static_cast<int32_t>(unkId);
  t.bos = static_cast<int32_t>(bosId);
  t.eos = static_cast<int32_t>(eosId);
  t.flags = (addDummyPrefix ? 1 : 0) | (byteFallback ? 2 : 0) |
            (removeExtra ? 4 : 0) | (allowWhitespaceOnly ? 8 : 0);
  for (size_t id = 0; id < t.pieces.size(); ++id) {
    unsigned value;
    StringRef piece = t.pieces[id];
    if (t.types[id] == Byte && piece.size() == 6 && piece.starts_with("<0x") &&
        piece.ends_with(">") && !piece.substr(3, 2).getAsInteger(16, value) &&
        value < 256)
      t.byteIds[value] = static_cast<int32_t>(id);
  }
  return t;
}

//===----------------------------------------------------------------------===//
// GPT-2
//===----------------------------------------------------------------------===//

/// GPT-2's reversible byte <-> printable code point map.
std::vector<uint32_t> bytesToCodePoints() {
  std::vector<uint32_t> map(256, 0);
  std::vector<bool> printable(256, false);
  for (int b = '!'; b <= '~'; ++b)
    printable[b] = true;
  for (int b = 0xA1; b <= 0xAC; ++b)
    printable[b] = true;
  for (int b = 0xAE; b <= 0xFF; ++b)
    printable[b] = true;
  uint32_t next = 256;
  for (int b = 0; b < 256; ++b)
    map[b] = printable[b] ? b : next++;
  return map;
}

std::string encodeUTF8(uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += char(cp);
  } else if (cp < 0x800) {
    s += char(0xC0 | (cp >> 6));
    s += char(0x80 | (cp & 0x3F));
  } else {
    s += char(0xE0 | (cp >> 12));
    s += char(0x80 | ((cp >> 6) & 0x3F));
    s += char(0x80 | (cp & 0x3F));
  }
  return s;
}

llvm::Expected<Tables> readGPT2(StringRef path) {
  Tables t;
  t.kind = 2;
  auto file = readRegularFile(path);
  if (!file)
    return makeError(path, "cannot read: " + llvm::toString(file.takeError()));
  auto json = llvm::json::parse((*file)->getBuffer());
  if (!json)
    return makeError(path, "not JSON: " + llvm::toString(json.takeError()));
  const llvm::json::Object *object = json->getAsObject();
  if (!object)
    return makeError(path, "expected an object of token -> id");
  llvm::StringMap<int32_t> encoder;
  int64_t maxId = -1;
  for (const auto &entry : *object) {
    std::optional<int64_t> id = entry.second.getAsInteger();
    if (!id || *id < 0)
      return makeError(path,
                       "token '" + entry.first.str() + "' has no valid id");
    encoder[entry.first.str()] = static_cast<int32_t>(*id);
    maxId = std::max(maxId, *id);
  }
  if (maxId + 1 != static_cast<int64_t>(encoder.size()))
    return makeError(path, "ids are not 0 .. N-1");

  // Token strings spell bytes through the printable map; store raw bytes.
  std::vector<uint32_t> byteToCp = bytesToCodePoints();
  llvm::DenseMap<uint32_t, uint8_t> cpToByte;
  for (int b = 0; b < 256; ++b)
    cpToByte[byteToCp[b]] = static_cast<uint8_t>(b);
  t.pieces.assign(encoder.size(), "");
  for (const auto &entry : encoder) {
    std::string raw;
    StringRef text = entry.first();
    for (size_t i = 0; i < text.size();) {
      unsigned char c = text[i];
      uint32_t cp;
      size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
      cp = n == 1 ? c : c & (0xFF >> (n + 1));
      for (size_t k = 1; k < n && i + k < text.size(); ++k)
        cp = cp << 6 | (text[i + k] & 0x3F);
      auto it = cpToByte.find(cp);
      // Special tokens like <|endoftext|> are spelled in plain ASCII.
      raw += it != cpToByte.end() ? char(it->second) : char(c);
      i += n;
    }
    t.pieces[entry.second] = raw;
  }
  t.scores.assign(encoder.size(), 0.0f);
  t.types.assign(encoder.size(), Normal);
  for (int b = 0; b < 256; ++b) {
    auto it = encoder.find(encodeUTF8(byteToCp[b]));
    if (it == encoder.end())
      return makeError(path, "byte " + llvm::Twine(b) + " has no token");
    t.byteIds[b] = it->second;
  }
  auto eos = encoder.find("<|endoftext|>");
  t.eos = eos == encoder.end() ? -1 : eos->second;

  llvm::SmallString<256> mergesPath(llvm::sys::path::parent_path(path));
  llvm::sys::path::append(mergesPath,
                          llvm::sys::path::filename(path) == "vocab.json"
                              ? "merges.txt"
                              : "vocab.bpe");
  auto mergesFile = readRegularFile(mergesPath);
  if (!mergesFile)
    return makeError(mergesPath,
                     "cannot read the merges next to '" + path +
                         "': " + llvm::toString(mergesFile.takeError()));
  uint32_t rank = 0;
  llvm::SmallVector<StringRef> lines;
  (*mergesFile)->getBuffer().split(lines, '\n');
  for (StringRef line : lines) {
    line = line.rtrim("\r");
    if (line.empty() || line.starts_with("#version"))
      continue;
    auto [left, right] = line.split(' ');
    auto l = encoder.find(left), r = encoder.find(right),
         m = encoder.find((left + right).str());
    if (right.empty() || l == encoder.end() || r == encoder.end() ||
        m == encoder.end())
      return makeError(mergesPath, "merge '" + line + "' uses unknown tokens");
    t.merges.push_back({uint32_t(l->second), uint32_t(r->second), rank++,
                        uint32_t(m->second)});
  }
  llvm::sort(t.merges, [](const auto &a, const auto &b) {
    return std::make_pair(a[0], a[1]) < std::make_pair(b[0], b[1]);
  });
  return t;
}

//===----------------------------------------------------------------------===//
// Layout
//===----------------------------------------------------------------------===//

class BlobWriter {
public:
  size_t offset() const { return bytes.size(); }
  void align() {
    while (bytes.size() % 4)
      bytes.push_back(0);
  }
  void u32(uint32_t v) {
    for (int i = 0; i < 4; ++i)
      bytes.push_back(uint8_t(v >> (8 * i)));
  }
  void raw(const void *data, size_t size) {
    auto *p = static_cast<const uint8_t *>(data);
    bytes.insert(bytes.end(), p, p + size);
  }
  void patch(size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i)
      bytes[at + i] = uint8_t(v >> (8 * i));
  }
  std::vector<uint8_t> bytes;
};

std::vector<uint8_t> layout(const Tables &t) {
  BlobWriter w;
  uint32_t vocab = t.pieces.size();
  w.raw("MSTK", 4);
  for (uint32_t v : {1u, t.kind, vocab, uint32_t(t.bos), uint32_t(t.eos),
                     uint32_t(t.unk), t.flags})
    w.u32(v);
  size_t table = w.offset(); // 9 offsets and counts, patched below.
  for (int i = 0; i < 9; ++i)
    w.u32(0);
  auto section = [&](int index) {
    w.align();
    w.patch(table + 4 * index, w.offset());
  };

  section(0); // piece offsets
  uint32_t running = 0;
  for (const std::string &piece : t.pieces) {
    w.u32(running);
    running += piece.size();
  }
  w.u32(running);
  section(1); // piece bytes
  for (const std::string &piece : t.pieces)
    w.raw(piece.data(), piece.size());
  section(2); // scores
  w.raw(t.scores.data(), t.scores.size() * sizeof(float));
  section(3); // types
  w.raw(t.types.data(), t.types.size());
  section(4); // ids sorted by piece bytes
  std::vector<uint32_t> sorted(vocab);
  std::iota(sorted.begin(), sorted.end(), 0);
  llvm::sort(sorted, [&](uint32_t a, uint32_t b) {
    return t.pieces[a] != t.pieces[b] ? t.pieces[a] < t.pieces[b] : a < b;
  });
  for (uint32_t id : sorted)
    w.u32(id);
  section(5); // byte ids
  for (int32_t id : t.byteIds)
    w.u32(uint32_t(id));
  section(6); // merges
  for (const auto &merge : t.merges)
    for (uint32_t v : merge)
      w.u32(v);
  w.patch(table + 4 * 7, t.merges.size());
  w.align();
  w.patch(table + 4 * 8, w.offset());
  return std::move(w.bytes);
}

} // namespace

llvm::Expected<std::vector<uint8_t>>
mlir::microscale::buildTokenizerBlob(StringRef path) {
  StringRef name = llvm::sys::path::filename(path);
  llvm::Expected<Tables> tables =
      llvm::createStringError(llvm::inconvertibleErrorCode(), "unreachable");
  llvm::consumeError(tables.takeError());
  if (name.ends_with(".model")) {
    auto file = readRegularFile(path);
    if (!file)
      return makeError(path,
                       "cannot read: " + llvm::toString(file.takeError()));
    tables = readSentencePiece(path, (*file)->getBuffer());
  } else if (name == "encoder.json" || name == "vocab.json") {
    tables = readGPT2(path);
  } else {
    return makeError(path, "unknown tokenizer format (expected a "
                           "SentencePiece .model, encoder.json or vocab.json)");
  }
  if (!tables)
    return tables.takeError();
  return layout(*tables);
}

llvm::Expected<std::vector<uint8_t>> mlir::microscale::buildModelTokenizerBlob(
    StringRef tokenizer, StringRef modelDir, int64_t vocabSize) {
  llvm::SmallString<256> path(tokenizer);
  if (llvm::sys::path::is_relative(path)) {
    path = modelDir;
    llvm::sys::path::append(path, tokenizer);
  }
  auto blob = buildTokenizerBlob(path);
  if (!blob)
    return blob.takeError();
  // Header field 3 is the vocabulary size (tokenizer.h).
  uint32_t tokenizerVocab;
  std::memcpy(&tokenizerVocab, blob->data() + 12, 4);
  if (tokenizerVocab != vocabSize)
    return makeError(path, "the tokenizer has " + llvm::Twine(tokenizerVocab) +
                               " tokens but the model's vocabulary is " +
                               llvm::Twine(vocabSize));
  return std::move(*blob);
}
