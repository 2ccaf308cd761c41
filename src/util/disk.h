// The file operations the output side needs (creating, writing, renaming, removing,
// listing, locking, free space), behind an interface so that the writers and the staged
// output folder can run against memory with injected faults in unit tests, the way
// ninja's DiskInterface and gguf's buffer-or-file writer keep their cores testable.
//
// DefaultDisk() is the real file system (POSIX); the CLI and ExportTable use it.
// util/memory_disk.h holds the in-memory one. Readers of checkpoints and .onnx files do
// not go through this seam: they read real files (util/file_io.h).
//
// Every error is a Status whose message starts with the path it concerns, in the words
// of util/file_io.h ("<path>: cannot create: No space left on device").
//
// Thread-safety: a Disk may be called from several threads at once; a WritableFile is
// used by one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "embed2onnx/status.h"

namespace embed2onnx {

class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // Writes exactly `n` bytes at `offset` (one call: callers choose the piece size).
  virtual Status WriteAt(const void* data, uint64_t n, uint64_t offset) = 0;
  // Reads exactly `n` bytes at `offset` back from the file as it is now (through the
  // page cache, where a WriteAt just left them): for checking a write right after it,
  // while its bytes are still in the CPU's cache. Reading past the end is an IOError.
  virtual Status ReadAt(void* data, uint64_t n, uint64_t offset) = 0;
  // Allocates the blocks that bytes [offset, offset + n) will take, keeping the file's
  // size (Size() still says how far it was written). Writes into them then skip the file
  // system's per-block reservation, which on ext4 is about a third of a buffered write's
  // kernel time (bench/RESULTS.md, issue 14), and a full disk is found here, before any
  // byte is written. Where the file system cannot preallocate, nothing is done and it is
  // not an error: the writes allocate as they go.
  virtual Status Reserve(uint64_t offset, uint64_t n) = 0;
  // The file's size now (fstat).
  virtual Result<uint64_t> Size() = 0;
  // Flushes the file's data to the device.
  virtual Status Sync() = 0;
  // Closes, reporting what close reports (data not written). The destructor closes
  // silently if Close was not called.
  virtual Status Close() = 0;
  const std::string& path() const { return path_; }

 protected:
  explicit WritableFile(std::string path) : path_(std::move(path)) {}

 private:
  std::string path_;
};

// An exclusive lock on a folder, held until destroyed.
class FolderLock {
 public:
  virtual ~FolderLock() = default;
  // Flushes the folder's entries (renames, removals) to the device.
  virtual Status Sync() = 0;
};

enum class EntryKind { kMissing, kFile, kFolder, kOther };

// What a folder's file system offers: bytes an unprivileged writer may still use, and
// the unit files are allocated in (a file of n bytes takes n rounded up to it).
struct SpaceInfo {
  uint64_t free_bytes = 0;
  uint64_t block_size = 4096;
};

// A path the signal handler removes if SIGINT or SIGTERM ends the process.
enum class TempKind { kFile, kFolder };

class Disk {
 public:
  virtual ~Disk() = default;

  // Creates `path` for writing, truncating a file already there.
  virtual Result<std::unique_ptr<WritableFile>> Create(const std::string& path) = 0;
  // What `path` names; an error only when the system cannot tell (e.g. a parent is a file).
  virtual Result<EntryKind> Kind(const std::string& path) = 0;
  // A whole regular file of at most `max_bytes`: NotFound when it does not exist.
  virtual Result<std::string> ReadSmallFile(const std::string& path, uint64_t max_bytes) = 0;
  // Atomically replaces `to` with `from` (same folder).
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  // A second name `to` for the file `from` (a hard link). NotSupported when the file
  // system has no hard links.
  virtual Status Link(const std::string& from, const std::string& to) = 0;
  // Removes a file: NotFound when there is none.
  virtual Status Remove(const std::string& path) = 0;
  // Creates a folder; false when one already exists there.
  virtual Result<bool> MakeFolder(const std::string& path) = 0;
  // Removes an empty folder.
  virtual Status RemoveFolder(const std::string& path) = 0;
  // The names in a folder, without "." and "..", sorted.
  virtual Result<std::vector<std::string>> List(const std::string& dir) = 0;
  virtual Result<SpaceInfo> Space(const std::string& dir) = 0;
  // Flushes a closed file's data to the device.
  virtual Status SyncFile(const std::string& path) = 0;
  // Locks `dir` exclusively against other processes. If another holds it, calls
  // `on_wait` once and blocks. NotFound when `dir` does not exist or, after waiting,
  // no longer names the folder that was locked (the holder removed it): try again.
  virtual Result<std::unique_ptr<FolderLock>> LockFolder(const std::string& dir,
                                                         const std::function<void()>& on_wait) = 0;
  // REQUIRES: before the file or folder is created. Until UnguardTemporary, a SIGINT
  // or SIGTERM that ends the process removes it first (util/temp_guard.h).
  virtual Status GuardTemporary(const std::string& path, TempKind kind) = 0;
  virtual void UnguardTemporary(const std::string& path) = 0;
};

// The real file system. Never null, never destroyed.
Disk* DefaultDisk();

// Writes `bytes` to a new file `path` through `disk`.
Status WriteWholeFile(Disk* disk, const std::string& path, const std::string& bytes);

}  // namespace embed2onnx
