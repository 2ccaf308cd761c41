// POSIX file helpers that check every byte count and name the file in their errors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "embed2onnx/status.h"

namespace embed2onnx {

// Reads exactly n bytes at `offset`; a short read (file shorter than expected) is an
// IOError "<path>: truncated: ...". Retries on EINTR and partial reads.
Status PReadFull(int fd, void* buf, size_t n, uint64_t offset, const std::string& path);
// Writes exactly n bytes at `offset` (ENOSPC, EFBIG, ... become IOError naming path).
Status PWriteFull(int fd, const void* buf, size_t n, uint64_t offset, const std::string& path);

// Reads a whole regular file of at most `max_bytes`.
Result<std::string> ReadFileToString(const std::string& path, uint64_t max_bytes);

// "<path>: <strerror(errno)>" as an IOError.
Status ErrnoStatus(const std::string& path, const std::string& what, int err);

// An fd closed on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();
  int get() const { return fd_; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }
  // Closes now, reporting a close error (data not written) as an IOError naming path.
  Status Close(const std::string& path);

 private:
  int fd_ = -1;
};

}  // namespace embed2onnx
