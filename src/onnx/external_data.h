// Where each initializer of a model lives: inline in the .onnx, or in its one sidecar.
//
// SPEC §2: tensors of 1024 bytes or more go to `<model file name>_data`, referenced by
// exactly the keys location (file name only), offset and length (exact byte size);
// smaller ones stay inline. Offsets are multiples of 64 KiB, which ONNX Runtime's mmap
// and Windows' mmap granularity both want.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>
#include <vector>

namespace embed2onnx {

inline constexpr uint64_t kExternalThreshold = 1024;
inline constexpr uint64_t kSidecarAlignment = 64 * 1024;

struct TensorPlacement {
  std::string name;
  int32_t elem_type = 0;
  std::vector<int64_t> dims;
  uint64_t byte_size = 0;
  bool external = false;
  uint64_t offset = 0;  // in the sidecar, when external
};

struct SidecarLayout {
  std::string location;  // the sidecar's file name
  std::vector<TensorPlacement> tensors;
  uint64_t sidecar_size = 0;  // 0: no tensor is external, no sidecar is written
};

// Places `tensors` (name, type, dims, byte_size filled in) in order.
SidecarLayout PlanSidecar(std::vector<TensorPlacement> tensors, const std::string& location);

// Adds the initializer to `g`: external ones carry location/offset/length and
// data_location EXTERNAL; inline ones get `raw` as raw_data (REQUIRES raw.size() ==
// byte_size for inline tensors).
void AddPlacedInitializer(onnx::GraphProto* g, const TensorPlacement& p, const std::string& location,
                          const std::string& raw);

}  // namespace embed2onnx
