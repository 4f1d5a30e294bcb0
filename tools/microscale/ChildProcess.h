//===- ChildProcess.h - programs run with pipes, for eval -------*- C++ -*-===//
//
// Part of the Microscale project.
//
// `microscale eval` runs the programs it compiled and reads their output
// while they run: stdout through a pipe, optionally a second pipe on the
// child's descriptor 3 (a binary stream the program opens as /dev/fd/3),
// stderr into a file whose last line explains a failure. posix_spawn, not
// fork: the driver holds an MLIR context and its threads.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_TOOLS_CHILDPROCESS_H
#define MICROSCALE_TOOLS_CHILDPROCESS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <string>
#include <sys/types.h>

namespace mlir::microscale::driver {

/// A running program. Destroying it closes the pipes and, if it has not been
/// waited for, kills and reaps it: no error path leaves a child behind.
class ChildProcess {
public:
  /// The descriptor a stream pipe occupies in the child.
  static constexpr int kStreamFd = 3;

  /// Starts `argv` (argv[0] is the program's path) with stdin from
  /// /dev/null, stdout to a pipe, stderr to `stderrPath`, and with
  /// `withStream`, a second pipe on descriptor 3. `name` says which program
  /// it is in messages ("the float program").
  static llvm::Expected<ChildProcess> spawn(llvm::ArrayRef<std::string> argv,
                                            llvm::StringRef stderrPath,
                                            llvm::StringRef name,
                                            bool withStream);

  ChildProcess(ChildProcess &&other);
  ChildProcess &operator=(ChildProcess &&) = delete;
  ~ChildProcess();

  /// Reads up to `size` bytes from the stream (descriptor 3) or stdout,
  /// stopping early only at end of file; returns how many it read.
  llvm::Expected<size_t> readStream(void *buffer, size_t size);
  /// Everything left on stdout, up to end of file.
  llvm::Expected<std::string> readAllStdout();
  /// Closes the stream pipe: the program's next write to it fails.
  void closeStream();

  /// Waits for the program to end. Success only for exit status 0;
  /// otherwise an error naming the program, how it ended and the last line
  /// it wrote to stderr.
  llvm::Error wait();
  /// Kills the program (if running) and reaps it.
  void kill();

  llvm::StringRef name() const { return displayName; }

private:
  ChildProcess() = default;
  llvm::Expected<size_t> readFrom(int fd, void *buffer, size_t size);
  void closePipes();

  pid_t pid = -1;
  int stdoutFd = -1, streamFd = -1;
  std::string stderrPath, displayName;
};

} // namespace mlir::microscale::driver

#endif // MICROSCALE_TOOLS_CHILDPROCESS_H
