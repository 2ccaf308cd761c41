// POSIX file access for untrusted checkpoints: an owned descriptor, its size at open
// time, and positioned reads that loop over short reads and EINTR.
//
// pread (not mmap): we read a header and a few rows, and a file truncated under us
// must give an error value, not a SIGBUS.
#pragma once

#include <cstdint>
#include <string>

#include "embed2onnx/status.h"

namespace embed2onnx {

// Owns a file descriptor; closes it on destruction. Move-only.
class ScopedFd {
 public:
  explicit ScopedFd(int fd = -1) : fd_(fd) {}
  ScopedFd(ScopedFd&& other) noexcept : fd_(other.Release()) {}
  ScopedFd& operator=(ScopedFd&& other) noexcept;
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  ~ScopedFd();

  int get() const { return fd_; }
  // Gives up ownership and returns the descriptor.
  int Release();

 private:
  int fd_;
};

struct OpenedFile {
  ScopedFd fd;
  uint64_t size = 0;  // from fstat at open time
};

// Opens `path` read-only. NotFound if it does not exist, InvalidArgument if it is not a
// regular file (a FIFO or a device could block or never end), IOError otherwise.
Result<OpenedFile> OpenRegularFile(const std::string& path);

// Reads exactly `n` bytes at `offset` into `buf`. Fewer bytes (the file ends early) or a
// read error is an IOError "<path>: <context>: ..."; `context` may be empty.
Status PreadExact(int fd, const std::string& path, const std::string& context, void* buf, uint64_t n,
                  uint64_t offset);

// Reads a whole small file (an index): NotFound if missing, InvalidArgument past `cap`.
Result<std::string> ReadSmallFile(const std::string& path, uint64_t cap);

}  // namespace embed2onnx
