// An .onnx model read back from disk: parsed, its external data located and
// bounds-checked, nothing trusted from whoever wrote it. Export (its staged files),
// verify and inspect all read models through here, so all three refuse the same files.
//
// What is refused is what ONNX Runtime 1.30 refuses when it creates a session
// (tests/e2e/hostile_onnx.sh holds the two side by side):
//   - an empty file, bytes that do not parse as a ModelProto, no graph, no ir_version;
//   - an initializer of a type we cannot size, a negative dimension, a byte size that
//     overflows, a name used twice, inline bytes other than exactly its byte size;
//   - external data with a key other than location, offset, length and checksum, a key
//     given twice, no location or an empty one, an absolute location, an offset or
//     length that is not a decimal number, a length other than the exact byte size;
//   - a sidecar that does not exist or is not a regular file, a range past its end;
//   - a sidecar that, once every symlink is resolved, lies outside both the folder the
//     model was opened from and the folder of the model file itself (symlinks resolved).
//     The second folder is what lets a Hugging Face cache snapshot load, whose model and
//     sidecar both link into blobs/. A location with ".." is judged by where it lands.
// Where we refuse more than ONNX Runtime: a location holding a NUL byte (ORT silently
// reads the name up to it) and inline data outside raw_data (ORT accepts the typed
// fields such as float_data). A length may be omitted, as ORT allows: the byte size
// follows from the type and dims.
//
// Every error is one line that starts with the file it is about (the model, or the
// sidecar for sidecar errors) and names the initializer, with control bytes of names
// escaped so the line stays one line.
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
  std::string location;              // as written in the model, when external
  uint64_t offset = 0;               // in the sidecar
  const std::string* raw = nullptr;  // inline bytes (points into the model)
  int sidecar_fd = -1;
  std::string sidecar_path;

  // Copies bytes [at, at + n) of the tensor. REQUIRES at + n <= byte_size.
  Status Read(uint64_t at, uint64_t n, void* out) const;
};

// One external-data file of a model.
struct SidecarFile {
  std::string location;  // as the model writes it
  std::string path;      // the model's folder + location: how the user names it
  std::string resolved;  // every symlink resolved: the file that is read
  uint64_t size = 0;
  UniqueFd fd;
};

class LoadedModel {
 public:
  // Reads `onnx_path` and applies every check above. With `sidecar_override` (the staged
  // sidecar of an export in progress) every external initializer is read from that file,
  // whatever its location says, and the model may name only one location.
  static Result<std::unique_ptr<LoadedModel>> Load(const std::string& onnx_path,
                                                   const std::string& sidecar_override = "");

  // For describing broken files (inspect): Load's checks, but what was read before one
  // failed is handed back. `*model` is set whenever the bytes parsed as a ModelProto; it
  // then holds the proto, the initializers checked before the failure and the sidecars
  // opened so far. The Status is Load's.
  static Status LoadPartial(const std::string& onnx_path, std::unique_ptr<LoadedModel>* model);

  const onnx::ModelProto& proto() const { return proto_; }
  const std::string& path() const { return path_; }
  const std::map<std::string, InitializerData>& initializers() const { return inits_; }
  // Every sidecar, in the order the initializers first name them.
  const std::vector<std::unique_ptr<SidecarFile>>& sidecars() const { return sidecars_; }
  // The first sidecar's path, size and location; "" / 0 when nothing is external.
  const std::string& sidecar_path() const;
  uint64_t sidecar_size() const { return sidecars_.empty() ? 0 : sidecars_[0]->size; }
  std::string location() const { return sidecars_.empty() ? "" : sidecars_[0]->location; }

 private:
  LoadedModel() = default;
  // Load and LoadPartial: sets `*model` once the bytes parse.
  static Status Open(const std::string& onnx_path, const std::string& sidecar_override,
                     std::unique_ptr<LoadedModel>* model);
  Status LoadFrom(const std::string& onnx_path, const std::string& sidecar_override);
  Result<SidecarFile*> SidecarFor(const InitializerData& d, const std::string& sidecar_override);

  std::string path_;
  onnx::ModelProto proto_;
  std::map<std::string, InitializerData> inits_;
  std::vector<std::unique_ptr<SidecarFile>> sidecars_;
};

// Parses a model from bytes alone (no file is opened) and applies the checks that need
// no sidecar. `*out` holds whatever protobuf parsed, even when a later check fails. For
// fuzzing and tests.
Status ParseModelBytes(const std::string& bytes, const std::string& name, onnx::ModelProto* out);

// Where the sidecar at `location` of the model named `onnx_path` is looked for (as ONNX
// Runtime does: beside the model as named, its symlinks not resolved).
std::string SidecarPath(const std::string& onnx_path, const std::string& location);

// `s` with control bytes (below 0x20, and 0x7f) written as \xNN, so a name from a file
// cannot break a one-line message. Other bytes are kept as they are.
std::string PrintableName(const std::string& s);

}  // namespace embed2onnx
