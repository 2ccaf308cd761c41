// A Disk held in memory, for unit tests: files and folders in a map, a capacity that
// runs out with ENOSPC, and faults injected at the n-th call of any operation (EIO on
// the third write, a rename that fails, ...). Error messages are worded as the POSIX
// disk words them, so tests check the same messages users see.
//
// Paths are plain strings ("/out/x.onnx"); a file's parent folder must exist. Folder
// locks are not exclusive (tests run one writer at a time). Guarded temporaries are only
// recorded; no signal handler is involved.
//
// Thread-safety: every call takes one mutex.
#pragma once

#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "util/disk.h"

namespace embed2onnx {

enum class DiskOp {
  kCreate,
  kWrite,
  kReadBack,  // WritableFile::ReadAt
  kReserve,
  kSize,
  kSync,
  kClose,
  kKind,
  kRead,
  kRename,
  kLink,
  kRemove,
  kMakeFolder,
  kRemoveFolder,
  kList,
  kSpace,
  kLock,
  kGuard,
  kCount
};
const char* DiskOpName(DiskOp op);

class MemoryDisk : public Disk {
 public:
  // Files are allocated in blocks of `block_size` bytes, and only the blocks written
  // count (a sidecar's alignment gaps are holes, as on a real file system).
  explicit MemoryDisk(uint64_t block_size = 4096);
  ~MemoryDisk() override;

  // Test setup and inspection (not counted as calls, never faulted).
  void AddFolder(const std::string& path);  // and its missing parents
  void AddFile(const std::string& path, const std::string& bytes);
  bool HasFile(const std::string& path) const;
  std::string FileBytes(const std::string& path) const;  // "" if none
  // Every file and folder under `dir` (full paths) with its bytes; folders map to "/".
  std::map<std::string, std::string> Snapshot(const std::string& dir) const;
  std::set<std::string> guarded() const;

  // Files may take `bytes` in all, then writes fail with ENOSPC.
  void SetCapacity(uint64_t bytes);
  // The `nth` call of `op` from now on (0 = the next one) fails with `err`. With a
  // non-empty `path_part` only calls on paths containing it count.
  void FailOn(DiskOp op, int nth, int err, const std::string& path_part = "");
  // The `nth` write from now on (on paths containing `path_part`, if not empty) stores
  // its bytes with the first one's lowest bit flipped and reports success: a write lost
  // or garbled without an error, which only reading it back finds.
  void CorruptWrite(int nth, const std::string& path_part = "");
  void ClearFaults();
  // Calls of `op` so far, faulted or not.
  uint64_t Calls(DiskOp op) const;
  // One line per mutating call, in order: "create /out/x", "rename /a -> /b", ...
  std::vector<std::string> log() const;

  Result<std::unique_ptr<WritableFile>> Create(const std::string& path) override;
  Result<EntryKind> Kind(const std::string& path) override;
  Result<std::string> ReadSmallFile(const std::string& path, uint64_t max_bytes) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status Link(const std::string& from, const std::string& to) override;
  Status Remove(const std::string& path) override;
  Result<bool> MakeFolder(const std::string& path) override;
  Status RemoveFolder(const std::string& path) override;
  Result<std::vector<std::string>> List(const std::string& dir) override;
  Result<SpaceInfo> Space(const std::string& dir) override;
  Status SyncFile(const std::string& path) override;
  Result<std::unique_ptr<FolderLock>> LockFolder(const std::string& dir,
                                                 const std::function<void()>& on_wait) override;
  Status GuardTemporary(const std::string& path, TempKind kind) override;
  void UnguardTemporary(const std::string& path) override;

 private:
  friend class MemoryFile;
  struct Node {
    bool folder = false;
    std::string bytes;
    std::vector<bool> written;  // per block
    uint64_t blocks = 0;        // of `written` set
  };
  std::shared_ptr<Node> NewFile(const std::string& bytes) const;
  struct Fault {
    DiskOp op;
    int countdown;
    int err;  // kCorrupt: no error, the bytes land changed
    std::string path_part;
  };
  static constexpr int kCorrupt = -1;
  // Counts the call; the errno of a fault that fires now (or kCorrupt), else 0.
  // REQUIRES: mu_ held.
  int Call(DiskOp op, const std::string& path);
  bool ParentIsFolder(const std::string& path) const;
  uint64_t Used() const;
  Status WriteAt(const std::shared_ptr<Node>& node, const std::string& path, const void* data, uint64_t n,
                 uint64_t offset);
  Status ReadAt(const std::shared_ptr<Node>& node, const std::string& path, void* data, uint64_t n,
                uint64_t offset);
  Status Reserve(const std::shared_ptr<Node>& node, const std::string& path, uint64_t offset, uint64_t n);
  // Marks the blocks of bytes [offset, offset + n) used (ENOSPC past the capacity).
  // REQUIRES: mu_ held.
  Status AllocateBlocks(Node& node, const std::string& path, const std::string& what, uint64_t offset,
                        uint64_t n);

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Node>> nodes_;  // "" is the root folder
  std::vector<Fault> faults_;
  std::array<uint64_t, static_cast<size_t>(DiskOp::kCount)> calls_ = {};
  std::vector<std::string> log_;
  std::set<std::string> guarded_;
  const uint64_t block_;
  uint64_t capacity_ = UINT64_MAX;
};

}  // namespace embed2onnx
