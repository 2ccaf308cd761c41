// Describing a checkpoint before exporting it: every tensor (name, dtype, shape, bytes,
// the shard that holds it), the one export would take as the embedding table and why
// (or why it would take none), and what config.json says of the table.
#pragma once

#include <string>

#include "embed2onnx/status.h"

namespace embed2onnx {

// `path` is a checkpoint folder, a .safetensors file or a model.safetensors.index.json.
// Returns readable text, or one JSON document when `json` is set. Fails only when the
// checkpoint cannot be opened (the error names the file); a table that cannot be picked
// is part of the description.
Result<std::string> InspectCheckpoint(const std::string& path, bool json);

// Whether `path` names a checkpoint (a folder, *.safetensors or *.index.json) rather than an
// .onnx file: what `embed2onnx inspect` uses to choose.
bool LooksLikeCheckpoint(const std::string& path);

}  // namespace embed2onnx
