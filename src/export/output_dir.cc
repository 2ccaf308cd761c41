#include "export/output_dir.h"

#include <unistd.h>

#include <algorithm>
#include <set>

#include "export/earlier_export.h"
#include "schema/names.h"
#include "util/temp_guard.h"

namespace embed2onnx {

namespace {
// Attempts at creating, opening and locking the folder before giving up on a folder
// that is removed again every time.
constexpr int kMaxOpenAttempts = 100;
// A report is a few KiB; anything this large is not one of ours.
constexpr uint64_t kMaxReportBytes = 64ull << 20;
// Names listed in one note before the rest are only counted.
constexpr size_t kMaxNamesInNote = 20;

std::string NameList(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < kMaxNamesInNote; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > kMaxNamesInNote)
    out += ", and " + std::to_string(names.size() - kMaxNamesInNote) + " more";
  return out;
}

std::string TempName(const std::string& tag, const std::string& file_name) {
  return std::string(kTempPrefix) + std::to_string(::getpid()) + "-" + tag + file_name;
}
}  // namespace

// One change Commit made to a final name, and how to undo it.
struct OutputDir::Step {
  std::string final_path;
  std::string backup;    // a second name for the earlier file there, "" if none
  bool existed = false;  // a file was there before
};

Status OutputDir::MakeDirs() {
  std::vector<std::string> missing;
  std::string cur = dir_;
  EntryKind kind = EntryKind::kMissing;
  while (!cur.empty()) {
    E2O_ASSIGN_OR_RETURN(kind, disk_->Kind(cur));
    if (kind != EntryKind::kMissing) break;
    missing.push_back(cur);
    size_t slash = cur.find_last_of('/');
    if (slash == std::string::npos) break;
    cur = cur.substr(0, slash);
  }
  if (missing.empty() && kind != EntryKind::kFolder)
    return Status::InvalidArgument(dir_ + ": exists and is not a folder");
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    // Only folders this call made are ours to remove; one a concurrent run made first
    // is not. Guarded before it exists, so an interrupt cannot leave it behind.
    const bool known = std::find(created_dirs_.begin(), created_dirs_.end(), *it) != created_dirs_.end();
    if (!known) E2O_RETURN_IF_ERROR(disk_->GuardTemporary(*it, TempKind::kFolder));
    Result<bool> made = disk_->MakeFolder(*it);
    if (!known && !(made.ok() && *made)) disk_->UnguardTemporary(*it);
    if (!made.ok()) return made.status();
    if (*made && !known) created_dirs_.push_back(*it);
  }
  return Status::Ok();
}

Result<std::unique_ptr<OutputDir>> OutputDir::Open(const std::string& dir, const Note& note, Disk* disk) {
  std::unique_ptr<OutputDir> out(new OutputDir(dir, note, disk));
  // A run that fails removes the folders it created, possibly while we wait for its
  // lock; then the lock guards a removed folder (NotFound), and we start over.
  for (int attempt = 0;; ++attempt) {
    if (attempt == kMaxOpenAttempts)
      return Status::IOError(dir + ": cannot lock folder: it was removed " + std::to_string(attempt) +
                             " times while this run opened it");
    E2O_RETURN_IF_ERROR(out->MakeDirs());
    Result<std::unique_ptr<FolderLock>> lock = disk->LockFolder(
        dir, [&] { note(dir + ": another embed2onnx run is exporting here; waiting for it to finish"); });
    if (lock.ok()) {
      out->lock_ = std::move(*lock);
      break;
    }
    if (lock.status().code() != Status::Code::kNotFound) return lock.status();
  }
  // We hold the lock: any temporary here belongs to a run that died.
  E2O_ASSIGN_OR_RETURN(std::vector<std::string> names, disk->List(dir));
  for (const std::string& name : names)
    if (name.rfind(kTempPrefix, 0) == 0 && disk->Remove(out->FinalPath(name)).ok())
      note(dir + ": removed " + name + " left by an interrupted run");
  return out;
}

Result<std::string> OutputDir::Stage(const std::string& file_name) {
  std::string tmp = FinalPath(TempName("", file_name));
  E2O_RETURN_IF_ERROR(disk_->GuardTemporary(tmp, TempKind::kFile));
  staged_.emplace_back(tmp, file_name);
  return tmp;
}

Status OutputDir::WriteStaged(const std::string& file_name, const std::string& bytes) {
  E2O_ASSIGN_OR_RETURN(std::string tmp, Stage(file_name));
  return WriteWholeFile(disk_, tmp, bytes);
}

namespace {
// What `extents` take in whole blocks (saturating).
uint64_t BytesInBlocks(const std::vector<uint64_t>& extents, uint64_t block_size) {
  const uint64_t block = std::max<uint64_t>(block_size, 1);
  uint64_t need = 0;
  for (uint64_t e : extents) {
    const uint64_t blocks = e / block + (e % block != 0);
    need = blocks > (UINT64_MAX - need) / block ? UINT64_MAX : need + blocks * block;
  }
  return need;
}
}  // namespace

Result<SpacePlan> PlanFreeSpace(Disk* disk, const std::string& dir, const std::vector<uint64_t>& extents) {
  SpacePlan plan;
  std::string cur = dir.empty() ? "." : dir;
  for (;;) {
    E2O_ASSIGN_OR_RETURN(EntryKind kind, disk->Kind(cur));
    if (kind != EntryKind::kMissing && kind != EntryKind::kFolder)
      return Status::InvalidArgument(cur + ": exists and is not a folder");
    if (kind == EntryKind::kFolder) break;
    const size_t slash = cur.find_last_of('/');
    const std::string parent = slash == std::string::npos ? "." : slash == 0 ? "/" : cur.substr(0, slash);
    if (parent == cur) return Status::NotFound(dir + ": no folder above it exists (not even " + cur + ")");
    cur = parent;
  }
  plan.dir_exists = cur == dir;
  E2O_ASSIGN_OR_RETURN(SpaceInfo space, disk->Space(cur));
  plan.needed = BytesInBlocks(extents, space.block_size);
  plan.free = space.free_bytes;
  return plan;
}

Status OutputDir::CheckFreeSpace(const std::vector<uint64_t>& extents) {
  E2O_ASSIGN_OR_RETURN(SpaceInfo space, disk_->Space(dir_));
  const uint64_t need = BytesInBlocks(extents, space.block_size);
  if (need <= space.free_bytes) return Status::Ok();
  return Status::IOError(dir_ + ": not enough free space: this export writes " + std::to_string(need) +
                         " bytes, " + std::to_string(space.free_bytes) +
                         " are free (the files it replaces are freed only once it is in place)");
}

Status OutputDir::Replace(const std::string& from, const std::string& name, std::vector<Step>* done) {
  Step step;
  step.final_path = FinalPath(name);
  E2O_ASSIGN_OR_RETURN(EntryKind kind, disk_->Kind(step.final_path));
  step.existed = kind != EntryKind::kMissing;
  if (step.existed) {
    const std::string backup = FinalPath(TempName("prev-", name));
    Status s = disk_->Link(step.final_path, backup);
    if (s.ok()) {
      step.backup = backup;
    } else if (s.code() != Status::Code::kNotSupported) {
      return s;
    }
  }
  Status s = from.empty() ? disk_->Remove(step.final_path) : disk_->Rename(from, step.final_path);
  if (!s.ok()) {
    if (!step.backup.empty()) disk_->Remove(step.backup);
    return s;
  }
  done->push_back(std::move(step));
  return Status::Ok();
}

Status OutputDir::Retire(const std::string& name, std::vector<Step>* done) {
  return Replace(std::string(), name, done);
}

Status OutputDir::Undo(const Status& why, const std::vector<Step>& done) {
  std::string failed;
  for (auto it = done.rbegin(); it != done.rend(); ++it) {
    Status s;
    if (!it->backup.empty()) {
      s = disk_->Rename(it->backup, it->final_path);
    } else if (!it->existed) {
      s = disk_->Remove(it->final_path);
    } else {
      s = Status::NotSupported(it->final_path + ": the file system keeps no second name of the earlier file");
    }
    if (!s.ok() && failed.empty()) failed = s.message();
  }
  if (failed.empty()) return why;
  return Status::IOError(why.message() + "; and the previous export could not be restored: " + failed);
}

Status OutputDir::Commit(bool durable) {
  SignalDeferral defer;  // an interrupt now would leave half a switch
  std::set<std::string> staged_names;
  std::string report_tmp;
  for (const auto& [tmp, name] : staged_) {
    staged_names.insert(name);
    if (name == kReportFileName) report_tmp = tmp;
  }
  const bool has_report = !report_tmp.empty();
  // What an earlier export left here: its report says which files are its own.
  E2O_ASSIGN_OR_RETURN(std::vector<std::string> names, disk_->List(dir_));
  EarlierExport earlier;
  Result<std::string> text = disk_->ReadSmallFile(FinalPath(kReportFileName), kMaxReportBytes);
  if (text.ok()) {
    earlier = ParseEarlierReport(*text);
  } else if (text.status().code() == Status::Code::kIOError) {
    return text.status();  // a report we cannot read may list files we would leave behind
  }                        // none, or too large or not a file to be one of ours
  std::vector<std::string> retire, strangers;
  for (const std::string& name : names) {
    if (name.rfind(kTempPrefix, 0) == 0 || name == kReportFileName || staged_names.count(name)) continue;
    // Without a new report the old one still describes the folder: nothing is retired.
    if (has_report && earlier.files.count(name)) {
      E2O_ASSIGN_OR_RETURN(EntryKind kind, disk_->Kind(FinalPath(name)));
      if (kind == EntryKind::kFile) {
        retire.push_back(name);
        continue;
      }
    }
    strangers.push_back(name);
  }

  if (durable)
    for (const auto& [tmp, name] : staged_) E2O_RETURN_IF_ERROR(disk_->SyncFile(tmp));
  std::vector<Step> done;
  auto sync_folder = [&]() { return durable ? lock_->Sync() : Status::Ok(); };
  // 1. Every graph and sidecar over its old version: the old report stays in place.
  for (const auto& [tmp, name] : staged_) {
    if (name == kReportFileName) continue;
    if (Status s = Replace(tmp, name, &done); !s.ok()) return Undo(s, done);
  }
  if (Status s = sync_folder(); !s.ok()) return Undo(s, done);
  // 2. The report: from here on the new export describes the folder.
  // 3. The earlier export's files that the new report does not list.
  if (has_report) {
    if (Status s = Replace(report_tmp, kReportFileName, &done); !s.ok()) return Undo(s, done);
    if (Status s = sync_folder(); !s.ok()) return Undo(s, done);
    for (const std::string& name : retire)
      if (Status s = Retire(name, &done); !s.ok()) return Undo(s, done);
    if (Status s = sync_folder(); !s.ok()) return Undo(s, done);
  }
  committed_ = true;
  // The second names kept for an undo; one that cannot go now is a temporary the next
  // run removes.
  for (const Step& step : done)
    if (!step.backup.empty()) disk_->Remove(step.backup);
  for (const auto& [tmp, name] : staged_) disk_->UnguardTemporary(tmp);
  for (const std::string& d : created_dirs_) disk_->UnguardTemporary(d);
  if (!retire.empty())
    note_(dir_ + ": removed what the earlier export had and this one does not: " + NameList(retire));
  if (!strangers.empty()) note_(dir_ + ": left alone, not from an earlier export: " + NameList(strangers));
  return Status::Ok();
}

OutputDir::~OutputDir() {
  for (const auto& [tmp, name] : staged_) {
    if (!committed_) disk_->Remove(tmp);
    disk_->UnguardTemporary(tmp);
  }
  // Folders this run created are removed again if nothing else appeared in them.
  for (auto it = created_dirs_.rbegin(); it != created_dirs_.rend(); ++it) {
    if (!committed_) disk_->RemoveFolder(*it);
    disk_->UnguardTemporary(*it);
  }
}

}  // namespace embed2onnx
