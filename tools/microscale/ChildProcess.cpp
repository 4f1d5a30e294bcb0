//===- ChildProcess.cpp - programs run with pipes, for eval ---------------===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#include "ChildProcess.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/MemoryBuffer.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

using namespace mlir::microscale::driver;
using llvm::createStringError;
using llvm::Twine;

namespace {
/// A pipe whose ends are close-on-exec and numbered above the descriptors
/// the child's file actions target (0-3), so dup2 always copies (and so
/// clears close-on-exec) and no other child inherits either end: a reader
/// sees end of file as soon as its writer is gone.
llvm::Error makePipe(int ends[2]) {
  int raw[2];
  if (pipe2(raw, O_CLOEXEC) != 0)
    return llvm::errorCodeToError(
        std::error_code(errno, std::generic_category()));
  for (int i = 0; i < 2; ++i) {
    ends[i] = fcntl(raw[i], F_DUPFD_CLOEXEC, 10);
    close(raw[i]);
  }
  if (ends[0] < 0 || ends[1] < 0)
    return createStringError("cannot create a pipe: %s", strerror(errno));
  return llvm::Error::success();
}

void closeFd(int &fd) {
  if (fd >= 0)
    close(fd);
  fd = -1;
}

/// The last non-empty line of a file; a progress line ends at '\r'.
std::string lastLine(llvm::StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return "";
  std::string text = (*buffer)->getBuffer().str();
  std::replace(text.begin(), text.end(), '\r', '\n');
  llvm::SmallVector<llvm::StringRef> lines;
  llvm::StringRef(text).split(lines, '\n', -1, /*KeepEmpty=*/false);
  for (llvm::StringRef line : llvm::reverse(lines))
    if (!line.trim().empty())
      return line.trim().str();
  return "";
}
} // namespace

llvm::Expected<ChildProcess>
ChildProcess::spawn(llvm::ArrayRef<std::string> argv,
                    llvm::StringRef stderrPath, llvm::StringRef name,
                    bool withStream) {
  ChildProcess child;
  child.stderrPath = stderrPath.str();
  child.displayName = name.str();
  int out[2] = {-1, -1}, stream[2] = {-1, -1};
  if (llvm::Error error = makePipe(out))
    return std::move(error);
  if (withStream)
    if (llvm::Error error = makePipe(stream)) {
      closeFd(out[0]);
      closeFd(out[1]);
      return std::move(error);
    }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_addopen(&actions, 2, child.stderrPath.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (withStream)
    posix_spawn_file_actions_adddup2(&actions, stream[1], kStreamFd);
  std::vector<char *> args;
  for (const std::string &arg : argv)
    args.push_back(const_cast<char *>(arg.c_str()));
  args.push_back(nullptr);
  int status =
      posix_spawn(&child.pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  closeFd(out[1]);
  closeFd(stream[1]);
  child.stdoutFd = out[0];
  child.streamFd = stream[0];
  if (status != 0) {
    child.pid = -1;
    return createStringError("cannot run %s '%s': %s", name.str().c_str(),
                             argv[0].c_str(), strerror(status));
  }
  return std::move(child);
}

ChildProcess::ChildProcess(ChildProcess &&other)
    : pid(other.pid), stdoutFd(other.stdoutFd), streamFd(other.streamFd),
      stderrPath(std::move(other.stderrPath)),
      displayName(std::move(other.displayName)) {
  other.pid = -1;
  other.stdoutFd = other.streamFd = -1;
}

ChildProcess::~ChildProcess() {
  closePipes();
  kill();
}

void ChildProcess::closePipes() {
  closeFd(stdoutFd);
  closeFd(streamFd);
}

void ChildProcess::closeStream() { closeFd(streamFd); }

llvm::Expected<size_t> ChildProcess::readFrom(int fd, void *buffer,
                                              size_t size) {
  char *bytes = static_cast<char *>(buffer);
  size_t done = 0;
  while (done < size) {
    ssize_t got = read(fd, bytes + done, size - done);
    if (got == 0)
      break;
    if (got < 0) {
      if (errno == EINTR)
        continue;
      return createStringError("cannot read the output of %s: %s",
                               displayName.c_str(), strerror(errno));
    }
    done += static_cast<size_t>(got);
  }
  return done;
}

llvm::Expected<size_t> ChildProcess::readStream(void *buffer, size_t size) {
  return readFrom(streamFd, buffer, size);
}

llvm::Expected<std::string> ChildProcess::readAllStdout() {
  std::string text;
  char chunk[4096];
  while (true) {
    auto got = readFrom(stdoutFd, chunk, sizeof chunk);
    if (!got)
      return got.takeError();
    text.append(chunk, *got);
    if (*got < sizeof chunk)
      return text;
  }
}

llvm::Error ChildProcess::wait() {
  // A child still writing to a closed pipe gets SIGPIPE instead of blocking
  // this wait forever.
  closePipes();
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return createStringError("cannot wait for %s: %s", displayName.c_str(),
                               strerror(errno));
  pid = -1;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    return llvm::Error::success();
  std::string how =
      WIFEXITED(status)
          ? ("exited with status " + Twine(WEXITSTATUS(status))).str()
          : ("was killed by signal " + Twine(WTERMSIG(status)) + " (" +
             strsignal(WTERMSIG(status)) + ")")
                .str();
  std::string said = lastLine(stderrPath);
  return createStringError(displayName + " " + how +
                           (said.empty() ? "" : ": " + said));
}

void ChildProcess::kill() {
  if (pid <= 0)
    return;
  ::kill(pid, SIGKILL);
  while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR)
    ;
  pid = -1;
}
