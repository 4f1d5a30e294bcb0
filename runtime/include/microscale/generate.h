/*===- generate.h - text generation over the generated ms_forward ----------===*
 *
 * Part of the Microscale project.
 *
 * The loop every front end runs (the hosted CLI, firmware, an app): feed
 * the prompt, then sample a token, print its text, run it, and again. Part
 * of the freestanding core: no allocation (the caller owns every buffer),
 * no OS calls. Typical use:
 *
 *   ms_generation g;
 *   ms_generation_init(&g, sampler, history);   // history: max_context ids
 *   if (ms_generation_prefill(&g, prompt, n) != 0) ...;
 *   for (;;) {
 *     int32_t id = ms_generation_sample(&g);
 *     if (id == ms_model.eos_id) break;
 *     ms_generation_token_text(&g, &tokenizer, id, text, sizeof text);
 *     if (ms_generation_step(&g, id) != 0) break;   // the context is full
 *   }
 *
 *===----------------------------------------------------------------------===*/

#ifndef MICROSCALE_GENERATE_H
#define MICROSCALE_GENERATE_H

#include "microscale/sampler.h"
#include "microscale/tokenizer.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Receives the logits of tokens first .. first + count - 1 of a feed. */
typedef void (*ms_logits_fn)(void *context, const float *logits, int64_t first,
                             int64_t count);

/* Runs ids[0, count) at positions pos .. pos + count - 1 through
 * ms_forward in calls of at most ms_model.max_tokens, passing each call's
 * logits (every token's) to `consume` if not NULL; without it only the last
 * token's logits are computed. Returns the last token's logits. The caller
 * keeps 1 <= count and pos + count <= ms_model.max_context. */
float *ms_feed(const int32_t *ids, int64_t count, int64_t pos,
               ms_logits_fn consume, void *context);

enum {
  MS_GENERATION_ERROR_EMPTY = -1,   /* no prompt tokens */
  MS_GENERATION_ERROR_CONTEXT = -2, /* no KV-cache position left */
};

/* A sequence being generated. The KV cache holds history[0, length). */
typedef struct ms_generation {
  ms_sampler sampler;
  int32_t *history; /* ms_model.max_context ids, the caller's */
  int64_t length;
  float *logits; /* the next token's logits (ms_forward's buffer) */
} ms_generation;

/* Starts an empty sequence. */
void ms_generation_init(ms_generation *g, ms_sampler sampler, int32_t *history);

/* Runs the prompt ids[0, count) from position 0. Returns 0,
 * MS_GENERATION_ERROR_EMPTY or MS_GENERATION_ERROR_CONTEXT (the prompt
 * fills the whole context: no position left to generate into). */
int ms_generation_prefill(ms_generation *g, const int32_t *ids, int64_t count);

/* Chooses the next token from the current logits (which it modifies), with
 * the history for the repetition penalty. Call once per step. */
int32_t ms_generation_sample(ms_generation *g);

/* Appends `id` to the sequence and runs it, making the logits of the token
 * after it current. Returns 0, or MS_GENERATION_ERROR_CONTEXT when the
 * context is full (nothing is run). */
int ms_generation_step(ms_generation *g, int32_t id);

/* The text of `id` printed after the sequence so far (ms_tokenizer_decode
 * with the last id as the previous one); its length, or -1. */
int ms_generation_token_text(const ms_generation *g, const ms_tokenizer *t,
                             int32_t id, char *out, size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* MICROSCALE_GENERATE_H */
