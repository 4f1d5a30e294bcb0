/*===- sampler.h - choosing the next token ---------------------------------===*
 *
 * Part of the Microscale project.
 *
 * Part of the freestanding core: no allocation, the caller provides the
 * scratch.
 *
 *===----------------------------------------------------------------------===*/

#ifndef MICROSCALE_SAMPLER_H
#define MICROSCALE_SAMPLER_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ms_sampler {
  float temperature;        /* 0: greedy */
  float top_p;              /* 1: off */
  int64_t top_k;            /* 0: off */
  float repetition_penalty; /* 1: off */
  uint64_t rng_state;
  /* Scratch of vocab entries, provided by the caller at start-up. */
  float *probabilities;
  int32_t *indices;
} ms_sampler;

/* xorshift64* seeded with `seed`: same seed, same choices. */
void ms_sampler_seed(ms_sampler *sampler, uint64_t seed);

/* Picks a token from `logits` (modified in place). `history` holds the ids
 * generated or given so far, for the repetition penalty. */
int32_t ms_sample(ms_sampler *sampler, float *logits, int64_t vocab,
                  const int32_t *history, int64_t history_length);

#ifdef __cplusplus
}
#endif

#endif /* MICROSCALE_SAMPLER_H */
