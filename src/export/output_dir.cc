#include "export/output_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace embed2onnx {

namespace {
Status MakeDirs(const std::string& dir, std::vector<std::string>* created) {
  std::vector<std::string> missing;
  std::string cur = dir;
  struct stat st;
  while (!cur.empty() && ::stat(cur.c_str(), &st) != 0) {
    if (errno != ENOENT) return ErrnoStatus(cur, "cannot stat", errno);
    missing.push_back(cur);
    size_t slash = cur.find_last_of('/');
    if (slash == std::string::npos) break;
    cur = cur.substr(0, slash);
  }
  if (missing.empty() && !S_ISDIR(st.st_mode))
    return Status::InvalidArgument(dir + ": exists and is not a folder");
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (::mkdir(it->c_str(), 0777) == 0) {
      // Only folders this call made are ours to remove; one a concurrent run made first
      // (EEXIST) is not.
      if (std::find(created->begin(), created->end(), *it) == created->end()) created->push_back(*it);
    } else if (errno != EEXIST) {
      return ErrnoStatus(*it, "cannot create folder", errno);
    }
  }
  return Status::Ok();
}

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

// Attempts at creating, opening and locking the folder before giving up on a folder
// that is removed again every time.
constexpr int kMaxOpenAttempts = 100;

Status SyncPath(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoStatus(path, "cannot open to flush", errno);
  if (::fsync(fd.get()) != 0) return ErrnoStatus(path, "flush to disk failed", errno);
  return Status::Ok();
}
}  // namespace

Result<std::unique_ptr<OutputDir>> OutputDir::Open(const std::string& dir,
                                                   const std::function<void(const std::string&)>& note) {
  std::unique_ptr<OutputDir> out(new OutputDir(dir));
  // A run that fails removes the folders it created, possibly while we wait for its
  // lock. Once we hold a lock, `dir` must still name the folder we locked; else the
  // lock guards a removed folder, and we start over.
  for (int attempt = 0;; ++attempt) {
    if (attempt == kMaxOpenAttempts)
      return Status::IOError(dir + ": cannot lock folder: it was removed " + std::to_string(attempt) +
                             " times while this run opened it");
    E2O_RETURN_IF_ERROR(MakeDirs(dir, &out->created_dirs_));
    out->dir_fd_ = UniqueFd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (out->dir_fd_.get() < 0) {
      if (errno == ENOENT) continue;  // removed between MakeDirs and open
      return ErrnoStatus(dir, "cannot open folder", errno);
    }
    if (::flock(out->dir_fd_.get(), LOCK_EX | LOCK_NB) != 0) {
      if (errno != EWOULDBLOCK) return ErrnoStatus(dir, "cannot lock folder", errno);
      note(dir + ": another embed2onnx run is exporting here; waiting for it to finish");
      while (::flock(out->dir_fd_.get(), LOCK_EX) != 0)
        if (errno != EINTR) return ErrnoStatus(dir, "cannot lock folder", errno);
    }
    E2O_ASSIGN_OR_RETURN(bool same, StillNamed(dir, out->dir_fd_.get()));
    if (same) break;
  }
  // We hold the lock: any temporary here belongs to a run that died.
  if (DIR* d = ::opendir(dir.c_str())) {
    std::vector<std::string> stale;
    while (dirent* e = ::readdir(d))
      if (std::strncmp(e->d_name, kTempPrefix, sizeof(kTempPrefix) - 1) == 0) stale.push_back(e->d_name);
    ::closedir(d);
    for (const std::string& name : stale) {
      if (::unlink((dir + "/" + name).c_str()) == 0)
        note(dir + ": removed " + name + " left by an interrupted run");
    }
  }
  return out;
}

std::string OutputDir::Stage(const std::string& file_name) {
  std::string tmp = dir_ + "/" + kTempPrefix + std::to_string(::getpid()) + "-" + file_name;
  staged_.emplace_back(tmp, file_name);
  return tmp;
}

void OutputDir::RemoveAtCommit(const std::string& file_name) { remove_at_commit_.push_back(file_name); }

Status OutputDir::Commit(bool durable) {
  if (durable)
    for (const auto& [tmp, name] : staged_) E2O_RETURN_IF_ERROR(SyncPath(tmp));
  for (const std::string& name : remove_at_commit_) {
    std::string path = FinalPath(name);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
      return ErrnoStatus(path, "cannot remove stale file", errno);
  }
  for (const auto& [tmp, name] : staged_) {
    std::string final_path = FinalPath(name);
    if (::rename(tmp.c_str(), final_path.c_str()) != 0)
      return ErrnoStatus(final_path, "cannot rename into place", errno);
  }
  committed_ = true;
  if (durable && ::fsync(dir_fd_.get()) != 0) return ErrnoStatus(dir_, "flush of folder failed", errno);
  return Status::Ok();
}

OutputDir::~OutputDir() {
  if (committed_) return;
  for (const auto& [tmp, name] : staged_) ::unlink(tmp.c_str());
  // Folders this run created are removed again if nothing else appeared in them.
  for (auto it = created_dirs_.rbegin(); it != created_dirs_.rend(); ++it) ::rmdir(it->c_str());
}

}  // namespace embed2onnx
