// An exported model read back from disk: the .onnx parsed, its external data located
// in the sidecar and bounds-checked, nothing trusted from the writer.
//
// Initializers are not loaded whole: InitializerData reads byte ranges on demand, so a
// multi-GB table costs only the rows a check touches.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "embed2onnx/status.h"
#include "util/file_io.h"

namespace embed2onnx {

struct InitializerData {
  std::string name;
  int32_t elem_type = 0;
  std::vector<int64_t> dims;
  uint64_t byte_size = 0;
  bool external = false;
  uint64_t offset = 0;               // in the sidecar
  const std::string* raw = nullptr;  // inline bytes (points into the model)
  int sidecar_fd = -1;
  std::string sidecar_path;

  // Copies bytes [at, at + n) of the tensor. REQUIRES at + n <= byte_size.
  Status Read(uint64_t at, uint64_t n, void* out) const;
};

class LoadedModel {
 public:
  // Reads `onnx_path`. External data is looked up as `sidecar_override` when given
  // (the staged sidecar of an export in progress), else as `location` beside the model.
  // Checks: the file parses; every initializer's type is known, dims non-negative and
  // their byte size does not overflow; external ones have only the keys location,
  // offset, length, a plain-file-name location, length == the exact byte size, and lie
  // inside the sidecar; inline ones hold exactly their byte size.
  static Result<std::unique_ptr<LoadedModel>> Load(const std::string& onnx_path,
                                                   const std::string& sidecar_override = "");

  const onnx::ModelProto& proto() const { return proto_; }
  const std::string& path() const { return path_; }
  const std::map<std::string, InitializerData>& initializers() const { return inits_; }
  // "" when nothing is external.
  const std::string& sidecar_path() const { return sidecar_path_; }
  uint64_t sidecar_size() const { return sidecar_size_; }
  std::string location() const { return location_; }

 private:
  std::string path_;
  onnx::ModelProto proto_;
  std::map<std::string, InitializerData> inits_;
  UniqueFd sidecar_fd_;
  std::string sidecar_path_, location_;
  uint64_t sidecar_size_ = 0;
};

// Parses a model from bytes alone (no external data is opened); the checks that need
// no sidecar are applied. For fuzzing and tests.
Status ParseModelBytes(const std::string& bytes, const std::string& name, onnx::ModelProto* out);

}  // namespace embed2onnx
