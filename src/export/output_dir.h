// An export folder written as one transaction.
//
// Every file is written under a temporary name in the target folder itself (so the
// final rename stays on one filesystem) and renamed into place only by Commit(), after
// the whole export has been written and verified. Until then the previous export stays
// byte-identical under its names; if the run fails, the destructor removes the
// temporaries (and any folder Open created). SIGINT and SIGTERM remove them too before
// the process ends (util/temp_guard.h). A run killed outright (SIGKILL, power loss)
// leaves temporaries named ".embed2onnx-tmp-*": the next Open removes them.
//
// One export per folder: Commit also removes the graphs and sidecars an earlier report
// (export/earlier_export.h) lists that this export does not rewrite, and names in one
// note every other file it leaves alone. docs/format.md gives the order of its steps
// and what a crash at each leaves.
//
// Concurrency: Open takes an exclusive flock on the folder itself (no lock file is
// left behind). A second run waits until the first has finished, and says so. A failed
// run removes only folders it created itself; if it removed the folder a waiting run
// had opened, the waiting run creates it again once it holds the lock.
//
// Thread-safety: one thread uses an OutputDir at a time.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "embed2onnx/status.h"
#include "util/disk.h"

namespace embed2onnx {

class OutputDir {
 public:
  using Note = std::function<void(const std::string&)>;

  // Creates `dir` and missing parents, locks it and removes stale temporaries. `note`
  // receives one-line messages (that the run waits for the lock, what it removed or
  // left alone). REQUIRES: `disk` outlives the OutputDir.
  static Result<std::unique_ptr<OutputDir>> Open(const std::string& dir, const Note& note,
                                                 Disk* disk = DefaultDisk());
  ~OutputDir();
  OutputDir(const OutputDir&) = delete;
  OutputDir& operator=(const OutputDir&) = delete;

  const std::string& dir() const { return dir_; }
  Disk* disk() const { return disk_; }
  // The temporary path that will become `file_name` (a plain name) at Commit, guarded
  // against interrupts from now on. REQUIRES: each name staged once.
  Result<std::string> Stage(const std::string& file_name);
  // Stages `file_name` and writes `bytes` to it.
  Status WriteStaged(const std::string& file_name, const std::string& bytes);
  std::string FinalPath(const std::string& file_name) const { return dir_ + "/" + file_name; }

  // Refuses, naming the folder, the bytes needed and the bytes free, when the runs of
  // bytes in `extents` do not fit in the folder's free space. Each run starts on a block
  // boundary (a file, or a tensor at its 64 KiB-aligned offset in a sidecar) and takes
  // whole blocks. Files this export replaces are not counted as free: their blocks
  // are freed only at Commit.
  Status CheckFreeSpace(const std::vector<uint64_t>& extents);

  // Puts every staged file into place and removes the earlier export's files this one
  // does not rewrite; the report (embed_tokens_parity.json) is renamed after the other
  // staged files and before those removals. All or nothing: on an error every step
  // taken is undone (old files come back from hard links made first) and the previous
  // export is as it was. SIGINT and SIGTERM wait until it is done. With `durable`,
  // first fsyncs each staged file and the folder after each step, so the export also
  // survives a power loss.
  Status Commit(bool durable);

 private:
  OutputDir(std::string dir, Note note, Disk* disk)
      : dir_(std::move(dir)), note_(std::move(note)), disk_(disk) {}
  Status MakeDirs();
  struct Step;
  Status Replace(const std::string& from, const std::string& name, std::vector<Step>* done);
  Status Retire(const std::string& name, std::vector<Step>* done);
  Status Undo(const Status& why, const std::vector<Step>& done);

  std::string dir_;
  Note note_;
  Disk* disk_;
  std::unique_ptr<FolderLock> lock_;
  std::vector<std::string> created_dirs_;                    // deepest last
  std::vector<std::pair<std::string, std::string>> staged_;  // temp path, final name
  bool committed_ = false;
};

// The free-space check without opening (creating, locking) the folder, for a dry run:
// the bytes `extents` take in whole blocks (as CheckFreeSpace counts them) on the file
// system holding `dir`, or its nearest existing parent when `dir` does not exist yet, and
// the bytes free there. Files the export would replace are counted as not free.
struct SpacePlan {
  uint64_t needed = 0, free = 0;
  bool dir_exists = false;
  bool fits() const { return needed <= free; }
};
Result<SpacePlan> PlanFreeSpace(Disk* disk, const std::string& dir, const std::vector<uint64_t>& extents);

// Prefix of every temporary file name.
inline constexpr char kTempPrefix[] = ".embed2onnx-tmp-";

}  // namespace embed2onnx
