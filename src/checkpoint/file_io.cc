#include "checkpoint/file_io.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <limits>

namespace embed2onnx {

namespace {
std::string ErrnoText(int err) { return std::strerror(err); }

// Linux transfers at most 0x7ffff000 bytes per call; asking for less keeps every
// request within ssize_t on any platform.
constexpr uint64_t kMaxChunk = uint64_t{1} << 30;
}  // namespace

ScopedFd& ScopedFd::operator=(ScopedFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.Release();
  }
  return *this;
}

ScopedFd::~ScopedFd() {
  if (fd_ >= 0) ::close(fd_);
}

int ScopedFd::Release() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

Result<OpenedFile> OpenRegularFile(const std::string& path) {
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return Status::NotFound(path + ": no such file");
    return Status::IOError(path + ": cannot open: " + ErrnoText(err));
  }
  OpenedFile file{ScopedFd(fd), 0};
  struct stat st;
  if (::fstat(fd, &st) != 0) return Status::IOError(path + ": cannot stat: " + ErrnoText(errno));
  if (!S_ISREG(st.st_mode)) return Status::InvalidArgument(path + ": not a regular file");
  file.size = static_cast<uint64_t>(st.st_size);
  return file;
}

Status PreadExact(int fd, const std::string& path, const std::string& context, void* buf, uint64_t n,
                  uint64_t offset) {
  const std::string where = context.empty() ? path : path + ": " + context;
  // off_t is signed: an offset past its range cannot be in the file.
  if (offset > static_cast<uint64_t>(std::numeric_limits<off_t>::max()) ||
      n > static_cast<uint64_t>(std::numeric_limits<off_t>::max()) - offset) {
    return Status::IOError(where + ": offset " + std::to_string(offset) + " is out of range");
  }
  auto* out = static_cast<char*>(buf);
  uint64_t done = 0;
  while (done < n) {
    size_t want = static_cast<size_t>(std::min(n - done, kMaxChunk));
    ssize_t got = ::pread(fd, out + done, want, static_cast<off_t>(offset + done));
    if (got < 0) {
      if (errno == EINTR) continue;
      return Status::IOError(where + ": read failed at offset " + std::to_string(offset + done) + ": " +
                             ErrnoText(errno));
    }
    if (got == 0) {
      return Status::IOError(where + ": short read at offset " + std::to_string(offset) + ": got " +
                             std::to_string(done) + " of " + std::to_string(n) +
                             " bytes (file truncated or changed?)");
    }
    done += static_cast<uint64_t>(got);
  }
  return Status::Ok();
}

Result<std::string> ReadSmallFile(const std::string& path, uint64_t cap) {
  E2O_ASSIGN_OR_RETURN(OpenedFile file, OpenRegularFile(path));
  if (file.size > cap) {
    return Status::InvalidArgument(path + ": " + std::to_string(file.size) + " bytes exceeds the " +
                                   std::to_string(cap) + "-byte cap");
  }
  std::string bytes(static_cast<size_t>(file.size), '\0');
  E2O_RETURN_IF_ERROR(PreadExact(file.fd.get(), path, "", bytes.data(), file.size, 0));
  return bytes;
}

}  // namespace embed2onnx
