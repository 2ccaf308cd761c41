#include "util/memory_disk.h"

#include <cerrno>
#include <cstring>

#include "util/file_io.h"

namespace embed2onnx {

namespace {
std::string Parent(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

class MemoryFolderLock : public FolderLock {
 public:
  Status Sync() override { return Status::Ok(); }
};
}  // namespace

const char* DiskOpName(DiskOp op) {
  static const char* const kNames[] = {"create", "write", "readback", "reserve", "size", "sync",
                                       "close",  "kind",  "read",     "rename",  "link", "remove",
                                       "mkdir",  "rmdir", "list",     "space",   "lock", "guard"};
  static_assert(sizeof(kNames) / sizeof(kNames[0]) == static_cast<size_t>(DiskOp::kCount));
  return kNames[static_cast<int>(op)];
}

// A file open for writing. It keeps its node when the name is removed, as POSIX does.
class MemoryFile : public WritableFile {
 public:
  MemoryFile(MemoryDisk* disk, std::string path, std::shared_ptr<MemoryDisk::Node> node)
      : WritableFile(std::move(path)), disk_(disk), node_(std::move(node)) {}
  Status WriteAt(const void* data, uint64_t n, uint64_t offset) override {
    if (closed_) return ErrnoStatus(path(), "write failed at offset " + std::to_string(offset), EBADF);
    return disk_->WriteAt(node_, path(), data, n, offset);
  }
  Status ReadAt(void* data, uint64_t n, uint64_t offset) override {
    if (closed_) return ErrnoStatus(path(), "read failed at offset " + std::to_string(offset), EBADF);
    return disk_->ReadAt(node_, path(), data, n, offset);
  }
  Status Reserve(uint64_t offset, uint64_t n) override {
    if (closed_) return ErrnoStatus(path(), "cannot allocate " + std::to_string(n) + " bytes", EBADF);
    return disk_->Reserve(node_, path(), offset, n);
  }
  Result<uint64_t> Size() override {
    std::lock_guard<std::mutex> lock(disk_->mu_);
    if (int err = disk_->Call(DiskOp::kSize, path())) return ErrnoStatus(path(), "cannot stat", err);
    return static_cast<uint64_t>(node_->bytes.size());
  }
  Status Sync() override {
    std::lock_guard<std::mutex> lock(disk_->mu_);
    if (int err = disk_->Call(DiskOp::kSync, path())) return ErrnoStatus(path(), "flush to disk failed", err);
    return Status::Ok();
  }
  Status Close() override {
    if (closed_) return Status::Ok();
    closed_ = true;
    std::lock_guard<std::mutex> lock(disk_->mu_);
    if (int err = disk_->Call(DiskOp::kClose, path())) return ErrnoStatus(path(), "close failed", err);
    return Status::Ok();
  }

 private:
  MemoryDisk* disk_;
  std::shared_ptr<MemoryDisk::Node> node_;
  bool closed_ = false;
};

MemoryDisk::MemoryDisk(uint64_t block_size) : block_(block_size) {
  nodes_[""] = std::make_shared<Node>(Node{true, "", {}, 0});
}

std::shared_ptr<MemoryDisk::Node> MemoryDisk::NewFile(const std::string& bytes) const {
  auto node = std::make_shared<Node>(Node{false, bytes, {}, 0});
  node->blocks = (bytes.size() + block_ - 1) / block_;
  node->written.assign(node->blocks, true);
  return node;
}
MemoryDisk::~MemoryDisk() = default;

void MemoryDisk::AddFolder(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  for (std::string p = path; !p.empty() && !nodes_.count(p); p = Parent(p))
    nodes_[p] = std::make_shared<Node>(Node{true, "", {}, 0});
}

void MemoryDisk::AddFile(const std::string& path, const std::string& bytes) {
  AddFolder(Parent(path));
  std::lock_guard<std::mutex> lock(mu_);
  nodes_[path] = NewFile(bytes);
}

bool MemoryDisk::HasFile(const std::string& path) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = nodes_.find(path);
  return it != nodes_.end() && !it->second->folder;
}

std::string MemoryDisk::FileBytes(const std::string& path) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = nodes_.find(path);
  return it == nodes_.end() || it->second->folder ? std::string() : it->second->bytes;
}

std::map<std::string, std::string> MemoryDisk::Snapshot(const std::string& dir) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, std::string> out;
  for (const auto& [path, node] : nodes_)
    if (path.rfind(dir + "/", 0) == 0) out[path] = node->folder ? "/" : node->bytes;
  return out;
}

std::set<std::string> MemoryDisk::guarded() const {
  std::lock_guard<std::mutex> lock(mu_);
  return guarded_;
}

void MemoryDisk::SetCapacity(uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  capacity_ = bytes;
}

void MemoryDisk::FailOn(DiskOp op, int nth, int err, const std::string& path_part) {
  std::lock_guard<std::mutex> lock(mu_);
  faults_.push_back({op, nth, err, path_part});
}

void MemoryDisk::CorruptWrite(int nth, const std::string& path_part) {
  std::lock_guard<std::mutex> lock(mu_);
  faults_.push_back({DiskOp::kWrite, nth, kCorrupt, path_part});
}

void MemoryDisk::ClearFaults() {
  std::lock_guard<std::mutex> lock(mu_);
  faults_.clear();
}

uint64_t MemoryDisk::Calls(DiskOp op) const {
  std::lock_guard<std::mutex> lock(mu_);
  return calls_[static_cast<size_t>(op)];
}

std::vector<std::string> MemoryDisk::log() const {
  std::lock_guard<std::mutex> lock(mu_);
  return log_;
}

int MemoryDisk::Call(DiskOp op, const std::string& path) {
  ++calls_[static_cast<size_t>(op)];
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    if (it->op != op || (!it->path_part.empty() && path.find(it->path_part) == std::string::npos)) continue;
    if (it->countdown-- > 0) continue;
    int err = it->err;
    faults_.erase(it);
    return err;
  }
  return 0;
}

bool MemoryDisk::ParentIsFolder(const std::string& path) const {
  auto it = nodes_.find(Parent(path));
  return it != nodes_.end() && it->second->folder;
}

uint64_t MemoryDisk::Used() const {
  std::set<const Node*> seen;  // a file with two names takes its blocks once
  uint64_t blocks = 0;
  for (const auto& [path, node] : nodes_)
    if (!node->folder && seen.insert(node.get()).second) blocks += node->blocks;
  return blocks * block_;
}

Status MemoryDisk::WriteAt(const std::shared_ptr<Node>& node, const std::string& path, const void* data,
                           uint64_t n, uint64_t offset) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string where = "write failed at offset " + std::to_string(offset);
  const int err = Call(DiskOp::kWrite, path);
  if (err != 0 && err != kCorrupt) return ErrnoStatus(path, where, err);
  if (n == 0) return Status::Ok();
  E2O_RETURN_IF_ERROR(AllocateBlocks(*node, path, where, offset, n));
  if (offset + n > node->bytes.size()) node->bytes.resize(offset + n, '\0');
  std::memcpy(node->bytes.data() + offset, data, n);
  if (err == kCorrupt) node->bytes[offset] = static_cast<char>(node->bytes[offset] ^ 1);
  return Status::Ok();
}

Status MemoryDisk::ReadAt(const std::shared_ptr<Node>& node, const std::string& path, void* data, uint64_t n,
                          uint64_t offset) {
  std::lock_guard<std::mutex> lock(mu_);
  if (int err = Call(DiskOp::kReadBack, path))
    return ErrnoStatus(path, "read failed at offset " + std::to_string(offset), err);
  // Worded as PReadFull words a file that ends early.
  if (offset > node->bytes.size() || n > node->bytes.size() - offset)
    return Status::IOError(path + ": truncated: short read at offset " + std::to_string(offset) + ": got " +
                           std::to_string(offset < node->bytes.size() ? node->bytes.size() - offset : 0) +
                           " of " + std::to_string(n) + " bytes (file ends early or changed?)");
  if (n > 0) std::memcpy(data, node->bytes.data() + offset, n);
  return Status::Ok();
}

Status MemoryDisk::Reserve(const std::shared_ptr<Node>& node, const std::string& path, uint64_t offset,
                           uint64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string what = "cannot allocate " + std::to_string(n) + " bytes";
  // As the POSIX disk: a file system that cannot preallocate is not an error.
  if (int err = Call(DiskOp::kReserve, path))
    return err == EOPNOTSUPP || err == ENOSYS ? Status::Ok() : ErrnoStatus(path, what, err);
  if (n == 0) return Status::Ok();
  // As fallocate with FALLOC_FL_KEEP_SIZE: the blocks count as used, the size stays.
  return AllocateBlocks(*node, path, what, offset, n);
}

Status MemoryDisk::AllocateBlocks(Node& node, const std::string& path, const std::string& what,
                                  uint64_t offset, uint64_t n) {
  const uint64_t first = offset / block_, last = (offset + n - 1) / block_;
  if (node.written.size() <= last) node.written.resize(last + 1, false);
  uint64_t grow = 0;
  for (uint64_t b = first; b <= last; ++b) grow += !node.written[b];
  if (grow > 0 && Used() + grow * block_ > capacity_) return ErrnoStatus(path, what, ENOSPC);
  for (uint64_t b = first; b <= last; ++b) node.written[b] = true;
  node.blocks += grow;
  return Status::Ok();
}

Result<std::unique_ptr<WritableFile>> MemoryDisk::Create(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  log_.push_back("create " + path);
  if (int err = Call(DiskOp::kCreate, path)) return ErrnoStatus(path, "cannot create", err);
  if (!ParentIsFolder(path)) return ErrnoStatus(path, "cannot create", ENOENT);
  auto it = nodes_.find(path);
  if (it != nodes_.end() && it->second->folder) return ErrnoStatus(path, "cannot create", EISDIR);
  std::shared_ptr<Node> node;
  if (it != nodes_.end()) {  // O_TRUNC: the same file, under every name it has
    node = it->second;
    node->bytes.clear();
    node->written.clear();
    node->blocks = 0;
  } else {
    node = NewFile("");
    nodes_[path] = node;
  }
  return std::unique_ptr<WritableFile>(new MemoryFile(this, path, node));
}

Result<EntryKind> MemoryDisk::Kind(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  if (int err = Call(DiskOp::kKind, path)) return ErrnoStatus(path, "cannot stat", err);
  auto it = nodes_.find(path);
  if (it == nodes_.end()) {
    // A file where a parent folder should be, as stat() reports it.
    for (std::string p = Parent(path); !p.empty(); p = Parent(p)) {
      auto up = nodes_.find(p);
      if (up != nodes_.end() && !up->second->folder) return ErrnoStatus(path, "cannot stat", ENOTDIR);
    }
    return EntryKind::kMissing;
  }
  return it->second->folder ? EntryKind::kFolder : EntryKind::kFile;
}

Result<std::string> MemoryDisk::ReadSmallFile(const std::string& path, uint64_t max_bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  if (int err = Call(DiskOp::kRead, path)) return ErrnoStatus(path, "cannot open", err);
  auto it = nodes_.find(path);
  if (it == nodes_.end()) return Status::NotFound(path + ": no such file");
  if (it->second->folder) return Status::InvalidArgument(path + ": not a regular file");
  if (it->second->bytes.size() > max_bytes)
    return Status::InvalidArgument(path + ": " + std::to_string(it->second->bytes.size()) +
                                   " bytes exceeds the " + std::to_string(max_bytes) + "-byte cap");
  return it->second->bytes;
}

Status MemoryDisk::Rename(const std::string& from, const std::string& to) {
  std::lock_guard<std::mutex> lock(mu_);
  log_.push_back("rename " + from + " -> " + to);
  if (int err = Call(DiskOp::kRename, to)) return ErrnoStatus(to, "cannot rename into place", err);
  auto it = nodes_.find(from);
  if (it == nodes_.end()) return ErrnoStatus(to, "cannot rename into place", ENOENT);
  if (!ParentIsFolder(to)) return ErrnoStatus(to, "cannot rename into place", ENOENT);
  auto target = nodes_.find(to);
  if (target != nodes_.end() && target->second->folder != it->second->folder)
    return ErrnoStatus(to, "cannot rename into place", it->second->folder ? ENOTDIR : EISDIR);
  std::shared_ptr<Node> node = it->second;
  nodes_.erase(it);
  nodes_[to] = node;
  return Status::Ok();
}

Status MemoryDisk::Link(const std::string& from, const std::string& to) {
  std::lock_guard<std::mutex> lock(mu_);
  log_.push_back("link " + from + " -> " + to);
  if (int err = Call(DiskOp::kLink, from)) {
    Status s = ErrnoStatus(from, "cannot link", err);
    return err == EPERM ? Status::NotSupported(s.message()) : s;
  }
  auto it = nodes_.find(from);
  if (it == nodes_.end() || it->second->folder) return ErrnoStatus(from, "cannot link", ENOENT);
  if (nodes_.count(to)) return ErrnoStatus(from, "cannot link", EEXIST);
  nodes_[to] = it->second;
  return Status::Ok();
}

Status MemoryDisk::Remove(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  log_.push_back("remove " + path);
  if (int err = Call(DiskOp::kRemove, path)) return ErrnoStatus(path, "cannot remove", err);
  auto it = nodes_.find(path);
  if (it == nodes_.end()) return Status::NotFound(path + ": no such file");
  if (it->second->folder) return ErrnoStatus(path, "cannot remove", EISDIR);
  nodes_.erase(it);
  return Status::Ok();
}

Result<bool> MemoryDisk::MakeFolder(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  log_.push_back("mkdir " + path);
  if (int err = Call(DiskOp::kMakeFolder, path)) return ErrnoStatus(path, "cannot create folder", err);
  if (nodes_.count(path)) return false;
  if (!ParentIsFolder(path)) return ErrnoStatus(path, "cannot create folder", ENOENT);
  nodes_[path] = std::make_shared<Node>(Node{true, "", {}, 0});
  return true;
}

Status MemoryDisk::RemoveFolder(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  log_.push_back("rmdir " + path);
  if (int err = Call(DiskOp::kRemoveFolder, path)) return ErrnoStatus(path, "cannot remove folder", err);
  auto it = nodes_.find(path);
  if (it == nodes_.end()) return ErrnoStatus(path, "cannot remove folder", ENOENT);
  if (!it->second->folder) return ErrnoStatus(path, "cannot remove folder", ENOTDIR);
  auto child = nodes_.lower_bound(path + "/");
  if (child != nodes_.end() && child->first.rfind(path + "/", 0) == 0)
    return ErrnoStatus(path, "cannot remove folder", ENOTEMPTY);
  nodes_.erase(it);
  return Status::Ok();
}

Result<std::vector<std::string>> MemoryDisk::List(const std::string& dir) {
  std::lock_guard<std::mutex> lock(mu_);
  if (int err = Call(DiskOp::kList, dir)) return ErrnoStatus(dir, "cannot list folder", err);
  auto it = nodes_.find(dir);
  if (it == nodes_.end() || !it->second->folder) return ErrnoStatus(dir, "cannot list folder", ENOENT);
  std::vector<std::string> names;
  const std::string prefix = dir + "/";
  for (it = nodes_.lower_bound(prefix); it != nodes_.end() && it->first.rfind(prefix, 0) == 0; ++it) {
    std::string rest = it->first.substr(prefix.size());
    if (rest.find('/') == std::string::npos) names.push_back(rest);
  }
  return names;  // the map keeps them sorted
}

Result<SpaceInfo> MemoryDisk::Space(const std::string& dir) {
  std::lock_guard<std::mutex> lock(mu_);
  if (int err = Call(DiskOp::kSpace, dir)) return ErrnoStatus(dir, "cannot read free space", err);
  SpaceInfo s;
  s.block_size = block_;
  const uint64_t used = Used();
  s.free_bytes = capacity_ > used ? capacity_ - used : 0;
  return s;
}

Status MemoryDisk::SyncFile(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  if (int err = Call(DiskOp::kSync, path)) return ErrnoStatus(path, "flush to disk failed", err);
  if (!nodes_.count(path)) return ErrnoStatus(path, "cannot open to flush", ENOENT);
  return Status::Ok();
}

Result<std::unique_ptr<FolderLock>> MemoryDisk::LockFolder(const std::string& dir,
                                                           const std::function<void()>&) {
  std::lock_guard<std::mutex> lock(mu_);
  if (int err = Call(DiskOp::kLock, dir)) return ErrnoStatus(dir, "cannot lock folder", err);
  auto it = nodes_.find(dir);
  if (it == nodes_.end() || !it->second->folder) return Status::NotFound(dir + ": no such folder");
  return std::unique_ptr<FolderLock>(new MemoryFolderLock);
}

Status MemoryDisk::GuardTemporary(const std::string& path, TempKind) {
  std::lock_guard<std::mutex> lock(mu_);
  log_.push_back("guard " + path);
  if (int err = Call(DiskOp::kGuard, path)) return ErrnoStatus(path, "cannot guard", err);
  guarded_.insert(path);
  return Status::Ok();
}

void MemoryDisk::UnguardTemporary(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  guarded_.erase(path);
}

}  // namespace embed2onnx
