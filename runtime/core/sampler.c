/*===- sampler.c - choosing the next token ---------------------------------===*
 *
 * Part of the Microscale project.
 *
 * Greedy, temperature, top-k, top-p (nucleus) and repetition penalty, in
 * the order llama.cpp and Hugging Face apply them: penalty, then
 * temperature, then the truncations, then a draw. Freestanding: the
 * caller provides the scratch, candidates are ranked with an in-place heap.
 *
 *===----------------------------------------------------------------------===*/

#include "microscale/sampler.h"

#include "core/builtins.h"

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

/* Whether candidate a goes before candidate b: more probable first, then
 * the lower id, a total order, so the choice never depends on how the
 * candidates were sorted. */
static int before(const float *p, int32_t a, int32_t b) {
  return p[a] > p[b] || (p[a] == p[b] && a < b);
}

/* Restores a heap whose root is its last candidate in `before` order. */
static void sift_down(int32_t *heap, int64_t n, int64_t i, const float *p) {
  for (;;) {
    int64_t last = i, left = 2 * i + 1, right = left + 1;
    if (left < n && before(p, heap[last], heap[left]))
      last = left;
    if (right < n && before(p, heap[last], heap[right]))
      last = right;
    if (last == i)
      return;
    int32_t swap = heap[i];
    heap[i] = heap[last];
    heap[last] = swap;
    i = last;
  }
}

/* Moves the best `keep` of the n candidates in `order` to its front, best
 * first: a heap of the kept ones whose root is the one to evict next, then
 * a heap sort. O(n log keep), in place, no allocation. */
static void select_best(int32_t *order, int64_t n, int64_t keep,
                        const float *p) {
  for (int64_t i = keep / 2 - 1; i >= 0; --i)
    sift_down(order, keep, i, p);
  for (int64_t i = keep; i < n; ++i)
    if (before(p, order[i], order[0])) {
      order[0] = order[i];
      sift_down(order, keep, 0, p);
    }
  for (int64_t end = keep - 1; end > 0; --end) {
    int32_t swap = order[0];
    order[0] = order[end];
    order[end] = swap;
    sift_down(order, end, 0, p);
  }
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
    p[i] = ms_expf((logits[i] - max_logit) / sampler->temperature);
    total += p[i];
  }
  for (int64_t i = 0; i < vocab; ++i)
    p[i] = (float)(p[i] / total);

  int32_t *order = sampler->indices;
  int top_k = sampler->top_k > 0 && sampler->top_k < vocab;
  int top_p = sampler->top_p > 0.0f && sampler->top_p < 1.0f;
  if (!top_k && !top_p) {
    float r = next_uniform(sampler), cumulative = 0.0f;
    for (int64_t i = 0; i < vocab; ++i) {
      cumulative += p[i];
      if (r < cumulative)
        return (int32_t)i;
    }
    return argmax(p, vocab);
  }
  /* A token less probable than (1 - top_p) / (vocab - 1) is never in the
   * nucleus: all such tokens together hold less than 1 - top_p. Dropping
   * them first keeps the sort to a few hundred candidates (llama2.c's
   * trick). If none is left (a near-uniform distribution), keep all. */
  int64_t filtered = 0;
  if (top_p) {
    float cutoff = (1.0f - sampler->top_p) / (float)(vocab - 1);
    for (int64_t i = 0; i < vocab; ++i)
      if (p[i] >= cutoff)
        order[filtered++] = (int32_t)i;
  }
  if (filtered == 0) {
    for (int64_t i = 0; i < vocab; ++i)
      order[i] = (int32_t)i;
    filtered = vocab;
  }
  int64_t candidates =
      top_k && sampler->top_k < filtered ? sampler->top_k : filtered;
  select_best(order, filtered, candidates, p);
  if (top_p) {
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
