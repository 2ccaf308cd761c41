// Describing an .onnx file: IR and opsets, inputs and outputs with shapes, nodes in
// order, initializers with type, shape and where their bytes are (inline, or external
// with offset and length), and whether the sidecar exists and holds every range.
// Works on any model, including broken ones, as far as the protobuf parses.
#pragma once

#include <string>

#include "embed2onnx/status.h"

namespace embed2onnx {

// Returns the description as readable text, or as JSON when `json` is set.
Result<std::string> InspectModel(const std::string& onnx_path, bool json);

}  // namespace embed2onnx
