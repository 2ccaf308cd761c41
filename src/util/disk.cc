#include "util/disk.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "util/file_io.h"
#include "util/temp_guard.h"

namespace embed2onnx {

namespace {

class PosixFile : public WritableFile {
 public:
  PosixFile(std::string path, UniqueFd fd) : WritableFile(std::move(path)), fd_(std::move(fd)) {}
  Status WriteAt(const void* data, uint64_t n, uint64_t offset) override {
    return PWriteFull(fd_.get(), data, n, offset, path());
  }
  Status ReadAt(void* data, uint64_t n, uint64_t offset) override {
    return PReadFull(fd_.get(), data, n, offset, path());
  }
  Status Reserve(uint64_t offset, uint64_t n) override {
    if (n == 0) return Status::Ok();
#if defined(__linux__)
    int rc;
    do {
      rc = ::fallocate(fd_.get(), FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset), static_cast<off_t>(n));
    } while (rc != 0 && errno == EINTR);
    const int err = rc == 0 ? 0 : errno;
    if (err == 0 || err == EOPNOTSUPP || err == ENOSYS) return Status::Ok();
    return ErrnoStatus(path(), "cannot allocate " + std::to_string(n) + " bytes", err);
#else
    return Status::Ok();  // no preallocation without emulating it by writing zeros
#endif
  }
  Result<uint64_t> Size() override {
    struct stat st;
    if (::fstat(fd_.get(), &st) != 0) return ErrnoStatus(path(), "cannot stat", errno);
    return static_cast<uint64_t>(st.st_size);
  }
  Status Sync() override {
    if (::fsync(fd_.get()) != 0) return ErrnoStatus(path(), "flush to disk failed", errno);
    return Status::Ok();
  }
  Status Close() override { return fd_.Close(path()); }

 private:
  UniqueFd fd_;
};

class PosixFolderLock : public FolderLock {
 public:
  PosixFolderLock(std::string dir, UniqueFd fd) : dir_(std::move(dir)), fd_(std::move(fd)) {}
  Status Sync() override {
    if (::fsync(fd_.get()) != 0) return ErrnoStatus(dir_, "flush of folder failed", errno);
    return Status::Ok();
  }

 private:
  std::string dir_;
  UniqueFd fd_;  // closing it releases the flock
};

// Whether `path` still names the folder open as `fd`.
Result<bool> StillNamed(const std::string& path, int fd) {
  struct stat locked, named;
  if (::fstat(fd, &locked) != 0) return ErrnoStatus(path, "cannot stat", errno);
  if (::stat(path.c_str(), &named) != 0) {
    if (errno == ENOENT) return false;
    return ErrnoStatus(path, "cannot stat", errno);
  }
  return named.st_dev == locked.st_dev && named.st_ino == locked.st_ino;
}

class PosixDisk : public Disk {
 public:
  Result<std::unique_ptr<WritableFile>> Create(const std::string& path) override {
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));  // RDWR: ReadAt
    if (fd.get() < 0) return ErrnoStatus(path, "cannot create", errno);
    return std::unique_ptr<WritableFile>(new PosixFile(path, std::move(fd)));
  }

  Result<EntryKind> Kind(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) return EntryKind::kMissing;
      return ErrnoStatus(path, "cannot stat", errno);
    }
    if (S_ISREG(st.st_mode)) return EntryKind::kFile;
    if (S_ISDIR(st.st_mode)) return EntryKind::kFolder;
    return EntryKind::kOther;
  }

  Result<std::string> ReadSmallFile(const std::string& path, uint64_t max_bytes) override {
    return ReadFileToString(path, max_bytes);
  }

  Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return ErrnoStatus(to, "cannot rename into place", errno);
    return Status::Ok();
  }

  Status Link(const std::string& from, const std::string& to) override {
    if (::link(from.c_str(), to.c_str()) == 0) return Status::Ok();
    if (errno == EPERM || errno == ENOTSUP || errno == EOPNOTSUPP || errno == EXDEV || errno == EMLINK)
      return Status::NotSupported(ErrnoStatus(from, "cannot link", errno).message());
    return ErrnoStatus(from, "cannot link", errno);
  }

  Status Remove(const std::string& path) override {
    if (::unlink(path.c_str()) == 0) return Status::Ok();
    if (errno == ENOENT) return Status::NotFound(path + ": no such file");
    return ErrnoStatus(path, "cannot remove", errno);
  }

  Result<bool> MakeFolder(const std::string& path) override {
    if (::mkdir(path.c_str(), 0777) == 0) return true;
    if (errno == EEXIST) return false;
    return ErrnoStatus(path, "cannot create folder", errno);
  }

  Status RemoveFolder(const std::string& path) override {
    if (::rmdir(path.c_str()) != 0) return ErrnoStatus(path, "cannot remove folder", errno);
    return Status::Ok();
  }

  Result<std::vector<std::string>> List(const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (!d) return ErrnoStatus(dir, "cannot list folder", errno);
    std::vector<std::string> names;
    errno = 0;
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(std::move(n));
    }
    const int err = errno;
    ::closedir(d);
    if (err != 0) return ErrnoStatus(dir, "cannot list folder", err);
    std::sort(names.begin(), names.end());
    return names;
  }

  Result<SpaceInfo> Space(const std::string& dir) override {
    struct statvfs vfs;
    if (::statvfs(dir.c_str(), &vfs) != 0) return ErrnoStatus(dir, "cannot read free space", errno);
    // f_bavail, not f_bfree: blocks reserved for root are not ours to plan with.
    SpaceInfo s;
    s.block_size = vfs.f_frsize ? vfs.f_frsize : vfs.f_bsize;
    s.free_bytes = static_cast<uint64_t>(vfs.f_bavail) * s.block_size;
    return s;
  }

  Status SyncFile(const std::string& path) override {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return ErrnoStatus(path, "cannot open to flush", errno);
    if (::fsync(fd.get()) != 0) return ErrnoStatus(path, "flush to disk failed", errno);
    return Status::Ok();
  }

  Result<std::unique_ptr<FolderLock>> LockFolder(const std::string& dir,
                                                 const std::function<void()>& on_wait) override {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0) {
      if (errno == ENOENT) return Status::NotFound(dir + ": no such folder");
      return ErrnoStatus(dir, "cannot open folder", errno);
    }
    // flock belongs to the open folder description: no lock file is left behind.
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
      if (errno != EWOULDBLOCK) return ErrnoStatus(dir, "cannot lock folder", errno);
      on_wait();
      while (::flock(fd.get(), LOCK_EX) != 0)
        if (errno != EINTR) return ErrnoStatus(dir, "cannot lock folder", errno);
    }
    E2O_ASSIGN_OR_RETURN(bool same, StillNamed(dir, fd.get()));
    if (!same) return Status::NotFound(dir + ": removed while this run waited for it");
    return std::unique_ptr<FolderLock>(new PosixFolderLock(dir, std::move(fd)));
  }

  Status GuardTemporary(const std::string& path, TempKind kind) override { return GuardPath(path, kind); }
  void UnguardTemporary(const std::string& path) override { UnguardPath(path); }
};

}  // namespace

Disk* DefaultDisk() {
  static Disk* disk = new PosixDisk;
  return disk;
}

Status WriteWholeFile(Disk* disk, const std::string& path, const std::string& bytes) {
  E2O_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> f, disk->Create(path));
  E2O_RETURN_IF_ERROR(f->WriteAt(bytes.data(), bytes.size(), 0));
  return f->Close();
}

}  // namespace embed2onnx
