// Checkpoint::OpenIndex: a sharded checkpoint, `model.safetensors.index.json` plus the
// shard files beside it.
//
// The index is authoritative: the checkpoint holds exactly the tensors its weight_map
// names, each read from the shard the map assigns it to. A shard may hold more tensors
// than the index gives it; those are ignored, as transformers ignores them.
#include "checkpoint/index.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "checkpoint/json_util.h"
#include "checkpoint/safetensors.h"
#include "embed2onnx/checkpoint.h"
#include "util/file_io.h"
#include "util/no_throw.h"

namespace embed2onnx {

namespace {

// Indexes of the largest public models are a few MB.
constexpr uint64_t kMaxIndexBytes = uint64_t{100} << 20;

// Why `shard` is not a plain file name in the index's folder, or "" if it is one. The
// check runs before any shard is opened: the name must not reach another folder.
std::string ShardNameProblem(const std::string& shard) {
  if (shard.empty()) return "it is empty";
  if (shard.find('\0') != std::string::npos) return "it contains a NUL byte";
  if (shard.front() == '/') return "it is an absolute path";
  if (shard.find('/') != std::string::npos) return "it contains '/'";
  if (shard.find('\\') != std::string::npos) return "it contains '\\'";
  if (shard.find("..") != std::string::npos) return "it contains '..'";
  if (shard == ".") return "it names the folder itself";
  return "";
}

// `status` with `suffix` appended to its message, same code.
Status WithSuffix(const Status& status, const std::string& suffix) {
  const std::string msg = status.message() + suffix;
  switch (status.code()) {
    case Status::Code::kOk:
      return status;
    case Status::Code::kInvalidArgument:
      return Status::InvalidArgument(msg);
    case Status::Code::kNotFound:
      return Status::NotFound(msg);
    case Status::Code::kCorruption:
      return Status::Corruption(msg);
    case Status::Code::kIOError:
      return Status::IOError(msg);
    case Status::Code::kNotSupported:
      return Status::NotSupported(msg);
    case Status::Code::kMismatch:
      return Status::Mismatch(msg);
  }
  return Status::Corruption(msg);
}

}  // namespace

Result<ShardAssignment> ParseIndexJson(const std::string& index_path, std::string_view text) {
  return CatchAll(index_path, [&]() -> Result<ShardAssignment> {
    nlohmann::json index;
    E2O_RETURN_IF_ERROR(ParseJsonObject(index_path, "index", text, &index));

    auto map_it = index.find("weight_map");
    if (map_it == index.end()) return Status::Corruption(index_path + ": index has no \"weight_map\"");
    if (!map_it->is_object()) {
      return Status::Corruption(index_path + ": weight_map is not an object: " + DumpForMessage(*map_it));
    }
    if (map_it->empty()) return Status::Corruption(index_path + ": weight_map is empty");

    ShardAssignment tensors_of_shard;
    for (const auto& [tensor, shard] : map_it->items()) {
      if (!shard.is_string()) {
        return Status::Corruption(index_path + ": weight_map value of tensor " + Quote(tensor) +
                                  " is not a string: " + DumpForMessage(shard));
      }
      const std::string& name = shard.get_ref<const std::string&>();
      if (std::string problem = ShardNameProblem(name); !problem.empty()) {
        return Status::Corruption(index_path + ": tensor " + Quote(tensor) + ": shard name " + Quote(name) +
                                  " is not a plain file name: " + problem);
      }
      tensors_of_shard[name].push_back(tensor);
    }
    return tensors_of_shard;
  });
}

Result<Checkpoint> Checkpoint::OpenIndex(const std::string& index_path) {
  return CatchAll(index_path, [&]() -> Result<Checkpoint> {
    E2O_ASSIGN_OR_RETURN(std::string text, ReadFileToString(index_path, kMaxIndexBytes));
    // Every entry is checked before any shard is touched.
    E2O_ASSIGN_OR_RETURN(ShardAssignment tensors_of_shard, ParseIndexJson(index_path, text));

    const std::filesystem::path folder = std::filesystem::path(index_path).parent_path();
    Checkpoint ckpt;
    ckpt.source_ = index_path;
    for (const auto& [shard, wanted] : tensors_of_shard) {  // each shard parsed once
      const std::string shard_path = (folder / shard).string();
      auto shard_tensors = ReadSafetensorsHeader(shard_path);
      if (!shard_tensors.ok()) {
        return WithSuffix(shard_tensors.status(), " (a shard listed in " + index_path + ")");
      }
      std::map<std::string, TensorInfo*> by_name;
      for (TensorInfo& t : shard_tensors.value()) by_name.emplace(t.name, &t);
      for (const std::string& tensor : wanted) {
        auto found = by_name.find(tensor);
        if (found == by_name.end()) {
          return Status::Corruption(index_path + ": tensor " + Quote(tensor) + " is assigned to shard " +
                                    shard_path + " but that shard does not hold it");
        }
        ckpt.tensors_.push_back(std::move(*found->second));
      }
    }
    std::sort(ckpt.tensors_.begin(), ckpt.tensors_.end(),
              [](const TensorInfo& a, const TensorInfo& b) { return a.name < b.name; });
    return ckpt;
  });
}

}  // namespace embed2onnx
