// Helpers shared by the libFuzzer targets: invariant checks that abort (so libFuzzer
// records a crash), and an in-memory file so a target can drive the real file-reading
// code with the fuzzer's bytes without touching the disk.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "embed2onnx/status.h"

// An invariant of the code under test, checked on every input, in every build type.
#define FUZZ_CHECK(cond, ...)                                                           \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::fprintf(stderr, __VA_ARGS__);                                                \
      std::fprintf(stderr, "\n");                                                       \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)

namespace embed2onnx::fuzz {

inline bool StartsWith(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

// The library's contract for every error: a message that starts with the file's name.
inline void CheckErrorNames(const Status& status, const std::string& name) {
  FUZZ_CHECK(status.ok() || StartsWith(status.message(), name), "error does not start with %s: %s",
             name.c_str(), status.message().c_str());
}

// With E2O_FUZZ_VERBOSE set, prints what the code under test said about the input: a
// way to see that each seed of the corpus is refused for the reason its name gives.
inline void Report(const char* step, const Status& status) {
  static const bool verbose = std::getenv("E2O_FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "  %s: %s\n", step, status.ToString().c_str());
}

// A memfd reachable by path (/proc/self/fd/N), so code that opens files by name reads
// bytes we set. One per target, reused for every input.
class MemFile {
 public:
  explicit MemFile(const char* name) : fd_(::memfd_create(name, MFD_CLOEXEC)) {
    FUZZ_CHECK(fd_ >= 0, "memfd_create failed");
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;

  // Replaces the contents with `data`.
  void Set(const uint8_t* data, size_t size) {
    FUZZ_CHECK(::ftruncate(fd_, 0) == 0, "ftruncate failed");
    size_t done = 0;
    while (done < size) {
      ssize_t w = ::pwrite(fd_, data + done, size - done, static_cast<off_t>(done));
      FUZZ_CHECK(w > 0, "pwrite to memfd failed");
      done += static_cast<size_t>(w);
    }
  }
  const std::string& path() const { return path_; }

 private:
  int fd_;  // lives as long as the process
  std::string path_;
};

}  // namespace embed2onnx::fuzz
