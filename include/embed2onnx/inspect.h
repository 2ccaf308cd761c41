// Describing an .onnx file: IR and opsets, inputs and outputs with shapes, nodes in
// order, initializers with type, shape and where their bytes are (inline, or external
// with location, offset and length), and each sidecar: where it is, whether it exists,
// its size and whether every range fits.
//
// The file is read with the same checks as export and verify (src/onnx/onnx_model.h):
// what ONNX Runtime 1.30 refuses (a location outside the model's folder, directly, by
// "..", or through a symlink; a missing sidecar; a range past its end; an empty,
// truncated or non-ONNX file) is an error naming the file and the initializer. The
// description still covers whatever could be read before the error, so a broken file
// can be looked at; in JSON it carries "ok": false and "error". Strings from the file
// that are not UTF-8 appear readable (U+FFFD) plus exactly as "<key>_hex".
//
// Thread-safety: none needed; each call reads the files anew.
#pragma once

#include <string>

#include "embed2onnx/status.h"

namespace embed2onnx {

// Writes the description (readable text, or JSON when `json` is set) to `*out` and
// returns whether the model passed every check. `*out` is empty only when nothing could
// be read: the file is missing, not a regular file, or does not parse as ONNX.
Status InspectModel(const std::string& onnx_path, bool json, std::string* out);

// The description when the model passes every check, else the error alone.
Result<std::string> InspectModel(const std::string& onnx_path, bool json);

}  // namespace embed2onnx
