//===- FuzzProgram.cpp - libFuzzer target: the program's command line -----===//
//
// Part of the Microscale project.
//
// Runs the generated program's main (runtime/hosted/main.c, built into this
// target with main renamed ms_program_main) on command lines made from the
// input: arguments separated by NUL bytes, after the program's name. The
// model is unittests/Runtime/fake_model.c, whose forward pass aborts when
// the program breaks the calling contract of runtime.h (positions past the
// context, more tokens than max_tokens), so a flag value that slips past
// the checks shows up as a crash. The program's exit() returns here by
// longjmp and what it allocated is freed, so one process runs millions of
// command lines. Command lines naming files (--file, --prompt-file,
// --logits, --logprobs-out, also as --flag=value) are skipped: the fuzzer
// must not write where it likes, nor wait for standard input (`-`).
//
//===----------------------------------------------------------------------===//

#include "microscale/runtime.h"

#include <csetjmp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_set>
#include <vector>

extern "C" int ms_program_main(int argc, char **argv);

namespace {
std::jmp_buf exitPoint;
int exitStatus;
std::unordered_set<void *> *live;
} // namespace

// main.c is built with exit, malloc and free renamed to these.
extern "C" [[noreturn]] void ms_fuzz_exit(int status) {
  exitStatus = status;
  std::longjmp(exitPoint, 1);
}

extern "C" void *ms_fuzz_malloc(size_t size) {
  void *p = std::malloc(size);
  if (p)
    live->insert(p);
  return p;
}

extern "C" void ms_fuzz_free(void *p) {
  if (p)
    live->erase(p);
  std::free(p);
}

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  live = new std::unordered_set<void *>();
  // The commands' output is not looked at.
  if (!std::freopen("/dev/null", "w", stdout))
    std::abort();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 512)
    return 0;
  std::vector<std::string> args{"prog"};
  std::string current;
  for (size_t i = 0; i < size; ++i) {
    if (data[i]) {
      current += static_cast<char>(data[i]);
      continue;
    }
    args.push_back(current);
    current.clear();
  }
  if (!current.empty())
    args.push_back(current);
  for (const std::string &arg : args)
    for (const char *flag :
         {"--file", "--prompt-file", "--logits", "--logprobs-out"})
      if (arg.compare(0, arg.find('='), flag) == 0)
        return 0;
  std::vector<char *> argv;
  for (std::string &arg : args)
    argv.push_back(arg.data());
  argv.push_back(nullptr);

  if (setjmp(exitPoint) == 0)
    exitStatus = ms_program_main(static_cast<int>(args.size()), argv.data());
  std::fflush(stdout);
  if (exitStatus < 0 || exitStatus > 2)
    std::abort(); // The program documents 0, 1 (error) and 2 (usage).
  for (void *p : *live)
    std::free(p);
  live->clear();
  ms_set_threads(0);
  return 0;
}
