/*===- sampler.c - choosing the next token ---------------------------------===*
 *
 * Part of the Microscale project.
 *
 * Greedy, temperature, top-k, top-p (nucleus) and repetition penalty, in
 * the order llama.cpp and Hugging Face apply them: penalty, then
 * temperature, then the truncations, then a draw.
 *
 *===----------------------------------------------------------------------===*/

#include "sampler.h"

#include <math.h>
#include <stdlib.h>

void ms_sampler_seed(ms_sampler *sampler, uint64_t seed) {
  sampler->rng_state = seed ? seed : 0x9E3779B97F4A7C15ull;
}

static uint64_t next_random(ms_sampler *sampler) {
  uint64_t x = sampler->rng_state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  sampler->rng_state = x;
  return x * 0x2545F4914F6CDD1Dull;
}

/* Uniform in [0, 1) with 24 bits, exactly representable as float. */
static float next_uniform(ms_sampler *sampler) {
  return (float)(next_random(sampler) >> 40) / 16777216.0f;
}

static int32_t argmax(const float *values, int64_t n) {
  int32_t best = 0;
  for (int64_t i = 1; i < n; ++i)
    if (values[i] > values[best])
      best = (int32_t)i;
  return best;
}

/* Sorts candidate indices by descending probability (ties: lower id). */
static const float *sort_keys;
static int compare_candidates(const void *a, const void *b) {
  int32_t ia = *(const int32_t *)a, ib = *(const int32_t *)b;
  if (sort_keys[ia] != sort_keys[ib])
    return sort_keys[ia] > sort_keys[ib] ? -1 : 1;
  return ia < ib ? -1 : 1;
}

int32_t ms_sample(ms_sampler *sampler, float *logits, int64_t vocab,
                  const int32_t *history, int64_t history_length) {
  if (sampler->repetition_penalty != 1.0f && sampler->repetition_penalty > 0) {
    /* Penalize each id once however often it repeats; the probability
     * scratch marks the ids already done. */
    float *done = sampler->probabilities;
    for (int64_t i = 0; i < vocab; ++i)
      done[i] = 0.0f;
    for (int64_t i = 0; i < history_length; ++i) {
      int32_t id = history[i];
      if (id < 0 || id >= vocab || done[id] != 0.0f)
        continue;
      done[id] = 1.0f;
      logits[id] = logits[id] > 0 ? logits[id] / sampler->repetition_penalty
                                  : logits[id] * sampler->repetition_penalty;
    }
  }
  if (sampler->temperature <= 0.0f || sampler->top_k == 1)
    return argmax(logits, vocab);

  float *p = sampler->probabilities;
  float max_logit = logits[argmax(logits, vocab)];
  double total = 0.0;
  for (int64_t i = 0; i < vocab; ++i) {
    p[i] = expf((logits[i] - max_logit) / sampler->temperature);
    total += p[i];
  }
  for (int64_t i = 0; i < vocab; ++i)
    p[i] = (float)(p[i] / total);

  int64_t candidates = vocab;
  int32_t *order = sampler->indices;
  int truncate = (sampler->top_k > 0 && sampler->top_k < vocab) ||
                 (sampler->top_p > 0.0f && sampler->top_p < 1.0f);
  if (!truncate) {
    float r = next_uniform(sampler), cumulative = 0.0f;
    for (int64_t i = 0; i < vocab; ++i) {
      cumulative += p[i];
      if (r < cumulative)
        return (int32_t)i;
    }
    return argmax(p, vocab);
  }
  for (int64_t i = 0; i < vocab; ++i)
    order[i] = (int32_t)i;
  sort_keys = p;
  qsort(order, (size_t)vocab, sizeof(int32_t), compare_candidates);
  if (sampler->top_k > 0 && sampler->top_k < candidates)
    candidates = sampler->top_k;
  if (sampler->top_p > 0.0f && sampler->top_p < 1.0f) {
    float cumulative = 0.0f;
    for (int64_t i = 0; i < candidates; ++i) {
      cumulative += p[order[i]];
      if (cumulative >= sampler->top_p) {
        candidates = i + 1;
        break;
      }
    }
  }
  float mass = 0.0f;
  for (int64_t i = 0; i < candidates; ++i)
    mass += p[order[i]];
  float r = next_uniform(sampler) * mass, cumulative = 0.0f;
  for (int64_t i = 0; i < candidates; ++i) {
    cumulative += p[order[i]];
    if (r < cumulative)
      return order[i];
  }
  return order[candidates - 1];
}
