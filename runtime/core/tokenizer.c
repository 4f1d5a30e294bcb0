/*===- tokenizer.c - SentencePiece BPE and GPT-2 byte-level BPE ------------===*
 *
 * Part of the Microscale project.
 *
 * Encoders that give exactly the ids of the reference implementations:
 * SentencePiece's BPE model (normalization with identity rules, dummy
 * prefix, whitespace-delimited words, highest-score-first merges with the
 * leftmost pair winning ties, byte fallback) and OpenAI's GPT-2 encoder
 * (regex pretokenization, lowest-rank merge applied to every occurrence).
 * All working memory comes from the caller's scratch buffer.
 *
 *===----------------------------------------------------------------------===*/

#include "microscale/tokenizer.h"

#include "core/builtins.h"

/* Unicode classes for GPT-2 pretokenization (unicode_tables.c). */
int ms_unicode_is_letter(uint32_t c);
int ms_unicode_is_number(uint32_t c);

static uint32_t read_u32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

/* Whether the table of `bytes` bytes at `offset` lies inside the blob. */
static int table_fits(int64_t size, uint32_t offset, uint64_t bytes) {
  return offset >= 68 && (uint64_t)offset + bytes <= (uint64_t)size;
}

int ms_tokenizer_init(ms_tokenizer *t, const uint8_t *blob, int64_t size) {
  if (!blob || size < 68 || ms_memcmp(blob, "MSTK", 4) != 0 ||
      read_u32(blob + 4) != 1 || read_u32(blob + 64) != (uint64_t)size)
    return MS_TOKENIZER_ERROR_BLOB;
  t->blob = blob;
  t->kind = (int32_t)read_u32(blob + 8);
  t->vocab_size = (int32_t)read_u32(blob + 12);
  t->bos_id = (int32_t)read_u32(blob + 16);
  t->eos_id = (int32_t)read_u32(blob + 20);
  t->unk_id = (int32_t)read_u32(blob + 24);
  t->flags = read_u32(blob + 28);
  t->num_merges = read_u32(blob + 60);
  uint64_t vocab = (uint64_t)t->vocab_size;
  if ((t->kind != MS_TOKENIZER_SENTENCEPIECE && t->kind != MS_TOKENIZER_GPT2) ||
      t->vocab_size <= 0 ||
      !table_fits(size, read_u32(blob + 32), 4 * vocab + 4) ||
      !table_fits(size, read_u32(blob + 36), 0) ||
      !table_fits(size, read_u32(blob + 40), 4 * vocab) ||
      !table_fits(size, read_u32(blob + 44), vocab) ||
      !table_fits(size, read_u32(blob + 48), 4 * vocab) ||
      !table_fits(size, read_u32(blob + 52), 4 * 256) ||
      !table_fits(size, read_u32(blob + 56), 16 * (uint64_t)t->num_merges))
    return MS_TOKENIZER_ERROR_BLOB;
  /* Offsets are 4-byte aligned by the compiler. */
  t->piece_offsets = (const uint32_t *)(blob + read_u32(blob + 32));
  t->piece_bytes = (const char *)(blob + read_u32(blob + 36));
  t->scores = (const float *)(blob + read_u32(blob + 40));
  t->types = blob + read_u32(blob + 44);
  t->sorted_ids = (const uint32_t *)(blob + read_u32(blob + 48));
  t->byte_ids = (const int32_t *)(blob + read_u32(blob + 52));
  t->merges = (const uint32_t *)(blob + read_u32(blob + 56));
  /* Pieces are in order and inside the blob; the longest sizes buffers. */
  t->max_piece_bytes = 0;
  for (int32_t id = 0; id < t->vocab_size; ++id) {
    uint32_t begin = t->piece_offsets[id], end = t->piece_offsets[id + 1];
    if (end < begin)
      return MS_TOKENIZER_ERROR_BLOB;
    if (end - begin > t->max_piece_bytes)
      t->max_piece_bytes = end - begin;
  }
  if (!table_fits(size, read_u32(blob + 36), t->piece_offsets[t->vocab_size]))
    return MS_TOKENIZER_ERROR_BLOB;
  return 0;
}

/* Length of the UTF-8 character at s (at most n bytes), its code point in
 * *cp; 0 if the bytes are not valid UTF-8. */
static int utf8_char(const unsigned char *s, size_t n, uint32_t *cp) {
  if (n == 0)
    return 0;
  unsigned char c = s[0];
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  int len;
  uint32_t min;
  if ((c & 0xE0) == 0xC0)
    len = 2, *cp = c & 0x1F, min = 0x80;
  else if ((c & 0xF0) == 0xE0)
    len = 3, *cp = c & 0x0F, min = 0x800;
  else if ((c & 0xF8) == 0xF0)
    len = 4, *cp = c & 0x07, min = 0x10000;
  else
    return 0;
  if ((size_t)len > n)
    return 0;
  for (int i = 1; i < len; ++i) {
    if ((s[i] & 0xC0) != 0x80)
      return 0;
    *cp = *cp << 6 | (s[i] & 0x3F);
  }
  if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF))
    return 0;
  return len;
}

/*---------------------------------------------------------------------------
 * SentencePiece BPE
 *-------------------------------------------------------------------------*/

enum { PIECE_NORMAL = 1, PIECE_USER_DEFINED = 4, PIECE_BYTE = 6 };

/* Id of the normal or user-defined piece spelled `text`, or -1. */
static int32_t find_piece(const ms_tokenizer *t, const char *text, size_t len) {
  int64_t lo = 0, hi = t->vocab_size - 1;
  while (lo <= hi) {
    int64_t mid = (lo + hi) / 2;
    uint32_t id = t->sorted_ids[mid];
    const char *piece = t->piece_bytes + t->piece_offsets[id];
    size_t piece_len = t->piece_offsets[id + 1] - t->piece_offsets[id];
    size_t common = piece_len < len ? piece_len : len;
    int order = ms_memcmp(piece, text, common);
    if (order == 0)
      order = piece_len < len ? -1 : piece_len > len ? 1 : 0;
    if (order == 0)
      return t->types[id] == PIECE_NORMAL || t->types[id] == PIECE_USER_DEFINED
                 ? (int32_t)id
                 : -1;
    if (order < 0)
      lo = mid + 1;
    else
      hi = mid - 1;
  }
  return -1;
}

typedef struct {
  uint32_t start, len; /* bytes of the normalized text */
} symbol;

static const char kSpace[] = "\xe2\x96\x81"; /* U+2581 */

/* Appends the ids of one whitespace-delimited word. */
static int64_t encode_sp_word(const ms_tokenizer *t, const char *text,
                              size_t len, symbol *symbols, int32_t *ids,
                              int64_t count, int64_t max_ids) {
  size_t n = 0;
  for (size_t i = 0; i < len;) {
    uint32_t cp;
    int clen = utf8_char((const unsigned char *)text + i, len - i, &cp);
    symbols[n].start = (uint32_t)i;
    symbols[n].len = (uint32_t)clen;
    ++n;
    i += clen;
  }
  /* Merge the best adjacent pair until none is a piece. */
  for (;;) {
    int64_t best = -1;
    float best_score = 0.0f;
    for (size_t i = 0; i + 1 < n; ++i) {
      int32_t id = find_piece(t, text + symbols[i].start,
                              symbols[i].len + symbols[i + 1].len);
      if (id >= 0 && (best < 0 || t->scores[id] > best_score)) {
        best = (int64_t)i;
        best_score = t->scores[id];
      }
    }
    if (best < 0)
      break;
    symbols[best].len += symbols[best + 1].len;
    ms_memmove(&symbols[best + 1], &symbols[best + 2],
               (n - best - 2) * sizeof(symbol));
    --n;
  }
  for (size_t i = 0; i < n; ++i) {
    int32_t id = find_piece(t, text + symbols[i].start, symbols[i].len);
    if (id >= 0) {
      if (count >= max_ids)
        return MS_TOKENIZER_ERROR_CAPACITY;
      ids[count++] = id;
      continue;
    }
    if (t->flags & 2) { /* byte fallback */
      for (uint32_t b = 0; b < symbols[i].len; ++b) {
        if (count >= max_ids)
          return MS_TOKENIZER_ERROR_CAPACITY;
        ids[count++] = t->byte_ids[(unsigned char)text[symbols[i].start + b]];
      }
      continue;
    }
    if (count >= max_ids)
      return MS_TOKENIZER_ERROR_CAPACITY;
    ids[count++] = t->unk_id;
  }
  return count;
}

static int64_t encode_sentencepiece(const ms_tokenizer *t, const char *text,
                                    size_t len, int32_t *ids, int64_t count,
                                    int64_t max_ids, char *scratch) {
  /* Normalize: optionally drop extra spaces, add the dummy prefix, and
   * spell spaces as U+2581. */
  int remove_extra = (t->flags & 4) != 0;
  size_t begin = 0, end = len;
  if (remove_extra) {
    while (begin < end && text[begin] == ' ')
      ++begin;
    while (end > begin && text[end - 1] == ' ')
      --end;
  }
  char *normalized = scratch;
  size_t m = 0;
  if (begin < end && (t->flags & 1)) {
    ms_memcpy(normalized, kSpace, 3);
    m = 3;
  }
  for (size_t i = begin; i < end; ++i) {
    if (text[i] == ' ') {
      if (remove_extra && i > begin && text[i - 1] == ' ')
        continue;
      ms_memcpy(normalized + m, kSpace, 3);
      m += 3;
    } else {
      normalized[m++] = text[i];
    }
  }
  symbol *symbols = (symbol *)(scratch + ((m + 7) & ~(size_t)7));
  /* Words start at a U+2581; with whitespace-only pieces a run of them
   * stays with the word that follows. */
  int ws_runs = (t->flags & 8) != 0;
  size_t word = 0;
  int in_ws = 0;
  for (size_t i = 0; i < m;) {
    uint32_t cp;
    int clen = utf8_char((const unsigned char *)normalized + i, m - i, &cp);
    int is_ws = clen == 3 && ms_memcmp(normalized + i, kSpace, 3) == 0;
    if (i > 0 && is_ws && (!in_ws || !ws_runs)) {
      count = encode_sp_word(t, normalized + word, i - word, symbols, ids,
                             count, max_ids);
      if (count < 0)
        return count;
      word = i;
    }
    if (is_ws)
      in_ws = 1;
    else
      in_ws = 0;
    i += clen;
  }
  if (word < m)
    count = encode_sp_word(t, normalized + word, m - word, symbols, ids, count,
                           max_ids);
  return count;
}

/*---------------------------------------------------------------------------
 * GPT-2 byte-level BPE
 *-------------------------------------------------------------------------*/

/* Rank and result of merging (left, right), or -1. */
static int64_t find_merge(const ms_tokenizer *t, int32_t left, int32_t right,
                          int32_t *merged) {
  int64_t lo = 0, hi = (int64_t)t->num_merges - 1;
  while (lo <= hi) {
    int64_t mid = (lo + hi) / 2;
    const uint32_t *m = t->merges + 4 * mid;
    int order = m[0] != (uint32_t)left    ? (m[0] < (uint32_t)left ? -1 : 1)
                : m[1] != (uint32_t)right ? (m[1] < (uint32_t)right ? -1 : 1)
                                          : 0;
    if (order == 0) {
      *merged = (int32_t)m[3];
      return m[2];
    }
    if (order < 0)
      lo = mid + 1;
    else
      hi = mid - 1;
  }
  return -1;
}

static int64_t encode_gpt2_word(const ms_tokenizer *t, const char *text,
                                size_t len, int32_t *word, int32_t *ids,
                                int64_t count, int64_t max_ids) {
  size_t n = len;
  for (size_t i = 0; i < len; ++i)
    word[i] = t->byte_ids[(unsigned char)text[i]];
  while (n > 1) {
    int64_t best_rank = -1;
    int32_t left = 0, right = 0, merged = 0;
    for (size_t i = 0; i + 1 < n; ++i) {
      int32_t result;
      int64_t rank = find_merge(t, word[i], word[i + 1], &result);
      if (rank >= 0 && (best_rank < 0 || rank < best_rank)) {
        best_rank = rank;
        left = word[i];
        right = word[i + 1];
        merged = result;
      }
    }
    if (best_rank < 0)
      break;
    /* Merge every occurrence, left to right, as the reference does. */
    size_t out = 0;
    for (size_t i = 0; i < n;) {
      if (i + 1 < n && word[i] == left && word[i + 1] == right) {
        word[out++] = merged;
        i += 2;
      } else {
        word[out++] = word[i++];
      }
    }
    n = out;
  }
  if (count + (int64_t)n > max_ids)
    return MS_TOKENIZER_ERROR_CAPACITY;
  for (size_t i = 0; i < n; ++i)
    ids[count++] = word[i];
  return count;
}

/* JavaScript's \s, which the reference pattern uses. */
static int is_space(uint32_t c) {
  return (c >= 9 && c <= 13) || c == 32 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
         c == 0x202F || c == 0x205F || c == 0x3000 || c == 0xFEFF;
}

enum { CLASS_LETTER, CLASS_NUMBER, CLASS_OTHER, CLASS_SPACE };

static int char_class(uint32_t c) {
  if (is_space(c))
    return CLASS_SPACE;
  if (ms_unicode_is_letter(c))
    return CLASS_LETTER;
  if (ms_unicode_is_number(c))
    return CLASS_NUMBER;
  return CLASS_OTHER;
}

/* Splits like 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+|
 * ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ and encodes each piece. */
static int64_t encode_gpt2(const ms_tokenizer *t, const char *text, size_t len,
                           int32_t *ids, int64_t count, int64_t max_ids,
                           int32_t *word) {
  const unsigned char *s = (const unsigned char *)text;
  size_t i = 0;
  while (i < len) {
    uint32_t c;
    int clen = utf8_char(s + i, len - i, &c);
    size_t start = i, end = i;
    static const struct {
      char text[4];
      size_t len;
    } contractions[] = {{"'s", 2}, {"'t", 2},  {"'re", 3}, {"'ve", 3},
                        {"'m", 2}, {"'ll", 3}, {"'d", 2}};
    int matched = 0;
    if (c == '\'')
      for (int k = 0; k < 7 && !matched; ++k) {
        size_t n = contractions[k].len;
        if (len - i >= n && ms_memcmp(text + i, contractions[k].text, n) == 0) {
          end = i + n;
          matched = 1;
        }
      }
    if (!matched) {
      /* An optional single space, then a run of one class. */
      size_t j = i;
      uint32_t first = c;
      int first_len = clen;
      if (c == ' ' && i + 1 < len) {
        uint32_t next;
        int next_len = utf8_char(s + i + 1, len - i - 1, &next);
        if (next_len && char_class(next) != CLASS_SPACE) {
          j = i + 1;
          first = next;
          first_len = next_len;
        }
      }
      int cls = char_class(first);
      if (cls != CLASS_SPACE) {
        end = j + first_len;
        while (end < len) {
          uint32_t d;
          int dlen = utf8_char(s + end, len - end, &d);
          if (char_class(d) != cls)
            break;
          end += dlen;
        }
      } else {
        /* Whitespace run; leave its last character to the next piece
         * when one follows (the (?!\S) lookahead). */
        size_t last = i;
        end = i;
        while (end < len) {
          uint32_t d;
          int dlen = utf8_char(s + end, len - end, &d);
          if (char_class(d) != CLASS_SPACE)
            break;
          last = end;
          end += dlen;
        }
        if (end < len && last > i)
          end = last;
      }
    }
    count = encode_gpt2_word(t, text + start, end - start, word, ids, count,
                             max_ids);
    if (count < 0)
      return count;
    i = end;
  }
  return count;
}

/*---------------------------------------------------------------------------
 * Entry points
 *-------------------------------------------------------------------------*/

size_t ms_tokenizer_scratch_bytes(const ms_tokenizer *t, size_t len) {
  if (t->kind == MS_TOKENIZER_GPT2)
    return (len + 1) * sizeof(int32_t);
  /* Normalized text (spaces grow to 3 bytes) plus one symbol per byte. */
  size_t normalized = 3 * len + 8;
  return ((normalized + 7) & ~(size_t)7) + (normalized + 1) * sizeof(symbol);
}

int64_t ms_tokenizer_encode(const ms_tokenizer *t, const char *text, size_t len,
                            int add_bos, int32_t *ids, int64_t max_ids,
                            void *scratch, size_t scratch_bytes) {
  for (size_t i = 0; i < len;) {
    uint32_t cp;
    int clen = utf8_char((const unsigned char *)text + i, len - i, &cp);
    if (clen == 0 || cp == 0)
      return MS_TOKENIZER_ERROR_UTF8;
    i += clen;
  }
  if (scratch_bytes < ms_tokenizer_scratch_bytes(t, len))
    return MS_TOKENIZER_ERROR_SCRATCH;
  int64_t count = 0;
  if (add_bos && t->bos_id >= 0) {
    if (max_ids < 1)
      return MS_TOKENIZER_ERROR_CAPACITY;
    ids[count++] = t->bos_id;
  }
  if (t->kind == MS_TOKENIZER_GPT2)
    return encode_gpt2(t, text, len, ids, count, max_ids, scratch);
  return encode_sentencepiece(t, text, len, ids, count, max_ids, scratch);
}

int ms_tokenizer_decode(const ms_tokenizer *t, int32_t prev_id, int32_t id,
                        char *out, size_t cap) {
  if (id < 0 || id >= t->vocab_size)
    return -1;
  const char *piece = t->piece_bytes + t->piece_offsets[id];
  size_t len = t->piece_offsets[id + 1] - t->piece_offsets[id];
  size_t n = 0;
  if (t->kind == MS_TOKENIZER_GPT2) {
    if (len + 1 > cap)
      return -1;
    ms_memcpy(out, piece, len);
    n = len;
  } else if (t->types[id] == PIECE_BYTE) {
    /* <0xXX> stands for one raw byte. */
    unsigned value = 0;
    for (size_t i = 3; i < 5 && i < len; ++i) {
      char h = piece[i];
      value = value * 16 + (h >= 'A' ? h - 'A' + 10 : h - '0');
    }
    if (cap < 2)
      return -1;
    out[n++] = (char)value;
  } else if (t->types[id] == PIECE_NORMAL ||
             t->types[id] == PIECE_USER_DEFINED) {
    for (size_t i = 0; i < len;) {
      if (len - i >= 3 && ms_memcmp(piece + i, kSpace, 3) == 0) {
        /* The dummy prefix of the first word after BOS is not text. */
        if (!(n == 0 && i == 0 && prev_id == t->bos_id && t->bos_id >= 0)) {
          if (n + 2 > cap)
            return -1;
          out[n++] = ' ';
        }
        i += 3;
      } else {
        if (n + 2 > cap)
          return -1;
        out[n++] = piece[i++];
      }
    }
  }
  out[n] = 0;
  return (int)n;
}
