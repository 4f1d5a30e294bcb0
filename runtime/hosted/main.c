/*===- main.c - the generated program's command line ----------------------===*
 *
 * Part of the Microscale project.
 *
 *   prog generate (--prompt TEXT | --prompt-file PATH|-) [-n 64]
 *                 [--temperature T] [--top-p P] [--top-k K]
 *                 [--repetition-penalty R] [--seed S] [--stop STR]...
 *                 [--no-display-prompt] [--json]
 *   prog perplexity --file TEXT --ctx N [--json] [--logprobs-out PATH]
 *   prog bench [--prompt-tokens 128] [--gen-tokens 128] [--runs 3] [--json]
 *   prog info [--json]
 *   prog run --prompt-ids 1,2,3 [-n N] [--json] [--logits FILE]
 *   prog tokenize --file TEXT|- [--bos] [--json]
 *   prog detokenize --ids 1,2,3 [--json]
 *   prog --version | --help | <command> --help
 *   every command: [--threads N]; every flag: --flag VALUE or --flag=VALUE
 *
 * The hosted layer of the runtime: flags, files, timing and output. The
 * generation loop, sampler and tokenizer are the freestanding core's
 * (generate.h). Everything the program needs is allocated once, before any
 * work, from the sizes in ms_model and the input's length; the model's own
 * activations and KV cache live in the arena the compiler placed in .bss.
 * Errors print one line on stderr and exit with 1 (2 for usage). JSON
 * output follows report.h's schema.
 *
 *===----------------------------------------------------------------------===*/

#include "kernels/parallel.h"
#include "microscale/generate.h"
#include "microscale/report.h"
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

static const char usage_text[] =
    "usage: %s <command> [flags]   (flags: --flag VALUE or --flag=VALUE)\n"
    "  generate (--prompt TEXT | --prompt-file PATH|-) [-n 64]\n"
    "           [--temperature 0.8] [--top-p 0.9] [--top-k 0]\n"
    "           [--repetition-penalty 1] [--seed S (default: random)]\n"
    "           [--stop STR]... [--no-display-prompt] [--json]\n"
    "  perplexity --file TEXT|- --ctx N [--json] [--logprobs-out PATH]\n"
    "  bench [--prompt-tokens 128] [--gen-tokens 128] [--runs 3] [--json]\n"
    "  info [--json]\n"
    "  run --prompt-ids 1,2,3 [-n 16] [--json] [--logits FILE]\n"
    "  tokenize --file TEXT|- [--bos] [--json]\n"
    "  detokenize --ids 1,2,3 [--json]\n"
    "  --version, --help, <command> --help\n"
    "all commands take --threads N (default: the physical cores)\n";

/* Usage on stdout and exit 0 when asked for, on stderr and exit 2 when the
 * command line is wrong. */
static void usage(int asked) {
  fprintf(asked ? stdout : stderr, usage_text, program);
  exit(asked ? 0 : 2);
}

/* Commands, as bits: each flag lists the commands that take it. */
enum {
  CMD_GENERATE = 1 << 0,
  CMD_PERPLEXITY = 1 << 1,
  CMD_BENCH = 1 << 2,
  CMD_INFO = 1 << 3,
  CMD_RUN = 1 << 4,
  CMD_TOKENIZE = 1 << 5,
  CMD_DETOKENIZE = 1 << 6,
  CMD_ALL = (1 << 7) - 1,
};

static const struct {
  const char *name;
  int bit;
} commands[] = {
    {"generate", CMD_GENERATE},
    {"perplexity", CMD_PERPLEXITY},
    {"bench", CMD_BENCH},
    {"info", CMD_INFO},
    {"run", CMD_RUN},
    {"tokenize", CMD_TOKENIZE},
    {"detokenize", CMD_DETOKENIZE},
};

enum flag_id {
  FLAG_PROMPT,
  FLAG_PROMPT_FILE,
  FLAG_FILE,
  FLAG_PROMPT_IDS,
  FLAG_IDS,
  FLAG_LOGITS,
  FLAG_LOGPROBS_OUT,
  FLAG_TOKENS,
  FLAG_CTX,
  FLAG_PROMPT_TOKENS,
  FLAG_GEN_TOKENS,
  FLAG_RUNS,
  FLAG_THREADS,
  FLAG_TOP_K,
  FLAG_SEED,
  FLAG_TEMPERATURE,
  FLAG_TOP_P,
  FLAG_REPETITION_PENALTY,
  FLAG_STOP,
  FLAG_NO_DISPLAY_PROMPT,
  FLAG_JSON,
  FLAG_BOS,
  FLAG_HELP,
  FLAG_COUNT
};

/* Every flag, whether it takes a value, and the commands that take it: a
 * flag given to another command is an error, never silently ignored. */
static const struct {
  const char *name;
  int has_value;
  int commands;
} flag_specs[FLAG_COUNT] = {
    [FLAG_PROMPT] = {"--prompt", 1, CMD_GENERATE},
    [FLAG_PROMPT_FILE] = {"--prompt-file", 1, CMD_GENERATE},
    [FLAG_FILE] = {"--file", 1, CMD_PERPLEXITY | CMD_TOKENIZE},
    [FLAG_PROMPT_IDS] = {"--prompt-ids", 1, CMD_RUN},
    [FLAG_IDS] = {"--ids", 1, CMD_DETOKENIZE},
    [FLAG_LOGITS] = {"--logits", 1, CMD_RUN},
    [FLAG_LOGPROBS_OUT] = {"--logprobs-out", 1, CMD_PERPLEXITY},
    [FLAG_TOKENS] = {"-n", 1, CMD_GENERATE | CMD_RUN},
    [FLAG_CTX] = {"--ctx", 1, CMD_PERPLEXITY},
    [FLAG_PROMPT_TOKENS] = {"--prompt-tokens", 1, CMD_BENCH},
    [FLAG_GEN_TOKENS] = {"--gen-tokens", 1, CMD_BENCH},
    [FLAG_RUNS] = {"--runs", 1, CMD_BENCH},
    [FLAG_THREADS] = {"--threads", 1, CMD_ALL},
    [FLAG_TOP_K] = {"--top-k", 1, CMD_GENERATE},
    [FLAG_SEED] = {"--seed", 1, CMD_GENERATE},
    [FLAG_TEMPERATURE] = {"--temperature", 1, CMD_GENERATE},
    [FLAG_TOP_P] = {"--top-p", 1, CMD_GENERATE},
    [FLAG_REPETITION_PENALTY] = {"--repetition-penalty", 1, CMD_GENERATE},
    [FLAG_STOP] = {"--stop", 1, CMD_GENERATE},
    [FLAG_NO_DISPLAY_PROMPT] = {"--no-display-prompt", 0, CMD_GENERATE},
    [FLAG_JSON] = {"--json", 0, CMD_ALL},
    [FLAG_BOS] = {"--bos", 0, CMD_TOKENIZE},
    [FLAG_HELP] = {"--help", 0, CMD_ALL},
};

/* Most --stop strings, and the longest one, in bytes. */
#define MS_MAX_STOPS 8
#define MS_MAX_STOP_BYTES 256

typedef struct {
  const char *command;
  const char *prompt, *prompt_file, *file, *prompt_ids, *ids, *logits_file,
      *logprobs_file;
  const char *stops[MS_MAX_STOPS];
  int stop_count;
  long long tokens, ctx, prompt_tokens, gen_tokens, runs, threads, top_k;
  double temperature, top_p, repetition_penalty;
  unsigned long long seed;
  int seed_given, json, bos, no_display_prompt;
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

/* The flag `arg` names (`--flag`, `--flag=value`, `-n=5`); sets *inline_value
 * to the text after '=' if there is one. */
static int find_flag(const char *arg, const char **inline_value) {
  size_t length = strlen(arg);
  const char *equals = arg[0] == '-' ? strchr(arg, '=') : 0;
  *inline_value = 0;
  if (equals) {
    length = (size_t)(equals - arg);
    *inline_value = equals + 1;
  }
  for (int id = 0; id < FLAG_COUNT; ++id)
    if (strlen(flag_specs[id].name) == length &&
        !strncmp(flag_specs[id].name, arg, length))
      return id;
  fprintf(stderr, "%s: error: unknown flag '%.*s'\n", program, (int)length,
          arg);
  exit(1);
}

static void set_flag(options *o, int id, const char *name, const char *value) {
  switch (id) {
  case FLAG_PROMPT:
    o->prompt = value;
    break;
  case FLAG_PROMPT_FILE:
    o->prompt_file = value;
    break;
  case FLAG_FILE:
    o->file = value;
    break;
  case FLAG_PROMPT_IDS:
    o->prompt_ids = value;
    break;
  case FLAG_IDS:
    o->ids = value;
    break;
  case FLAG_LOGITS:
    o->logits_file = value;
    break;
  case FLAG_LOGPROBS_OUT:
    o->logprobs_file = value;
    break;
  case FLAG_TOKENS:
    o->tokens = parse_int(name, value, 0, INT32_MAX);
    break;
  case FLAG_CTX:
    o->ctx = parse_int(name, value, 2, INT32_MAX);
    break;
  case FLAG_PROMPT_TOKENS:
    o->prompt_tokens = parse_int(name, value, 1, INT32_MAX);
    break;
  case FLAG_GEN_TOKENS:
    o->gen_tokens = parse_int(name, value, 0, INT32_MAX);
    break;
  case FLAG_RUNS:
    o->runs = parse_int(name, value, 1, 100);
    break;
  case FLAG_THREADS:
    o->threads = parse_int(name, value, 1, 64);
    break;
  case FLAG_TOP_K:
    o->top_k = parse_int(name, value, 0, INT32_MAX);
    break;
  case FLAG_SEED:
    o->seed = (unsigned long long)parse_int(name, value, LLONG_MIN, LLONG_MAX);
    o->seed_given = 1;
    break;
  case FLAG_TEMPERATURE:
    o->temperature = parse_float(name, value);
    break;
  case FLAG_TOP_P:
    o->top_p = parse_float(name, value);
    break;
  case FLAG_REPETITION_PENALTY:
    o->repetition_penalty = parse_float(name, value);
    break;
  case FLAG_STOP:
    if (o->stop_count == MS_MAX_STOPS)
      die("%s", "at most 8 --stop strings");
    if (!*value || strlen(value) > MS_MAX_STOP_BYTES)
      die("%s", "a --stop string has 1 to 256 bytes");
    o->stops[o->stop_count++] = value;
    break;
  case FLAG_NO_DISPLAY_PROMPT:
    o->no_display_prompt = 1;
    break;
  case FLAG_JSON:
    o->json = 1;
    break;
  case FLAG_BOS:
    o->bos = 1;
    break;
  }
}

static options parse_flags(int argc, char **argv, int command) {
  options o = {0};
  o.command = argv[1];
  o.tokens = -1; /* the command's default */
  o.prompt_tokens = 128;
  o.gen_tokens = 128;
  o.runs = 3;
  o.temperature = 0.8;
  o.top_p = 0.9;
  o.repetition_penalty = 1.0;
  for (int i = 2; i < argc; ++i) {
    const char *value;
    int id = find_flag(argv[i], &value);
    const char *name = flag_specs[id].name;
    if (!(flag_specs[id].commands & command)) {
      fprintf(stderr, "%s: error: %s does not take %s\n", program, o.command,
              name);
      exit(1);
    }
    if (id == FLAG_HELP)
      usage(1);
    if (!flag_specs[id].has_value) {
      if (value)
        die("%s takes no value", name);
    } else if (!value) {
      if (i + 1 >= argc)
        die("%s needs a value (or is not a flag)", name);
      value = argv[++i];
    }
    set_flag(&o, id, name, value);
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

/* The most bytes read from standard input (`-`): its size is not known
 * before reading, and a prompt or text longer than this is a mistake. */
#define MS_MAX_STDIN_BYTES ((size_t)1 << 30)

/* Reads standard input whole, growing the buffer by doubling (malloc, copy,
 * free: the fuzzer tracks only malloc and free). */
static char *read_stdin(size_t *len) {
  size_t size = 0, cap = 1 << 16;
  char *text = malloc(cap + 1);
  if (!text)
    die("%s", "out of memory for standard input");
  for (;;) {
    size_t got = fread(text + size, 1, cap - size, stdin);
    size += got;
    if (got == 0 || size < cap) {
      if (ferror(stdin))
        die("%s", "cannot read standard input");
      if (feof(stdin))
        break;
      continue;
    }
    if (cap >= MS_MAX_STDIN_BYTES)
      die("%s", "standard input is larger than 1 GiB");
    char *bigger = malloc(2 * cap + 1);
    if (!bigger)
      die("%s", "out of memory for standard input");
    memcpy(bigger, text, size);
    free(text);
    text = bigger;
    cap *= 2;
  }
  text[size] = 0;
  *len = size;
  return text;
}

/* A file's text, or standard input's for "-". */
static char *read_input(const char *path, size_t *len) {
  return strcmp(path, "-") ? read_file(path, len) : read_stdin(len);
}

/* Prints bytes as the inside of a JSON string literal. */
static void print_json_bytes(const char *text, size_t length) {
  for (size_t i = 0; i < length; ++i) {
    unsigned char c = (unsigned char)text[i];
    if (c == '"' || c == '\\')
      printf("\\%c", c);
    else if (c < 0x20)
      printf("\\u%04x", c);
    else
      putchar(c);
  }
}

/* Prints a string as a JSON string literal. */
static void print_json_string(const char *text) {
  putchar('"');
  print_json_bytes(text, strlen(text));
  putchar('"');
}

/* Opens a JSON report: every one starts with the schema version. */
static void begin_json(void) {
  printf("{\"schema_version\": %d", MS_REPORT_SCHEMA_VERSION);
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

/* The compiler and model a program was built from: `--version` and the
 * head of `info`. */
static void print_identity(void) {
  const ms_model_info *m = &ms_model;
  printf("Microscale %s (commit %s)\n", m->microscale_version,
         m->microscale_commit);
  printf("model blake3  %s\n", m->model_blake3);
  printf("build flags   %s\n", m->build_flags);
}

static void print_json_field(const char *key, const char *value) {
  printf(", \"%s\": ", key);
  print_json_string(value);
}

static int command_info(const options *o) {
  const ms_model_info *m = &ms_model;
  if (o->json) {
    begin_json();
    print_json_field("arch", m->arch);
    printf(", \"vocab_size\": %lld, \"hidden_size\": %lld, "
           "\"num_layers\": %lld, \"num_heads\": %lld, \"num_kv_heads\": %lld, "
           "\"head_dim\": %lld, \"max_context\": %lld, \"max_tokens\": %lld, "
           "\"bos_id\": %lld, \"eos_id\": %lld, \"weight_bytes\": %lld, "
           "\"arena_bytes\": %lld",
           (long long)m->vocab_size, (long long)m->hidden_size,
           (long long)m->num_layers, (long long)m->num_heads,
           (long long)m->num_kv_heads, (long long)m->head_dim,
           (long long)m->max_context, (long long)m->max_tokens,
           (long long)m->bos_id, (long long)m->eos_id,
           (long long)m->weight_bytes, (long long)m->arena_bytes);
    print_json_field("target", m->target);
    print_json_field("compression", m->compression);
    print_json_field("build_flags", m->build_flags);
    print_json_field("microscale_version", m->microscale_version);
    print_json_field("microscale_commit", m->microscale_commit);
    print_json_field("model_blake3", m->model_blake3);
    printf(", \"threads\": %d}\n", ms_get_threads());
    return 0;
  }
  print_identity();
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
  printf("threads       %d (--threads)\n", ms_get_threads());
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

/* Parses a comma-separated list of ids in the vocabulary into *ids
 * (allocated here, at most `capacity` ids); `flag` names the list in
 * errors. */
static int64_t parse_ids(const char *flag, const char *text, int64_t capacity,
                         int32_t **ids) {
  *ids = malloc((size_t)capacity * sizeof(int32_t));
  if (!*ids)
    die("%s", "out of memory");
  int64_t count = 0;
  for (const char *p = text; *p;) {
    char *end;
    errno = 0;
    long long id = strtoll(p, &end, 10);
    if (errno || end == p || (*end && *end != ','))
      die("%s is not a list of integers", flag);
    if (id < 0 || id >= ms_model.vocab_size)
      die("%s has an id outside the vocabulary", flag);
    if (count == capacity)
      die("%s", "the prompt is longer than the context");
    (*ids)[count++] = (int32_t)id;
    p = *end ? end + 1 : end;
  }
  if (count == 0)
    die("%s is empty", flag);
  return count;
}

static int command_run(const options *o) {
  if (!o->prompt_ids)
    die("%s", "run needs --prompt-ids");
  int64_t capacity = ms_model.max_context;
  int32_t *ids;
  int64_t count = parse_ids("--prompt-ids", o->prompt_ids, capacity, &ids);
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
  if (o->json) {
    begin_json();
    printf(", \"ids\": [");
  }
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

/* A random seed for sampling when --seed is not given; the program prints
 * it, so the run can be repeated. Below 2^32: short enough to retype. */
static unsigned long long random_seed(void) {
  unsigned long long seed = 0;
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    if (read(fd, &seed, sizeof seed) != (ssize_t)sizeof seed)
      seed = 0;
    close(fd);
  }
  if (seed == 0) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    seed = (unsigned long long)ts.tv_nsec * 2654435761u ^
           (unsigned long long)ts.tv_sec ^ (unsigned long long)getpid() << 16;
  }
  return seed & 0xffffffffull;
}

/* Where generated text goes: stdout as it is, or escaped inside the JSON
 * report's "text" string. With --stop strings, the text that could still
 * become a stop string is held back; a stop string found ends generation
 * and is not printed. */
typedef struct {
  int json;
  const char *const *stops;
  int stop_count;
  size_t max_stop;
  char *pending; /* held-back text: < max_stop bytes between pieces */
  size_t length;
} text_sink;

static void sink_write(const text_sink *k, const char *bytes, size_t n) {
  if (n == 0)
    return;
  /* fwrite, not fputs: a byte piece may be a NUL. */
  if (k->json)
    print_json_bytes(bytes, n);
  else
    fwrite(bytes, 1, n, stdout);
  fflush(stdout);
}

/* Whether the last `n` pending bytes begin some stop string. */
static int sink_tail_may_stop(const text_sink *k, size_t n) {
  for (int s = 0; s < k->stop_count; ++s)
    if (strlen(k->stops[s]) > n &&
        !memcmp(k->pending + k->length - n, k->stops[s], n))
      return 1;
  return 0;
}

/* Adds a piece; returns 1 when the text now holds a stop string (printed
 * up to it), else 0. */
static int sink_add(text_sink *k, const char *piece, size_t n) {
  if (k->stop_count == 0) {
    sink_write(k, piece, n);
    return 0;
  }
  memcpy(k->pending + k->length, piece, n);
  k->length += n;
  size_t first = k->length; /* where the earliest stop string starts */
  for (int s = 0; s < k->stop_count; ++s) {
    size_t m = strlen(k->stops[s]);
    for (size_t at = 0; at + m <= k->length && at < first; ++at)
      if (!memcmp(k->pending + at, k->stops[s], m))
        first = at;
  }
  if (first < k->length) {
    sink_write(k, k->pending, first);
    k->length = 0;
    return 1;
  }
  size_t keep = k->max_stop - 1 < k->length ? k->max_stop - 1 : k->length;
  while (keep > 0 && !sink_tail_may_stop(k, keep))
    --keep;
  sink_write(k, k->pending, k->length - keep);
  memmove(k->pending, k->pending + k->length - keep, keep);
  k->length = keep;
  return 0;
}

static void sink_flush(text_sink *k) {
  sink_write(k, k->pending, k->length);
  k->length = 0;
}

/* The prompt's text: --prompt, or --prompt-file's (standard input for -). */
static char *read_prompt(const options *o, size_t *len) {
  if (!o->prompt == !o->prompt_file)
    die("%s", "generate needs --prompt or --prompt-file (one of them)");
  if (o->prompt_file)
    return read_input(o->prompt_file, len);
  *len = strlen(o->prompt);
  char *text = malloc(*len + 1);
  if (!text)
    die("%s", "out of memory");
  memcpy(text, o->prompt, *len + 1);
  return text;
}

typedef struct {
  int64_t prompt_tokens, generated;
  double prefill_seconds, decode_seconds;
  const char *stop_reason;
} generation_stats;

static void print_generation_stats(const options *o,
                                   const generation_stats *g) {
  double prefill = g->prompt_tokens / g->prefill_seconds;
  double decode = g->decode_seconds > 0 ? g->generated / g->decode_seconds : 0;
  if (o->json) {
    printf("\", \"prompt_tokens\": %lld, \"gen_tokens\": %lld, "
           "\"prefill_tokens_per_s\": %.2f, \"decode_tokens_per_s\": %.2f, "
           "\"seed\": %llu, \"stop_reason\": \"%s\", \"threads\": %d}\n",
           (long long)g->prompt_tokens, (long long)g->generated, prefill,
           decode, o->seed, g->stop_reason, ms_get_threads());
    return;
  }
  fputc('\n', stdout);
  fflush(stdout);
  fprintf(stderr,
          "%s: prompt %lld tokens (%.1f tokens/s), generated %lld tokens "
          "(%.1f tokens/s), stop: %s, seed %llu\n",
          program, (long long)g->prompt_tokens, prefill,
          (long long)g->generated, decode, g->stop_reason, o->seed);
}

static int command_generate(const options *o) {
  size_t prompt_len;
  char *prompt = read_prompt(o, &prompt_len);
  load_tokenizer();
  int32_t *ids;
  int64_t count = encode(prompt, prompt_len, ms_model.bos_id >= 0, &ids);
  if (count == 0)
    die("%s", "the prompt is empty");
  int64_t requested = o->tokens < 0 ? 64 : o->tokens, steps = requested;
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
  text_sink sink = {o->json, o->stops, o->stop_count, 0, 0, 0};
  for (int s = 0; s < o->stop_count; ++s)
    if (strlen(o->stops[s]) > sink.max_stop)
      sink.max_stop = strlen(o->stops[s]);
  sink.pending = malloc(sink.max_stop + piece_cap);
  if (!history || !sampler.probabilities || !sampler.indices || !piece ||
      !sink.pending)
    die("%s", "out of memory");
  ms_sampler_seed(&sampler, o->seed);
  ms_generation generation;
  ms_generation_init(&generation, sampler, history);

  if (o->json) {
    begin_json();
    printf(", \"text\": \"");
  } else if (!o->no_display_prompt) {
    fwrite(prompt, 1, prompt_len, stdout);
    fflush(stdout);
  }
  generation_stats stats = {count, 0, 0, 0,
                            steps < requested ? "context" : "length"};
  double start = now_seconds();
  ms_generation_prefill(&generation, ids, count);
  double decode_start = now_seconds();
  stats.prefill_seconds = decode_start - start;
  for (int64_t i = 0; i < steps; ++i) {
    int32_t next = ms_generation_sample(&generation);
    if (next == ms_model.eos_id) {
      stats.stop_reason = "eos";
      break;
    }
    ++stats.generated;
    int length = ms_generation_token_text(&generation, &tokenizer, next, piece,
                                          piece_cap);
    if (length > 0 && sink_add(&sink, piece, (size_t)length)) {
      stats.stop_reason = "stop";
      break;
    }
    if (i + 1 < steps)
      ms_generation_step(&generation, next);
  }
  sink_flush(&sink);
  stats.decode_seconds = now_seconds() - decode_start;
  print_generation_stats(o, &stats);
  free(sink.pending);
  free(piece);
  free(history);
  free(sampler.indices);
  free(sampler.probabilities);
  free(ids);
  free(prompt);
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
  char *text = read_input(o->file, &len);
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
  /* Progress lines are for a person watching: only on a terminal. */
  int progress = isatty(STDERR_FILENO);
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
    if (progress && t - last_report >= 1.0) { /* once a second */
      int64_t done = first + length;
      fprintf(stderr, "\r%s: %lld/%lld tokens, %.0f s left   ", program,
              (long long)done, (long long)count,
              (t - start) / done * (count - done));
      last_report = t;
    }
  }
  fprintf(stderr, "%s%s: %lld tokens scored in %.1f s\n", progress ? "\r" : "",
          program, (long long)scored, now_seconds() - start);
  if (scored == 0)
    die("%s", "the file has too few tokens to score");
  if (o->logprobs_file)
    close_logprobs(&logprobs);
  double mean = nll / scored;
  if (o->json) {
    begin_json();
    printf(", \"tokens\": %lld, \"nll\": ", (long long)scored);
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
  char *text = read_input(o->file, &len);
  int32_t *ids;
  int64_t count = encode(text, len, o->bos, &ids);
  if (o->json) {
    begin_json();
    printf(", \"tokens\": %lld, \"ids\": [", (long long)count);
  }
  for (int64_t i = 0; i < count; ++i)
    printf(i ? ",%d" : "%d", ids[i]);
  printf(o->json ? "]}\n" : "\n");
  free(ids);
  free(text);
  return 0;
}

/* Prints the text of a list of ids, as generation would print it after a
 * BOS: `detokenize --ids "$(tokenize --file F)"` gives F back. */
static int command_detokenize(const options *o) {
  if (!o->ids)
    die("%s", "detokenize needs --ids");
  load_tokenizer();
  int32_t *ids;
  int64_t capacity = (int64_t)strlen(o->ids) / 2 + 1; /* "1,2,3" */
  int64_t count = parse_ids("--ids", o->ids, capacity, &ids);
  size_t piece_cap = (size_t)tokenizer.max_piece_bytes + 2;
  char *piece = malloc(piece_cap);
  if (!piece)
    die("%s", "out of memory");
  if (o->json) {
    begin_json();
    printf(", \"text\": \"");
  }
  int32_t prev = tokenizer.bos_id;
  for (int64_t i = 0; i < count; ++i) {
    int length =
        ms_tokenizer_decode(&tokenizer, prev, ids[i], piece, piece_cap);
    if (length > 0 && o->json)
      print_json_bytes(piece, (size_t)length);
    else if (length > 0)
      fwrite(piece, 1, (size_t)length, stdout);
    prev = ids[i];
  }
  if (o->json)
    printf("\", \"tokens\": %lld}\n", (long long)count);
  free(piece);
  free(ids);
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
  if (o->json) {
    begin_json();
    printf(", \"prompt_tokens\": %lld, \"gen_tokens\": %lld, \"runs\": %lld, "
           "\"threads\": %d, \"prefill_tokens_per_s\": %.2f, "
           "\"decode_tokens_per_s\": %.2f, \"time_to_first_token_ms\": %.3f, "
           "\"peak_rss_bytes\": %lld, \"arena_bytes\": %lld, "
           "\"weight_bytes\": %lld",
           (long long)prompt, (long long)gen, (long long)runs, ms_get_threads(),
           p, d, f, (long long)rss * 1024, (long long)ms_model.arena_bytes,
           (long long)ms_model.weight_bytes);
    printf(", \"prefill_tokens_per_s_min\": %.2f, "
           "\"prefill_tokens_per_s_max\": %.2f, "
           "\"decode_tokens_per_s_min\": %.2f, "
           "\"decode_tokens_per_s_max\": %.2f, "
           "\"time_to_first_token_ms_min\": %.3f, "
           "\"time_to_first_token_ms_max\": %.3f}\n",
           prefill[0], prefill[runs - 1], decode[0], decode[runs - 1],
           first_token[0], first_token[runs - 1]);
  } else {
    printf("prompt %lld + gen %lld tokens, %d threads, median (min .. max) of "
           "%lld runs\n"
           "prefill        %10.2f tokens/s (%.2f .. %.2f)\n"
           "decode         %10.2f tokens/s (%.2f .. %.2f)\n"
           "first token    %10.3f ms (%.3f .. %.3f)\n"
           "peak RSS       %10lld bytes\n"
           "arena          %10lld bytes\n"
           "weights        %10lld bytes\n",
           (long long)prompt, (long long)gen, ms_get_threads(), (long long)runs,
           p, prefill[0], prefill[runs - 1], d, decode[0], decode[runs - 1], f,
           first_token[0], first_token[runs - 1], (long long)rss * 1024,
           (long long)ms_model.arena_bytes, (long long)ms_model.weight_bytes);
  }
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
    usage(0);
  const char *command = argv[1];
  if (!strcmp(command, "-h") || !strcmp(command, "--help") ||
      !strcmp(command, "help"))
    usage(1);
  if (!strcmp(command, "--version")) {
    print_identity();
    return 0;
  }
  int bit = 0;
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; ++i)
    if (!strcmp(command, commands[i].name))
      bit = commands[i].bit;
  if (!bit) {
    fprintf(stderr, "%s: error: unknown command '%s'\n", program, command);
    usage(0);
  }
  options o = parse_flags(argc, argv, bit);
  if (o.threads > 0)
    ms_set_threads((int)o.threads);
  switch (bit) {
  case CMD_GENERATE:
    if (!o.seed_given)
      o.seed = random_seed();
    return command_generate(&o);
  case CMD_PERPLEXITY:
    return command_perplexity(&o);
  case CMD_BENCH:
    return command_bench(&o);
  case CMD_INFO:
    return command_info(&o);
  case CMD_RUN:
    return command_run(&o);
  case CMD_TOKENIZE:
    return command_tokenize(&o);
  default:
    return command_detokenize(&o);
  }
}
