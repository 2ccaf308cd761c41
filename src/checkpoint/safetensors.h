// The safetensors header parser: the one place that turns untrusted header bytes into
// TensorInfo values (see include/embed2onnx/checkpoint.h for the format).
//
// Separate from Checkpoint so that a fuzzer or a test can feed it bytes from memory.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "embed2onnx/checkpoint.h"
#include "embed2onnx/status.h"

namespace embed2onnx {

// Larger headers are refused before anything is allocated. The biggest real headers
// (thousands of tensors) are a few MB; 100 MiB matches the reference implementation.
inline constexpr uint64_t kMaxSafetensorsHeaderBytes = uint64_t{100} << 20;

// Validates `header_json`, the header of the file `path` of `file_size` bytes (so the
// data area starts at 8 + header_json.size()), and returns its tensors in name order.
// Every failure is a Corruption whose message starts with `path`.
//
// Tensors whose bytes overlap are refused; gaps between tensors and bytes after the
// last one are accepted (readers ignore them, and a writer may pad for alignment).
Result<std::vector<TensorInfo>> ParseSafetensorsHeader(const std::string& path, std::string_view header_json,
                                                       uint64_t file_size);

// Opens `path`, reads and checks the header length, then the header, and parses it.
// Reads no tensor data.
Result<std::vector<TensorInfo>> ReadSafetensorsHeader(const std::string& path);

}  // namespace embed2onnx
