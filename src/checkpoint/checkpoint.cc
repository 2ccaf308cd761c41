// Checkpoint::OpenFile, OpenDir and Find. The index lives in index.cc.
#include "embed2onnx/checkpoint.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "checkpoint/json_util.h"
#include "checkpoint/safetensors.h"
#include "util/no_throw.h"

namespace embed2onnx {

namespace fs = std::filesystem;

namespace {
constexpr char kSingleFile[] = "model.safetensors";
constexpr char kIndexFile[] = "model.safetensors.index.json";

bool IsRegularFile(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

// There in any form. A folder, FIFO or broken link under a standard name goes to
// OpenFile/OpenIndex, whose error says what it is, instead of "no checkpoint in folder".
bool Present(const fs::path& p) {
  std::error_code ec;
  return fs::exists(fs::symlink_status(p, ec));
}

}  // namespace

Result<Checkpoint> Checkpoint::OpenFile(const std::string& path) {
  return CatchAll(path, [&]() -> Result<Checkpoint> {
    E2O_ASSIGN_OR_RETURN(std::vector<TensorInfo> tensors, ReadSafetensorsHeader(path));
    Checkpoint ckpt;
    ckpt.source_ = path;
    ckpt.tensors_ = std::move(tensors);  // already in name order
    return ckpt;
  });
}

Result<Checkpoint> Checkpoint::OpenDir(const std::string& dir) {
  return CatchAll(dir, [&]() -> Result<Checkpoint> {
    std::error_code ec;
    const fs::file_status st = fs::status(dir, ec);
    if (ec || !fs::exists(st)) return Status::NotFound(dir + ": no such folder");
    if (!fs::is_directory(st)) return Status::InvalidArgument(dir + ": not a folder");

    const fs::path root(dir);
    if (Present(root / kSingleFile)) return OpenFile((root / kSingleFile).string());
    if (Present(root / kIndexFile)) return OpenIndex((root / kIndexFile).string());

    // Neither standard name: accept a lone *.safetensors file (some exporters name it
    // after the model), but never guess between several.
    std::vector<std::string> found;
    fs::directory_iterator it(root, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (name.ends_with(".safetensors") && IsRegularFile(it->path())) found.push_back(name);
    }
    if (ec) return Status::IOError(dir + ": cannot list the folder: " + ec.message());
    std::sort(found.begin(), found.end());
    if (found.size() == 1) return OpenFile((root / found[0]).string());
    if (found.empty()) {
      return Status::NotFound(dir + ": no checkpoint in folder: expected " + kSingleFile + ", " + kIndexFile +
                              " or a single *.safetensors file");
    }
    return Status::InvalidArgument(dir + ": several .safetensors files and no " + kIndexFile + ": " +
                                   JoinNames(found, 10) + "; open one of them as a file");
  });
}

const TensorInfo* Checkpoint::Find(const std::string& name) const {
  auto it = std::lower_bound(tensors_.begin(), tensors_.end(), name,
                             [](const TensorInfo& t, const std::string& n) { return t.name < n; });
  if (it == tensors_.end() || it->name != name) return nullptr;
  return &*it;
}

}  // namespace embed2onnx
