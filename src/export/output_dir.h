// An export folder written as one transaction.
//
// Every file is written under a temporary name in the target folder itself (so the
// final rename stays on one filesystem) and renamed into place only by Commit(), after
// the whole export has been written and verified. Until then the previous export stays
// byte-identical under its names; if the run fails, the destructor removes the
// temporaries (and any folder Open created). A run killed outright leaves temporaries
// named ".embed2onnx-tmp-*": the next Open removes them.
//
// Concurrency: Open takes an exclusive flock on the folder itself (no lock file is
// left behind). A second run waits until the first has finished, and says so. A failed
// run removes only folders it created itself; if it removed the folder a waiting run
// had opened, the waiting run creates it again once it holds the lock.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "embed2onnx/status.h"
#include "util/file_io.h"

namespace embed2onnx {

class OutputDir {
 public:
  // Creates `dir` and missing parents, locks it and removes stale temporaries. `note`
  // receives one-line messages (e.g. that the run waits for the lock).
  static Result<std::unique_ptr<OutputDir>> Open(const std::string& dir,
                                                 const std::function<void(const std::string&)>& note);
  ~OutputDir();
  OutputDir(const OutputDir&) = delete;
  OutputDir& operator=(const OutputDir&) = delete;

  const std::string& dir() const { return dir_; }
  // The temporary path that will become `file_name` (a plain name) at Commit.
  std::string Stage(const std::string& file_name);
  // `file_name` is removed at Commit (a stale file the new export no longer has).
  void RemoveAtCommit(const std::string& file_name);
  std::string FinalPath(const std::string& file_name) const { return dir_ + "/" + file_name; }

  // Renames every staged file into place. With `durable`, first fsyncs each staged
  // file and afterwards the folder, so the export also survives a power loss (a killed
  // process never needs it: the rename alone makes the switch all-or-nothing per file).
  Status Commit(bool durable);

 private:
  explicit OutputDir(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
  UniqueFd dir_fd_;
  std::vector<std::string> created_dirs_;                    // deepest last
  std::vector<std::pair<std::string, std::string>> staged_;  // temp path, final name
  std::vector<std::string> remove_at_commit_;
  bool committed_ = false;
};

// Prefix of every temporary file name.
inline constexpr char kTempPrefix[] = ".embed2onnx-tmp-";

}  // namespace embed2onnx
