// The sharded-checkpoint index parser: the one place that turns the untrusted bytes of
// `model.safetensors.index.json` into a shard -> tensors assignment.
//
// Separate from Checkpoint::OpenIndex so that a fuzzer or a test can feed it bytes from
// memory: it opens nothing, and OpenIndex opens only the shards it returns.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "embed2onnx/status.h"

namespace embed2onnx {

// Shard file name (a plain name in the index's folder) -> the tensors the index assigns
// to it, in the order the index lists them.
using ShardAssignment = std::map<std::string, std::vector<std::string>>;

// Validates `text`, the contents of the index file `index_path`: strict JSON (see
// json_util.h), a non-empty object "weight_map" of tensor name -> shard name, every
// shard name a plain file name (not empty, no '/', '\\', "..", NUL; not ".").
// Every failure is a Corruption whose message starts with `index_path`. Never throws.
Result<ShardAssignment> ParseIndexJson(const std::string& index_path, std::string_view text);

}  // namespace embed2onnx
