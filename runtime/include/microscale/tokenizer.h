/*===- tokenizer.h - the generated program's tokenizer --------------------===*
 *
 * Part of the Microscale project.
 *
 * The compiler bakes the model's tokenizer into the program as one read-only
 * blob (`ms_tokenizer_blob`); this code reads it in place, without
 * allocating and without an OS (part of the freestanding core). Two
 * algorithms: SentencePiece BPE (Llama family: pieces with
 * scores, U+2581 for spaces, byte fallback) and GPT-2 byte-level BPE
 * (pretokenized words, merge ranks).
 *
 * Blob format (little-endian; all offsets from the blob start):
 *   0  magic "MSTK"            4  version (1)
 *   8  kind (1 SentencePiece, 2 GPT-2)
 *  12  vocab size V           16  bos id (-1: none)
 *  20  eos id (-1: none)      24  unk id (-1: none)
 *  28  flags: bit 0 add dummy prefix, bit 1 byte fallback,
 *             bit 2 remove extra whitespaces, bit 3 whitespace-only pieces
 *  32  offset of piece offsets: uint32[V + 1] into the piece bytes
 *  36  offset of piece bytes: SentencePiece pieces as in the vocabulary
 *      (U+2581 for spaces); GPT-2 tokens as the raw bytes they stand for
 *  40  offset of scores: float[V] (SentencePiece merge priority)
 *  44  offset of piece types: uint8[V] (1 normal, 2 unknown, 3 control,
 *      4 user defined, 5 unused, 6 byte)
 *  48  offset of sorted ids: uint32[V], ids ordered by piece bytes
 *  52  offset of byte ids: int32[256], the id standing for each byte
 *      (SentencePiece <0xXX> pieces; GPT-2 single-byte tokens), -1 if none
 *  56  offset of merges: uint32[4 * M] sorted (left id, right id, rank,
 *      merged id) quadruples (GPT-2)
 *  60  M                      64  total blob size
 *
 * GPT-2 pretokenization needs Unicode letter/number classes; those tables
 * are compiled into the runtime (unicode_tables.c), not carried per model.
 *
 *===----------------------------------------------------------------------===*/

#ifndef MICROSCALE_TOKENIZER_H
#define MICROSCALE_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
  MS_TOKENIZER_SENTENCEPIECE = 1,
  MS_TOKENIZER_GPT2 = 2,
};

enum {
  MS_TOKENIZER_ERROR_BLOB = -1,     /* malformed blob */
  MS_TOKENIZER_ERROR_UTF8 = -2,     /* input is not valid UTF-8 */
  MS_TOKENIZER_ERROR_CAPACITY = -3, /* more ids than max_ids */
  MS_TOKENIZER_ERROR_SCRATCH = -4,  /* scratch too small */
};

typedef struct ms_tokenizer {
  const uint8_t *blob;
  int32_t kind;
  int32_t vocab_size;
  int32_t bos_id, eos_id, unk_id;
  uint32_t flags;
  const uint32_t *piece_offsets;
  const char *piece_bytes;
  const float *scores;
  const uint8_t *types;
  const uint32_t *sorted_ids;
  const int32_t *byte_ids;
  const uint32_t *merges;
  uint32_t num_merges;
  uint32_t max_piece_bytes; /* the longest piece, in bytes */
} ms_tokenizer;

/* Validates `blob` (its tables lie inside it) and fills `t`. Returns 0 or
 * MS_TOKENIZER_ERROR_BLOB. */
int ms_tokenizer_init(ms_tokenizer *t, const uint8_t *blob, int64_t size);

/* Scratch bytes ms_tokenizer_encode needs for `len` bytes of text. */
size_t ms_tokenizer_scratch_bytes(const ms_tokenizer *t, size_t len);

/* Encodes `text` to ids (with a leading BOS if add_bos and the model has
 * one). Returns the number of ids or a negative MS_TOKENIZER_ERROR_*. */
int64_t ms_tokenizer_encode(const ms_tokenizer *t, const char *text, size_t len,
                            int add_bos, int32_t *ids, int64_t max_ids,
                            void *scratch, size_t scratch_bytes);

/* Writes the text of `id` as printed while streaming after `prev_id` into
 * out (NUL-terminated; a byte piece may itself be a NUL) and returns its
 * length, or -1 if cap is too small or id is not in the vocabulary. A cap
 * of max_piece_bytes + 2 always suffices. */
int ms_tokenizer_decode(const ms_tokenizer *t, int32_t prev_id, int32_t id,
                        char *out, size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* MICROSCALE_TOKENIZER_H */
