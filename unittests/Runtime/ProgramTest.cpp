//===- ProgramTest.cpp - the generated program's command line ---*- C++ -*-===//
//
// Part of the Microscale project.
//
// Runs runtime/hosted/main.c (built with main renamed ms_program_main), and
// through it the core's generation loop, sampler and tokenizer, against
// fake_model.c, a model whose logits and tokenizer are known in closed
// form: every command's output, and a clear message and exit code for bad
// input, without the compiler or a real model.
//
//===----------------------------------------------------------------------===//

#include "kernels/parallel.h"
#include "microscale/runtime.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

extern "C" int ms_program_main(int argc, char **argv);

namespace {

/// Runs the program in this process; returns its exit code.
int run(std::vector<std::string> args) {
  args.insert(args.begin(), "prog");
  std::vector<char *> argv;
  for (std::string &arg : args)
    argv.push_back(arg.data());
  argv.push_back(nullptr);
  int status = ms_program_main(static_cast<int>(args.size()), argv.data());
  ms_set_threads(0);
  return status;
}

/// Runs the program and returns what it printed on stdout.
std::string output(const std::vector<std::string> &args) {
  testing::internal::CaptureStdout();
  int status = run(args);
  fflush(stdout);
  std::string printed = testing::internal::GetCapturedStdout();
  EXPECT_EQ(0, status) << printed;
  return printed;
}

std::string writeFile(const std::string &name, const std::string &text) {
  std::string path = testing::TempDir() + "microscale_program_" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

/// Bad input ends the program (in a child process) with `code` and a
/// message on stderr matching `message`.
#define EXPECT_FAILS(code, message, ...)                                       \
  EXPECT_EXIT(run({__VA_ARGS__}), testing::ExitedWithCode(code), message)

struct Program : testing::Test {
  // The pool's worker threads make plain fork() unsafe.
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(Program, InfoListsTheModel) {
  std::string json = output({"info", "--json"});
  EXPECT_NE(
      std::string::npos,
      json.find("{\"schema_version\": 1, \"arch\": \"fake\", "
                "\"vocab_size\": 257, "
                "\"hidden_size\": 8, \"num_layers\": 1, \"num_heads\": 2, "
                "\"num_kv_heads\": 1, \"head_dim\": 4, \"max_context\": "
                "96, \"max_tokens\": 4, \"bos_id\": -1, \"eos_id\": 256"))
      << json;
  // Strings are escaped.
  EXPECT_NE(std::string::npos,
            json.find("\"target\": \"host\", \"compression\": \"pruned "
                      "\\\"heads\\\" \\\\ 2\", \"build_flags\": "
                      "\"fake_model.c\""))
      << json;
  EXPECT_NE(std::string::npos, output({"info"}).find("architecture  fake"));
}

TEST_F(Program, GreedyGenerationCountsUp) {
  EXPECT_EQ("abcdefgh\n", output({"generate", "--prompt", "abc", "-n", "5",
                                  "--temperature", "0"}));
  EXPECT_EQ("abcdefgh\n", output({"generate", "--prompt", "abc", "-n", "5",
                                  "--temperature", "1", "--top-k", "1"}));
  EXPECT_EQ("abc\n", output({"generate", "--prompt", "abc", "-n", "0"}));
}

TEST_F(Program, GenerationStopsAtEndOfSequence) {
  // The prompt ends in byte 0xBF; bytes 0xC0..0xFF follow, then EOS.
  std::string expected = "\xc3\xbf";
  for (int b = 0xC0; b <= 0xFF; ++b)
    expected += static_cast<char>(b);
  EXPECT_EQ(expected + "\n", output({"generate", "--prompt", "\xc3\xbf", "-n",
                                     "90", "--temperature", "0"}));
}

TEST_F(Program, GenerationStopsAtTheContext) {
  // 3 prompt tokens leave 93 positions of the 96.
  std::string text = output({"generate", "--prompt", "\x01\x01\x01", "-n",
                             "500", "--temperature", "0"});
  EXPECT_EQ(3u + 93u + 1u, text.size());
}

TEST_F(Program, SamplingIsReproducible) {
  std::vector<std::string> args = {
      "generate", "--prompt", "abc",  "-n",     "40", "--temperature",
      "1",        "--top-p",  "0.95", "--seed", "7"};
  std::string first = output(args);
  args.push_back("--threads");
  args.push_back("3");
  EXPECT_EQ(first, output(args));
  args.back() = "1";
  args[10] = "8";
  EXPECT_NE(first, output(args));
}

TEST_F(Program, StopStringsEndGenerationUnprinted) {
  // Greedy counts up: "abc" + "defgh". Each piece is one byte, so a stop
  // string spans pieces and is held back until it is known not to match.
  EXPECT_EQ("abcd\n", output({"generate", "--prompt", "abc", "-n", "5",
                              "--temperature", "0", "--stop", "ef"}));
  // The earliest of several; one that never comes changes nothing.
  EXPECT_EQ("abc\n",
            output({"generate", "--prompt", "abc", "-n", "5", "--temperature",
                    "0", "--stop", "xyz", "--stop", "fg", "--stop", "d"}));
  EXPECT_EQ("abcdefgh\n", output({"generate", "--prompt", "abc", "-n", "5",
                                  "--temperature", "0", "--stop", "hi"}));
  EXPECT_FAILS(1, "a --stop string has 1 to 256 bytes", "generate", "--prompt",
               "a", "--stop", "");
}

TEST_F(Program, PromptDisplayAndFlagForms) {
  EXPECT_EQ("defgh\n", output({"generate", "--prompt=abc", "-n", "5",
                               "--temperature=0", "--no-display-prompt"}));
  EXPECT_EQ("abcdefgh\n",
            output({"generate", "--prompt-file", writeFile("prompt.txt", "abc"),
                    "-n", "5", "--temperature", "0"}));
  EXPECT_FAILS(1, "error: --json takes no value", "info", "--json=1");
  EXPECT_FAILS(1, "error: generate needs --prompt or --prompt-file", "generate",
               "--prompt", "a", "--prompt-file", "b");
}

TEST_F(Program, GenerateReportsItselfInJson) {
  std::string json = output({"generate", "--prompt", "abc", "-n", "5",
                             "--temperature", "0", "--seed", "3", "--json"});
  EXPECT_EQ(0u, json.find("{\"schema_version\": 1, \"text\": \"defgh\", "
                          "\"prompt_tokens\": 3, \"gen_tokens\": 5, "))
      << json;
  EXPECT_NE(std::string::npos,
            json.find("\"seed\": 3, \"stop_reason\": \"length\""))
      << json;
}

TEST_F(Program, TokenizeAndDetokenizeRoundTrip) {
  std::string path = writeFile("round.txt", "ab\"c");
  EXPECT_EQ("97,98,34,99\n", output({"tokenize", "--file", path}));
  EXPECT_EQ("{\"schema_version\": 1, \"tokens\": 4, \"ids\": "
            "[97,98,34,99]}\n",
            output({"tokenize", "--file", path, "--json"}));
  EXPECT_EQ("ab\"c", output({"detokenize", "--ids", "97,98,34,99"}));
  EXPECT_EQ("{\"schema_version\": 1, \"text\": \"ab\\\"c\", \"tokens\": "
            "4}\n",
            output({"detokenize", "--ids=97,98,34,99", "--json"}));
  EXPECT_FAILS(1, "--ids has an id outside the vocabulary", "detokenize",
               "--ids", "1,999");
}

TEST_F(Program, FlagsBelongToTheirCommands) {
  // A flag another command takes is an error naming both, not ignored.
  EXPECT_FAILS(1, "error: info does not take --prompt", "info", "--prompt",
               "x");
  EXPECT_FAILS(1, "error: bench does not take --bos", "bench", "--bos");
  EXPECT_FAILS(1, "error: tokenize does not take --stop", "tokenize",
               "--stop=x");
  // Help is asked for: stdout and exit 0 (output() checks the 0).
  EXPECT_EQ(0u, output({"generate", "--help"}).find("usage: prog <command>"));
  EXPECT_EQ(0u, output({"--help"}).find("usage: prog <command>"));
}

TEST_F(Program, VersionNamesCompilerAndModel) {
  std::string text = output({"--version"});
  EXPECT_EQ(0u, text.find("Microscale 0.0.0 (commit unknown)\nmodel blake3  "
                          "af1349b9f5f9"))
      << text;
  std::string json = output({"info", "--json"});
  EXPECT_NE(std::string::npos, json.find("\"microscale_version\": \"0.0.0\", "
                                         "\"microscale_commit\": \"unknown\", "
                                         "\"model_blake3\": \"af1349b9f5f9"))
      << json;
}

TEST_F(Program, PerplexityOfCountingTextIsTwo) {
  // 26 byte tokens, windows of 8: 7 + 7 + 7 + 1 scored, each with
  // probability 1/2.
  std::string path = writeFile("alphabet.txt", "abcdefghijklmnopqrstuvwxyz");
  std::string json =
      output({"perplexity", "--file", path, "--ctx", "8", "--json"});
  EXPECT_EQ("{\"schema_version\": 1, \"tokens\": 22, \"nll\": 0.693147, "
            "\"ppl\": 2.000000, "
            "\"windows\": 4, \"ctx\": 8}\n",
            json);
  // One window holding the whole text, fed in calls of max_tokens = 4.
  json = output({"perplexity", "--file", path, "--ctx", "96", "--json"});
  EXPECT_EQ("{\"schema_version\": 1, \"tokens\": 25, \"nll\": 0.693147, "
            "\"ppl\": 2.000000, "
            "\"windows\": 1, \"ctx\": 96}\n",
            json);
  // A last window of one token is dropped.
  path = writeFile("alphabet-and-one.txt", "abcdefghi");
  json = output({"perplexity", "--file", path, "--ctx", "4", "--json"});
  EXPECT_EQ("{\"schema_version\": 1, \"tokens\": 6, \"nll\": 0.693147, "
            "\"ppl\": 2.000000, "
            "\"windows\": 2, \"ctx\": 4}\n",
            json);
}

TEST_F(Program, PerplexityOfSurprisingText) {
  // After 'a' the model expects 'b' with 1/2; 'z' has 1/512.
  std::string path = writeFile("surprise.txt", "az");
  std::string text = output({"perplexity", "--file", path, "--ctx", "2"});
  char expected[128];
  std::snprintf(expected, sizeof expected,
                "tokens scored 1\nmean NLL      %.6f nats\n", std::log(512.0));
  EXPECT_EQ(0u, text.find(expected)) << text;
}

TEST_F(Program, BenchReportsEveryField) {
  ms_set_threads(2); // 1 when built with MS_THREADS=0
  std::string threads = "\"threads\": " + std::to_string(ms_get_threads());
  std::string json = output({"bench", "--prompt-tokens", "9", "--gen-tokens",
                             "5", "--runs", "3", "--json", "--threads", "2"});
  for (const char *field :
       {"\"prompt_tokens\": 9", "\"gen_tokens\": 5", "\"runs\": 3",
        threads.c_str(), "\"prefill_tokens_per_s\": ",
        "\"decode_tokens_per_s\": ", "\"time_to_first_token_ms\": ",
        "\"peak_rss_bytes\": ", "\"arena_bytes\": 4112",
        "\"weight_bytes\": 0, ", "\"prefill_tokens_per_s_min\": ",
        "\"decode_tokens_per_s_max\": ", "\"time_to_first_token_ms_max\": "})
    EXPECT_NE(std::string::npos, json.find(field)) << field << " in " << json;
}

TEST_F(Program, RunPrintsGreedyIds) {
  EXPECT_EQ("{\"schema_version\": 1, \"ids\": [4,5,6]}\n",
            output({"run", "--prompt-ids", "1,2,3", "-n", "3", "--json"}));
}

TEST_F(Program, UsageErrors) {
  EXPECT_FAILS(2, "usage: prog <command>");
  EXPECT_FAILS(2, "unknown command 'frobnicate'", "frobnicate");
  EXPECT_FAILS(1, "error: unknown flag '--bogus'", "generate", "--bogus", "1");
  EXPECT_FAILS(1, "error: --prompt needs a value", "generate", "--prompt");
  EXPECT_FAILS(1, "error: -n expects an integer", "generate", "-n", "5x");
  EXPECT_FAILS(1, "error: -n must be between 0 and 2147483647", "generate",
               "--prompt", "a", "-n", "-1");
  EXPECT_FAILS(1, "error: --temperature expects a number", "generate",
               "--temperature", "hot");
  EXPECT_FAILS(1, "error: --temperature must be >= 0", "generate",
               "--temperature", "-1");
  EXPECT_FAILS(1, "error: --top-p must be in", "generate", "--top-p", "0");
  EXPECT_FAILS(1, "error: --threads must be", "info", "--threads", "65");
  EXPECT_FAILS(1, "error: generate needs --prompt", "generate");
  EXPECT_FAILS(1, "error: --runs must be between 1 and 100", "bench", "--runs",
               "0");
  EXPECT_FAILS(1, "exceed the context", "bench", "--prompt-tokens", "90",
               "--gen-tokens", "10");
}

TEST_F(Program, FlagValuesCannotOverflowTheContextChecks) {
  // -n near INT64_MAX overflowed `count + steps` (an endless run, SIGSEGV
  // in generate); bench --prompt-tokens 2^62 wrapped its allocation size.
  EXPECT_FAILS(1, "error: -n must be between 0 and 2147483647", "run",
               "--prompt-ids", "1,2", "-n", "9223372036854775806");
  EXPECT_FAILS(1, "error: -n must be between 0 and 2147483647", "generate",
               "--prompt", "a", "-n", "9223372036854775807");
  EXPECT_FAILS(1, "error: prompt plus -n exceeds the context", "run",
               "--prompt-ids", "1,2", "-n", "2147483647");
  EXPECT_FAILS(1, "error: --prompt-tokens must be between 1 and 2147483647",
               "bench", "--prompt-tokens", "4611686018427387904");
  EXPECT_FAILS(1, "exceed the context", "bench", "--prompt-tokens",
               "2147483647", "--gen-tokens", "2147483647");
  EXPECT_FAILS(1, "error: --threads must be between 1 and 64", "info",
               "--threads", "0");
}

TEST_F(Program, BadInput) {
  EXPECT_FAILS(1, "error: the prompt is empty", "generate", "--prompt", "");
  EXPECT_FAILS(1, "error: the input is not valid UTF-8", "generate", "--prompt",
               "a\xff");
  EXPECT_FAILS(1, "error: the prompt is longer than the context", "generate",
               "--prompt", std::string(96, 'a'));
  std::string missing = testing::TempDir() + "microscale_program_missing";
  std::remove(missing.c_str());
  EXPECT_FAILS(1, "error: cannot open '.*missing'", "perplexity", "--file",
               missing, "--ctx", "8");
  EXPECT_FAILS(1, "is not a regular file", "perplexity", "--file",
               testing::TempDir(), "--ctx", "8");
  EXPECT_FAILS(1, "error: '.*empty.txt' is empty", "perplexity", "--file",
               writeFile("empty.txt", ""), "--ctx", "8");
  EXPECT_FAILS(1, "error: the input is not valid UTF-8", "perplexity", "--file",
               writeFile("bad.txt", "Once \xff\xfe upon"), "--ctx", "8");
  EXPECT_FAILS(1, "error: the file has too few tokens", "perplexity", "--file",
               writeFile("one.txt", "a"), "--ctx", "8");
  EXPECT_FAILS(1, "error: --ctx must be between 2 and the model's context",
               "perplexity", "--file", writeFile("two.txt", "ab"), "--ctx",
               "97");
  EXPECT_FAILS(1, "error: perplexity needs --file", "perplexity", "--ctx", "8");
  EXPECT_FAILS(1, "has an id outside the vocabulary", "run", "--prompt-ids",
               "1,257");
}

} // namespace
