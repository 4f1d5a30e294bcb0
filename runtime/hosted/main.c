/*===- main.c - the generated program's command line ----------------------===*
 *
 * Part of the Microscale project.
 *
 *   prog generate --prompt TEXT [-n 64] [--temperature T] [--top-p P]
 *                 [--top-k K] [--repetition-penalty R] [--seed S]
 *   prog perplexity --file TEXT --ctx N [--json] [--logprobs-out PATH]
 *   prog bench [--prompt-tokens 128] [--gen-tokens 128] [--runs 3] [--json]
 *   prog info [--json]
 *   prog run --prompt-ids 1,2,3 [-n N] [--json] [--logits FILE]
 *   prog tokenize --file TEXT [--bos]
 *   every command: [--threads N]
 *
 * The hosted layer of the runtime: flags, files, timing and output. The
 * generation loop, sampler and tokenizer are the freestanding core's
 * (generate.h). Everything the program needs is allocated once, before any
 * work, from the sizes in ms_model and the input's length; the model's own
 * activations and KV cache live in the arena the compiler placed in .bss.
 * Errors print one line on stderr and exit with 1 (2 for usage).
 *
 *===----------------------------------------------------------------------===*/

#include "kernels/parallel.h"
#include "microscale/generate.h"
#include "microscale/runtime.h"
#include "microscale/sampler.h"
#include "microscale/tokenizer.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/*---------------------------------------------------------------------------
 * Errors and flags
 *-------------------------------------------------------------------------*/

static const char *program = "model";

static void die(const char *format, const char *detail) {
  fprintf(stderr, "%s: error: ", program);
  fprintf(stderr, format, detail);
  fputc('\n', stderr);
  exit(1);
}

static void usage(void) {
  fprintf(stderr,
          "usage: %s <command> [flags]\n"
          "  generate --prompt TEXT [-n 64] [--temperature 0.8] [--top-p 0.9]\n"
          "           [--top-k 0] [--repetition-penalty 1] [--seed 0]\n"
          "  perplexity --file TEXT --ctx N [--json] [--logprobs-out PATH]\n"
          "  bench [--prompt-tokens 128] [--gen-tokens 128] [--runs 3] "
          "[--json]\n"
          "  info [--json]\n"
          "  run --prompt-ids 1,2,3 [-n 16] [--json] [--logits FILE]\n"
          "  tokenize --file TEXT [--bos]\n"
          "all commands take --threads N (default: all cores)\n",
          program);
  exit(2);
}

typedef struct {
  const char *prompt, *file, *prompt_ids, *logits_file, *logprobs_file;
  long long tokens, ctx, prompt_tokens, gen_tokens, runs, threads, top_k;
  double temperature, top_p, repetition_penalty;
  unsigned long long seed;
  int json, bos;
} options;

/* Every integer flag has a range, checked here: a value such as
 * -n 9223372036854775807 must not reach the arithmetic of a context check
 * or an allocation size. */
static long long parse_int(const char *flag, const char *text, long long min,
                           long long max) {
  char *end;
  errno = 0;
  long long value = strtoll(text, &end, 10);
  if (errno || *end || end == text)
    die("%s expects an integer", flag);
  if (value < min || value > max) {
    fprintf(stderr, "%s: error: %s must be between %lld and %lld\n", program,
            flag, min, max);
    exit(1);
  }
  return value;
}

static double parse_float(const char *flag, const char *text) {
  char *end;
  errno = 0;
  double value = strtod(text, &end);
  if (errno || *end || end == text || !isfinite(value))
    die("%s expects a number", flag);
  return value;
}

static options parse_flags(int argc, char **argv) {
  options o = {0};
  o.tokens = -1; /* the command's default */
  o.prompt_tokens = 128;
  o.gen_tokens = 128;
  o.runs = 3;
  o.temperature = 0.8;
  o.top_p = 0.9;
  o.repetition_penalty = 1.0;
  for (int i = 2; i < argc; ++i) {
    const char *flag = argv[i];
    if (!strcmp(flag, "--json")) {
      o.json = 1;
      continue;
    }
    if (!strcmp(flag, "--bos")) {
      o.bos = 1;
      continue;
    }
    if (i + 1 >= argc)
      die("%s needs a value (or is not a flag)", flag);
    const char *value = argv[++i];
    if (!strcmp(flag, "--prompt"))
      o.prompt = value;
    else if (!strcmp(flag, "--file"))
      o.file = value;
    else if (!strcmp(flag, "--prompt-ids"))
      o.prompt_ids = value;
    else if (!strcmp(flag, "--logits"))
      o.logits_file = value;
    else if (!strcmp(flag, "--logprobs-out"))
      o.logprobs_file = value;
    else if (!strcmp(flag, "-n"))
      o.tokens = parse_int(flag, value, 0, INT32_MAX);
    else if (!strcmp(flag, "--ctx"))
      o.ctx = parse_int(flag, value, 2, INT32_MAX);
    else if (!strcmp(flag, "--prompt-tokens"))
      o.prompt_tokens = parse_int(flag, value, 1, INT32_MAX);
    else if (!strcmp(flag, "--gen-tokens"))
      o.gen_tokens = parse_int(flag, value, 0, INT32_MAX);
    else if (!strcmp(flag, "--runs"))
      o.runs = parse_int(flag, value, 1, 100);
    else if (!strcmp(flag, "--threads"))
      o.threads = parse_int(flag, value, 1, 64);
    else if (!strcmp(flag, "--top-k"))
      o.top_k = parse_int(flag, value, 0, INT32_MAX);
    else if (!strcmp(flag, "--seed"))
      o.seed = (unsigned long long)parse_int(flag, value, LLONG_MIN, LLONG_MAX);
    else if (!strcmp(flag, "--temperature"))
      o.temperature = parse_float(flag, value);
    else if (!strcmp(flag, "--top-p"))
      o.top_p = parse_float(flag, value);
    else if (!strcmp(flag, "--repetition-penalty"))
      o.repetition_penalty = parse_float(flag, value);
    else
      die("unknown flag '%s'", flag);
  }
  if (o.temperature < 0)
    die("%s", "--temperature must be >= 0");
  if (o.top_p <= 0 || o.top_p > 1)
    die("%s", "--top-p must be in (0, 1]");
  if (o.repetition_penalty <= 0)
    die("%s", "--repetition-penalty must be > 0");
  return o;
}

/*---------------------------------------------------------------------------
 * Model helpers
 *-------------------------------------------------------------------------*/

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static ms_tokenizer tokenizer;

static void load_tokenizer(void) {
  if (ms_tokenizer_init(&tokenizer, ms_tokenizer_blob,
                        ms_tokenizer_blob_size) != 0)
    die("%s", "this program carries no usable tokenizer");
}

/* Encodes text into an id array allocated here, once; the tokenizer's
 * scratch is freed right after. */
static int64_t encode(const char *text, size_t len, int add_bos,
                      int32_t **ids) {
  size_t need = ms_tokenizer_scratch_bytes(&tokenizer, len);
  int64_t max_ids = (int64_t)len + 2;
  *ids = malloc(max_ids * sizeof(int32_t));
  void *scratch = malloc(need);
  if (!*ids || !scratch)
    die("%s", "out of memory for the input text");
  int64_t count = ms_tokenizer_encode(&tokenizer, text, len, add_bos, *ids,
                                      max_ids, scratch, need);
  free(scratch);
  if (count == MS_TOKENIZER_ERROR_UTF8)
    die("%s", "the input is not valid UTF-8");
  if (count < 0)
    die("%s", "cannot tokenize the input");
  return count;
}

/* Reads a regular file whole. open() must not wait for a FIFO's writer
 * (O_NONBLOCK); the type is checked before anything is read. */
static char *read_file(const char *path, size_t *len) {
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    die("cannot open '%s'", path);
  struct stat info;
  if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode))
    die("'%s' is not a regular file", path);
  FILE *f = fdopen(fd, "rb");
  if (!f)
    die("cannot open '%s'", path);
  size_t size = (size_t)info.st_size;
  char *text = malloc(size + 1);
  if (!text)
    die("'%s' is too large", path);
  if (fread(text, 1, size, f) != size || ferror(f))
    die("cannot read '%s'", path);
  fclose(f);
  text[size] = 0;
  *len = size;
  return text;
}

/* Prints a string as a JSON string literal. */
static void print_json_string(const char *text) {
  putchar('"');
  for (const unsigned char *c = (const unsigned char *)text; *c; ++c) {
    if (*c == '"' || *c == '\\')
      printf("\\%c", *c);
    else if (*c < 0x20)
      printf("\\u%04x", *c);
    else
      putchar(*c);
  }
  putchar('"');
}

/* JSON has no NaN or infinity; a model that produced them gets null. */
static void print_json_number(double value) {
  if (isfinite(value))
    printf("%.6f", value);
  else
    printf("null");
}

/*---------------------------------------------------------------------------
 * Commands
 *-------------------------------------------------------------------------*/

static int command_info(const options *o) {
  const ms_model_info *m = &ms_model;
  if (o->json) {
    printf("{\"arch\": ");
    print_json_string(m->arch);
    printf(", \"vocab_size\": %lld, \"hidden_size\": %lld, "
           "\"num_layers\": %lld, \"num_heads\": %lld, \"num_kv_heads\": %lld, "
           "\"head_dim\": %lld, \"max_context\": %lld, \"max_tokens\": %lld, "
           "\"bos_id\": %lld, \"eos_id\": %lld, \"weight_bytes\": %lld, "
           "\"arena_bytes\": %lld, \"target\": ",
           (long long)m->vocab_size, (long long)m->hidden_size,
           (long long)m->num_layers, (long long)m->num_heads,
           (long long)m->num_kv_heads, (long long)m->head_dim,
           (long long)m->max_context, (long long)m->max_tokens,
           (long long)m->bos_id, (long long)m->eos_id,
           (long long)m->weight_bytes, (long long)m->arena_bytes);
    print_json_string(m->target);
    printf(", \"compression\": ");
    print_json_string(m->compression);
    printf("}\n");
    return 0;
  }
  printf("architecture  %s\n", m->arch);
  printf("vocabulary    %lld\n", (long long)m->vocab_size);
  printf("hidden        %lld\n", (long long)m->hidden_size);
  printf("layers        %lld\n", (long long)m->num_layers);
  printf("heads         %lld (kv %lld, head_dim %lld)\n",
         (long long)m->num_heads, (long long)m->num_kv_heads,
         (long long)m->head_dim);
  printf("context       %lld positions, %lld tokens per call\n",
         (long long)m->max_context, (long long)m->max_tokens);
  printf("bos / eos     %lld / %lld\n", (long long)m->bos_id,
         (long long)m->eos_id);
  printf("weights       %lld bytes\n", (long long)m->weight_bytes);
  printf("arena         %lld bytes\n", (long long)m->arena_bytes);
  printf("target        %s\n", m->target);
  printf("compression   %s\n", m->compression);
  printf("build flags   %s\n", m->build_flags);
  return 0;
}

typedef struct {
  FILE *out;
} logits_writer;

static void write_logits(void *context, const float *logits, int64_t first,
                         int64_t count) {
  logits_writer *w = context;
  (void)first;
  if (fwrite(logits, sizeof(float), count * ms_model.vocab_size, w->out) !=
      (size_t)(count * ms_model.vocab_size))
    die("%s", "cannot write the logits file");
}

static int32_t argmax(const float *row) {
  int32_t best = 0;
  for (int64_t i = 1; i < ms_model.vocab_size; ++i)
    if (row[i] > row[best])
      best = (int32_t)i;
  return best;
}

static int command_run(const options *o) {
  if (!o->prompt_ids)
    die("%s", "run needs --prompt-ids");
  int64_t capacity = ms_model.max_context;
  int32_t *ids = malloc(capacity * sizeof(int32_t));
  if (!ids)
    die("%s", "out of memory");
  int64_t count = 0;
  for (const char *p = o->prompt_ids; *p;) {
    char *end;
    errno = 0;
    long long id = strtoll(p, &end, 10);
    if (errno || end == p || (*end && *end != ','))
      die("--prompt-ids: '%s' is not a list of integers", o->prompt_ids);
    if (id < 0 || id >= ms_model.vocab_size)
      die("--prompt-ids: '%s' has an id outside the vocabulary", o->prompt_ids);
    if (count == capacity)
      die("%s", "the prompt is longer than the context");
    ids[count++] = (int32_t)id;
    p = *end ? end + 1 : end;
  }
  if (count == 0)
    die("%s", "--prompt-ids is empty");
  int64_t steps = o->tokens < 0 ? 16 : o->tokens;
  if (steps > capacity - count)
    die("%s", "prompt plus -n exceeds the context");
  logits_writer writer = {0};
  if (o->logits_file) {
    writer.out = fopen(o->logits_file, "wb");
    if (!writer.out)
      die("cannot write '%s'", o->logits_file);
  }
  const float *last =
      ms_feed(ids, count, 0, writer.out ? write_logits : 0, &writer);
  if (writer.out && fclose(writer.out) != 0)
    die("cannot write '%s'", o->logits_file);
  printf(o->json ? "{\"ids\": [" : "");
  for (int64_t i = 0; i < steps; ++i) {
    int32_t next = argmax(last);
    printf(i ? ",%d" : "%d", next);
    if (i + 1 < steps)
      last = ms_forward(&next, 1, count + i, 1);
  }
  printf(o->json ? "]}\n" : "\n");
  free(ids);
  return 0;
}

static int command_generate(const options *o) {
  if (!o->prompt)
    die("%s", "generate needs --prompt");
  load_tokenizer();
  int32_t *ids;
  int64_t count =
      encode(o->prompt, strlen(o->prompt), ms_model.bos_id >= 0, &ids);
  if (count == 0)
    die("%s", "the prompt is empty");
  int64_t steps = o->tokens < 0 ? 64 : o->tokens;
  if (count >= ms_model.max_context)
    die("%s", "the prompt is longer than the context");
  if (steps > ms_model.max_context - count)
    steps = ms_model.max_context - count;
  ms_sampler sampler = {(float)o->temperature,
                        (float)o->top_p,
                        o->top_k,
                        (float)o->repetition_penalty,
                        0,
                        malloc(ms_model.vocab_size * sizeof(float)),
                        malloc(ms_model.vocab_size * sizeof(int32_t))};
  int32_t *history = malloc(ms_model.max_context * sizeof(int32_t));
  size_t piece_cap = (size_t)tokenizer.max_piece_bytes + 2;
  char *piece = malloc(piece_cap);
  if (!history || !sampler.probabilities || !sampler.indices || !piece)
    die("%s", "out of memory");
  ms_sampler_seed(&sampler, o->seed);
  ms_generation generation;
  ms_generation_init(&generation, sampler, history);

  fputs(o->prompt, stdout);
  fflush(stdout);
  ms_generation_prefill(&generation, ids, count);
  for (int64_t i = 0; i < steps; ++i) {
    int32_t next = ms_generation_sample(&generation);
    if (next == ms_model.eos_id)
      break;
    /* fwrite, not fputs: a byte piece may be a NUL. */
    int length = ms_generation_token_text(&generation, &tokenizer, next, piece,
                                          piece_cap);
    if (length > 0) {
      fwrite(piece, 1, (size_t)length, stdout);
      fflush(stdout);
    }
    if (i + 1 < steps)
      ms_generation_step(&generation, next);
  }
  fputc('\n', stdout);
  free(piece);
  free(history);
  free(sampler.indices);
  free(sampler.probabilities);
  free(ids);
  return 0;
}

/* `perplexity --logprobs-out`: the next-token distribution at every scored
 * position, for comparing two programs on the same ids (`microscale eval`)
 * without keeping tokens x vocabulary floats anywhere. In native byte order:
 *   header  "MSLP", int32 vocabulary size
 *   record  int32 the id that follows, float32 log-softmax[vocabulary]
 * one record per scored token, in the order perplexity scores them. */
typedef struct {
  FILE *out;
  const char *path;
  float *row; /* one log-softmax row, reused */
} logprobs_writer;

static void open_logprobs(logprobs_writer *w, const char *path) {
  w->path = path;
  w->out = fopen(path, "wb");
  w->row = malloc(ms_model.vocab_size * sizeof(float));
  if (!w->out)
    die("cannot write '%s'", path);
  if (!w->row)
    die("%s", "out of memory for a log-probability row");
  int32_t vocab = (int32_t)ms_model.vocab_size;
  if (fwrite("MSLP", 1, 4, w->out) != 4 ||
      fwrite(&vocab, sizeof vocab, 1, w->out) != 1)
    die("cannot write '%s'", path);
}

static void write_logprobs(logprobs_writer *w, const float *logits,
                           double log_total, int32_t next) {
  for (int64_t i = 0; i < ms_model.vocab_size; ++i)
    w->row[i] = (float)((double)logits[i] - log_total);
  if (fwrite(&next, sizeof next, 1, w->out) != 1 ||
      fwrite(w->row, sizeof(float), ms_model.vocab_size, w->out) !=
          (size_t)ms_model.vocab_size)
    die("cannot write '%s'", w->path);
}

static void close_logprobs(logprobs_writer *w) {
  if (fclose(w->out) != 0)
    die("cannot write '%s'", w->path);
  free(w->row);
}

typedef struct {
  const int32_t *window;
  int64_t length;
  double nll;
  int64_t scored;
  logprobs_writer *logprobs; /* null: no --logprobs-out */
} window_score;

static void score_chunk(void *context, const float *logits, int64_t first,
                        int64_t count) {
  window_score *s = context;
  int64_t vocab = ms_model.vocab_size;
  for (int64_t r = 0; r < count; ++r) {
    int64_t t = first + r;
    if (t + 1 >= s->length)
      break;
    const float *row = logits + r * vocab;
    float max_logit = row[0];
    for (int64_t i = 1; i < vocab; ++i)
      if (row[i] > max_logit)
        max_logit = row[i];
    double total = 0.0;
    for (int64_t i = 0; i < vocab; ++i)
      total += exp((double)row[i] - max_logit);
    double log_total = log(total) + max_logit;
    int32_t next = s->window[t + 1];
    s->nll += log_total - row[next];
    if (s->logprobs)
      write_logprobs(s->logprobs, row, log_total, next);
    ++s->scored;
  }
}

static int command_perplexity(const options *o) {
  if (!o->file)
    die("%s", "perplexity needs --file");
  if (o->ctx < 2 || o->ctx > ms_model.max_context)
    die("%s", "--ctx must be between 2 and the model's context");
  load_tokenizer();
  size_t len;
  char *text = read_file(o->file, &len);
  if (len == 0)
    die("'%s' is empty", o->file);
  int32_t *ids;
  int64_t count = encode(text, len, ms_model.bos_id >= 0, &ids);
  logprobs_writer logprobs = {0};
  if (o->logprobs_file)
    open_logprobs(&logprobs, o->logprobs_file);
  double nll = 0.0;
  int64_t scored = 0, windows = 0;
  double start = now_seconds(), last_report = start;
  for (int64_t first = 0; first < count; first += o->ctx) {
    int64_t length = count - first < o->ctx ? count - first : o->ctx;
    if (length < 2)
      break;
    window_score s = {ids + first, length, 0.0, 0,
                      o->logprobs_file ? &logprobs : 0};
    ms_feed(ids + first, length, 0, score_chunk, &s);
    nll += s.nll;
    scored += s.scored;
    ++windows;
    double t = now_seconds();
    if (t - last_report >= 1.0) { /* progress for long runs, once a second */
      fprintf(stderr, "\r%s: %lld/%lld tokens", program,
              (long long)(first + length), (long long)count);
      last_report = t;
    }
  }
  fprintf(stderr, "\r%s: %lld tokens scored in %.1f s\n", program,
          (long long)scored, now_seconds() - start);
  if (scored == 0)
    die("%s", "the file has too few tokens to score");
  if (o->logprobs_file)
    close_logprobs(&logprobs);
  double mean = nll / scored;
  if (o->json) {
    printf("{\"tokens\": %lld, \"nll\": ", (long long)scored);
    print_json_number(mean);
    printf(", \"ppl\": ");
    print_json_number(exp(mean));
    printf(", \"windows\": %lld, \"ctx\": %lld}\n", (long long)windows,
           (long long)o->ctx);
  } else {
    printf("tokens scored %lld\nmean NLL      %.6f nats\nperplexity    "
           "%.6f\n",
           (long long)scored, mean, exp(mean));
  }
  free(ids);
  free(text);
  return 0;
}

/* Prints the ids of a file's text, comma-separated (for checking the
 * tokenizer against reference implementations). */
static int command_tokenize(const options *o) {
  if (!o->file)
    die("%s", "tokenize needs --file");
  load_tokenizer();
  size_t len;
  char *text = read_file(o->file, &len);
  int32_t *ids;
  int64_t count = encode(text, len, o->bos, &ids);
  for (int64_t i = 0; i < count; ++i)
    printf(i ? ",%d" : "%d", ids[i]);
  printf("\n");
  free(ids);
  free(text);
  return 0;
}

/* Peak resident memory of this program. VmHWM starts afresh at exec, where
 * getrusage's maximum would include the parent that forked us. */
static long peak_rss_kb(void) {
  FILE *status = fopen("/proc/self/status", "r");
  if (status) {
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, status))
      if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
        break;
    fclose(status);
    if (kb >= 0)
      return kb;
  }
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

static int compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static int command_bench(const options *o) {
  int64_t prompt = o->prompt_tokens, gen = o->gen_tokens, runs = o->runs;
  if (prompt > ms_model.max_context || gen > ms_model.max_context - prompt)
    die("%s", "--prompt-tokens plus --gen-tokens exceed the context");
  int32_t *ids = malloc(prompt * sizeof(int32_t));
  double *prefill = malloc(runs * sizeof(double));
  double *decode = malloc(runs * sizeof(double));
  double *first_token = malloc(runs * sizeof(double));
  if (!ids || !prefill || !decode || !first_token)
    die("%s", "out of memory");
  for (int64_t i = 0; i < prompt; ++i) /* deterministic, vocabulary-wide */
    ids[i] = (int32_t)((i * 7919 + 3) % ms_model.vocab_size);
  for (int64_t run = 0; run < runs; ++run) {
    double t0 = now_seconds();
    float *logits = ms_feed(ids, prompt, 0, 0, 0);
    double t1 = now_seconds();
    int32_t next = argmax(logits);
    for (int64_t i = 0; i < gen; ++i)
      next = argmax(ms_forward(&next, 1, prompt + i, 1));
    double t2 = now_seconds();
    prefill[run] = prompt / (t1 - t0);
    decode[run] = gen ? gen / (t2 - t1) : 0.0;
    first_token[run] = (t1 - t0) * 1000.0;
  }
  qsort(prefill, runs, sizeof(double), compare_doubles);
  qsort(decode, runs, sizeof(double), compare_doubles);
  qsort(first_token, runs, sizeof(double), compare_doubles);
  double p = prefill[runs / 2], d = decode[runs / 2], f = first_token[runs / 2];
  long rss = peak_rss_kb();
  if (o->json)
    printf("{\"prompt_tokens\": %lld, \"gen_tokens\": %lld, \"runs\": %lld, "
           "\"threads\": %d, \"prefill_tokens_per_s\": %.2f, "
           "\"decode_tokens_per_s\": %.2f, \"time_to_first_token_ms\": %.3f, "
           "\"peak_rss_bytes\": %lld, \"arena_bytes\": %lld, "
           "\"weight_bytes\": %lld}\n",
           (long long)prompt, (long long)gen, (long long)runs, ms_get_threads(),
           p, d, f, (long long)rss * 1024, (long long)ms_model.arena_bytes,
           (long long)ms_model.weight_bytes);
  else
    printf("prompt %lld + gen %lld tokens, %d threads, median of %lld runs\n"
           "prefill        %10.2f tokens/s\n"
           "decode         %10.2f tokens/s\n"
           "first token    %10.3f ms\n"
           "peak RSS       %10lld bytes\n"
           "arena          %10lld bytes\n"
           "weights        %10lld bytes\n",
           (long long)prompt, (long long)gen, ms_get_threads(), (long long)runs,
           p, d, f, (long long)rss * 1024, (long long)ms_model.arena_bytes,
           (long long)ms_model.weight_bytes);
  free(first_token);
  free(decode);
  free(prefill);
  free(ids);
  return 0;
}

int main(int argc, char **argv) {
  const char *slash = strrchr(argv[0], '/');
  program = slash ? slash + 1 : argv[0];
  if (argc < 2)
    usage();
  const char *command = argv[1];
  if (!strcmp(command, "-h") || !strcmp(command, "--help"))
    usage();
  options o = parse_flags(argc, argv);
  if (o.threads > 0)
    ms_set_threads((int)o.threads);
  if (!strcmp(command, "generate"))
    return command_generate(&o);
  if (!strcmp(command, "perplexity"))
    return command_perplexity(&o);
  if (!strcmp(command, "bench"))
    return command_bench(&o);
  if (!strcmp(command, "info"))
    return command_info(&o);
  if (!strcmp(command, "run"))
    return command_run(&o);
  if (!strcmp(command, "tokenize"))
    return command_tokenize(&o);
  fprintf(stderr, "%s: error: unknown command '%s'\n", program, command);
  usage();
  return 2;
}
