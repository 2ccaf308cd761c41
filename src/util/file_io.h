// POSIX file helpers for every stage: an owned descriptor, opening a regular file with
// its size, positioned reads and writes that check every byte count, and a capped
// whole-file reader. Every error is a Status whose message starts with the file's path.
//
// pread/pwrite (not mmap, not streams): a file truncated under us must give an error
// value, not a SIGBUS, and several threads may read one descriptor at once.
//
// Error codes: NotFound when the file does not exist, InvalidArgument when the path is
// not a regular file (a FIFO or a device could block or never end) or is over a cap,
// IOError for everything the system reports and for a file that ends early.
//
// Thread-safety: the functions are safe to call concurrently; a UniqueFd is a value
// owned by one thread at a time.
#pragma once

#include <cstdint>
#include <string>

#include "embed2onnx/status.h"

namespace embed2onnx {

// Owns a file descriptor; closes it on destruction. Move-only.
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
  // Gives up ownership and returns the descriptor.
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

// "<path>: <what>: <strerror(err)>" as an IOError.
Status ErrnoStatus(const std::string& path, const std::string& what, int err);

struct OpenedFile {
  UniqueFd fd;
  uint64_t size = 0;  // from fstat at open time
};

// Opens `path` read-only. NotFound "<path>: no such file" if it does not exist,
// InvalidArgument "<path>: not a regular file" for a folder, FIFO or device, IOError
// otherwise.
Result<OpenedFile> OpenRegularFile(const std::string& path);

// Reads exactly `n` bytes at `offset` into `buf`, looping over partial reads and EINTR.
// A file that ends early is an IOError "<path>[: <context>]: truncated: short read ...";
// a read error is an IOError naming the offset. `context` ("header", "tensor 'x'")
// says what was being read and may be empty.
Status PReadFull(int fd, void* buf, uint64_t n, uint64_t offset, const std::string& path,
                 const std::string& context = "");

// Writes exactly `n` bytes at `offset`, looping over partial writes and EINTR. ENOSPC,
// EFBIG, ... become an IOError naming `path` and the offset. A non-zero `max_piece`
// caps the bytes handed to each pwrite call (see TierWriter for why that pays).
Status PWriteFull(int fd, const void* buf, uint64_t n, uint64_t offset, const std::string& path,
                  uint64_t max_piece = 0);

// Reads a whole regular file of at most `max_bytes` (an index, an .onnx model).
// OpenRegularFile's errors, or InvalidArgument when the file is larger than the cap.
Result<std::string> ReadFileToString(const std::string& path, uint64_t max_bytes);

}  // namespace embed2onnx
