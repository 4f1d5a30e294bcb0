/*===- generate.c - text generation over the generated ms_forward ----------===*
 *
 * Part of the Microscale project.
 *
 *===----------------------------------------------------------------------===*/

#include "microscale/generate.h"

#include "core/builtins.h"
#include "microscale/runtime.h"

float *ms_feed(const int32_t *ids, int64_t count, int64_t pos,
               ms_logits_fn consume, void *context) {
  float *last = 0;
  for (int64_t done = 0; done < count;) {
    int64_t chunk = count - done;
    if (chunk > ms_model.max_tokens)
      chunk = ms_model.max_tokens;
    float *logits =
        ms_forward(ids + done, chunk, pos + done, consume ? chunk : 1);
    if (consume)
      consume(context, logits, done, chunk);
    last = consume ? logits + (chunk - 1) * ms_model.vocab_size : logits;
    done += chunk;
  }
  return last;
}

void ms_generation_init(ms_generation *g, ms_sampler sampler,
                        int32_t *history) {
  g->sampler = sampler;
  g->history = history;
  g->length = 0;
  g->logits = 0;
}

int ms_generation_prefill(ms_generation *g, const int32_t *ids, int64_t count) {
  if (count < 1)
    return MS_GENERATION_ERROR_EMPTY;
  if (count >= ms_model.max_context)
    return MS_GENERATION_ERROR_CONTEXT;
  ms_memcpy(g->history, ids, (size_t)count * sizeof(int32_t));
  g->logits = ms_feed(ids, count, 0, 0, 0);
  g->length = count;
  return 0;
}

int32_t ms_generation_sample(ms_generation *g) {
  return ms_sample(&g->sampler, g->logits, ms_model.vocab_size, g->history,
                   g->length);
}

int ms_generation_step(ms_generation *g, int32_t id) {
  if (g->length >= ms_model.max_context)
    return MS_GENERATION_ERROR_CONTEXT;
  g->history[g->length] = id;
  g->logits = ms_forward(&g->history[g->length], 1, g->length, 1);
  ++g->length;
  return 0;
}

int ms_generation_token_text(const ms_generation *g, const ms_tokenizer *t,
                             int32_t id, char *out, size_t cap) {
  int32_t prev = g->length > 0 ? g->history[g->length - 1] : -1;
  return ms_tokenizer_decode(t, prev, id, out, cap);
}
