#include "util/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

namespace embed2onnx {

namespace {

// Linux transfers at most 0x7ffff000 bytes per call; asking for less keeps every
// request within ssize_t on any platform.
constexpr uint64_t kMaxChunk = uint64_t{1} << 30;

constexpr uint64_t kMaxOffT = static_cast<uint64_t>(std::numeric_limits<off_t>::max());

// off_t is signed: a range that ends past its maximum cannot be in any file.
bool RangeFitsOffT(uint64_t offset, uint64_t n) { return offset <= kMaxOffT && n <= kMaxOffT - offset; }

std::string Where(const std::string& path, const std::string& context) {
  return context.empty() ? path : path + ": " + context;
}

}  // namespace

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.release();
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

Status UniqueFd::Close(const std::string& path) {
  int f = release();
  if (f >= 0 && ::close(f) != 0) return ErrnoStatus(path, "close failed", errno);
  return Status::Ok();
}

Status ErrnoStatus(const std::string& path, const std::string& what, int err) {
  return Status::IOError(path + ": " + what + ": " + std::strerror(err));
}

Result<OpenedFile> OpenRegularFile(const std::string& path) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, before
  // fstat could refuse it. O_NOCTTY: a terminal must not become ours by being named.
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    if (errno == ENOENT) return Status::NotFound(path + ": no such file");
    return ErrnoStatus(path, "cannot open", errno);
  }
  OpenedFile file{UniqueFd(fd), 0};
  struct stat st;
  if (::fstat(fd, &st) != 0) return ErrnoStatus(path, "cannot stat", errno);
  if (!S_ISREG(st.st_mode)) return Status::InvalidArgument(path + ": not a regular file");
  // Reads of a regular file ignore O_NONBLOCK, but clear it so nothing depends on that.
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0)
    return ErrnoStatus(path, "cannot set flags", errno);
  file.size = static_cast<uint64_t>(st.st_size);
  return file;
}

Status PReadFull(int fd, void* buf, uint64_t n, uint64_t offset, const std::string& path,
                 const std::string& context) {
  if (!RangeFitsOffT(offset, n)) {
    return Status::IOError(Where(path, context) + ": offset " + std::to_string(offset) + " is out of range");
  }
  auto* out = static_cast<char*>(buf);
  uint64_t done = 0;
  while (done < n) {
    const size_t want = static_cast<size_t>(std::min(n - done, kMaxChunk));
    const ssize_t got = ::pread(fd, out + done, want, static_cast<off_t>(offset + done));
    if (got < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(Where(path, context), "read failed at offset " + std::to_string(offset + done),
                         errno);
    }
    if (got == 0) {
      return Status::IOError(Where(path, context) + ": truncated: short read at offset " +
                             std::to_string(offset) + ": got " + std::to_string(done) + " of " +
                             std::to_string(n) + " bytes (file ends early or changed?)");
    }
    done += static_cast<uint64_t>(got);
  }
  return Status::Ok();
}

Status PWriteFull(int fd, const void* buf, uint64_t n, uint64_t offset, const std::string& path,
                  uint64_t max_piece) {
  if (!RangeFitsOffT(offset, n)) {
    return Status::IOError(path + ": write offset " + std::to_string(offset) + " is out of range");
  }
  const auto* in = static_cast<const char*>(buf);
  const uint64_t piece = max_piece == 0 ? kMaxChunk : std::min(max_piece, kMaxChunk);
  uint64_t done = 0;
  while (done < n) {
    const size_t want = static_cast<size_t>(std::min(n - done, piece));
    const ssize_t put = ::pwrite(fd, in + done, want, static_cast<off_t>(offset + done));
    if (put < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(path, "write failed at offset " + std::to_string(offset + done), errno);
    }
    if (put == 0)
      return Status::IOError(path + ": write made no progress at offset " + std::to_string(offset + done));
    done += static_cast<uint64_t>(put);
  }
  return Status::Ok();
}

Result<std::string> ReadFileToString(const std::string& path, uint64_t max_bytes) {
  E2O_ASSIGN_OR_RETURN(OpenedFile file, OpenRegularFile(path));
  if (file.size > max_bytes) {
    return Status::InvalidArgument(path + ": " + std::to_string(file.size) + " bytes exceeds the " +
                                   std::to_string(max_bytes) + "-byte cap");
  }
  std::string data(static_cast<size_t>(file.size), '\0');
  E2O_RETURN_IF_ERROR(PReadFull(file.fd.get(), data.data(), file.size, 0, path));
  return data;
}

}  // namespace embed2onnx
