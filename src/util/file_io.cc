#include "util/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace embed2onnx {

Status ErrnoStatus(const std::string& path, const std::string& what, int err) {
  return Status::IOError(path + ": " + what + ": " + std::strerror(err));
}

Status PReadFull(int fd, void* buf, size_t n, uint64_t offset, const std::string& path) {
  auto* p = static_cast<char*>(buf);
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::pread(fd, p + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(path, "read failed at offset " + std::to_string(offset + done), errno);
    }
    if (r == 0)
      return Status::IOError(path + ": truncated: wanted " + std::to_string(n) + " bytes at offset " +
                             std::to_string(offset) + ", file ends after " + std::to_string(done));
    done += static_cast<size_t>(r);
  }
  return Status::Ok();
}

Status PWriteFull(int fd, const void* buf, size_t n, uint64_t offset, const std::string& path) {
  const auto* p = static_cast<const char*>(buf);
  size_t done = 0;
  while (done < n) {
    ssize_t w = ::pwrite(fd, p + done, n - done, static_cast<off_t>(offset + done));
    if (w < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(path, "write failed at offset " + std::to_string(offset + done), errno);
    }
    if (w == 0) return Status::IOError(path + ": write made no progress at offset " + std::to_string(offset + done));
    done += static_cast<size_t>(w);
  }
  return Status::Ok();
}

Result<std::string> ReadFileToString(const std::string& path, uint64_t max_bytes) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoStatus(path, "cannot open", errno);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus(path, "cannot stat", errno);
  if (!S_ISREG(st.st_mode)) return Status::InvalidArgument(path + ": not a regular file");
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size > max_bytes)
    return Status::InvalidArgument(path + ": " + std::to_string(size) + " bytes, more than the " +
                                   std::to_string(max_bytes) + " allowed");
  std::string data(size, '\0');
  E2O_RETURN_IF_ERROR(PReadFull(fd.get(), data.data(), size, 0, path));
  return data;
}

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

}  // namespace embed2onnx
