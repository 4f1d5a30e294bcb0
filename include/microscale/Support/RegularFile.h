//===- RegularFile.h - read only regular files ------------------*- C++ -*-===//
//
// Part of the Microscale project.
//
// Every file the compiler reads (models, external data, tokenizers, text)
// goes through readRegularFile: a FIFO would block open() and reads forever,
// a device such as /dev/zero never ends. The file is opened without waiting
// (O_NONBLOCK) and the type of what was opened is checked before a byte is
// read or its size trusted.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_SUPPORT_REGULARFILE_H
#define MICROSCALE_SUPPORT_REGULARFILE_H

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cerrno>
#include <fcntl.h>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace mlir::microscale {

/// A regular file opened for reading; closed when it goes.
class RegularFile {
public:
  RegularFile() = default;
  RegularFile(const RegularFile &) = delete;
  RegularFile &operator=(const RegularFile &) = delete;
  ~RegularFile() {
    if (fd >= 0)
      ::close(fd);
  }

  /// Opens `path` if it is a regular file; otherwise returns why not ("No
  /// such file or directory", "Is a directory", "a FIFO, not a regular
  /// file", ...).
  std::optional<std::string> open(const std::string &path) {
    this->path = path;
    fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
      return std::error_code(errno, std::generic_category()).message();
    struct stat status;
    if (::fstat(fd, &status) != 0)
      return std::error_code(errno, std::generic_category()).message();
    if (S_ISDIR(status.st_mode))
      return std::make_error_code(std::errc::is_a_directory).message();
    if (!S_ISREG(status.st_mode))
      return std::string(S_ISFIFO(status.st_mode)   ? "a FIFO"
                         : S_ISSOCK(status.st_mode) ? "a socket"
                                                    : "a device") +
             ", not a regular file";
    fileSize = status.st_size;
    return std::nullopt;
  }

  uint64_t size() const { return fileSize; }

  /// Reads `length` bytes at `offset` (within size()).
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>>
  read(uint64_t length, uint64_t offset = 0) const {
    return llvm::MemoryBuffer::getOpenFileSlice(
        llvm::sys::fs::convertFDToNativeFile(fd), path, length, offset);
  }

private:
  int fd = -1;
  uint64_t fileSize = 0;
  std::string path;
};

/// The whole of regular file `path`, or why it cannot be read.
inline llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
readRegularFile(const llvm::Twine &path) {
  RegularFile file;
  std::string name = path.str();
  if (std::optional<std::string> reason = file.open(name))
    return llvm::createStringError(llvm::inconvertibleErrorCode(), *reason);
  auto buffer = file.read(file.size());
  if (!buffer)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   buffer.getError().message());
  return std::move(*buffer);
}

} // namespace mlir::microscale

#endif // MICROSCALE_SUPPORT_REGULARFILE_H
