// Strict JSON for untrusted checkpoint metadata, and safe ways to quote what it holds.
//
// nlohmann::json is used with exceptions off for parsing; on top of it we require
// well-formed UTF-8 (so the error can say so), a top-level object, and no duplicate key
// in any object: nlohmann keeps the last of two equal keys silently, and a header that
// names a tensor twice is either broken or trying to make two readers disagree.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "embed2onnx/status.h"

namespace embed2onnx {

// Byte offset of the first ill-formed UTF-8 sequence in `s` (overlong forms, surrogates
// and code points past U+10FFFF count as ill-formed), or std::string_view::npos.
size_t FindInvalidUtf8(std::string_view s);

// Parses `text`, the `what` ("header", "index") of file `path`, into `*out`. Errors are
// Corruption "<path>: <what> is not valid UTF-8 / JSON / a JSON object / ...". Arrays
// and objects nested more than 64 levels deep are refused (no real file comes close,
// and printing such a value would recurse that deep).
Status ParseJsonObject(const std::string& path, const char* what, std::string_view text, nlohmann::json* out);

// A name from a file, fit for a terminal: control bytes, quotes and backslashes
// escaped, long names cut with "...".
std::string Escape(std::string_view name);
// Escape(name) between single quotes.
std::string Quote(std::string_view name);

// A JSON value as compact text for a message, cut at a reasonable length.
std::string DumpForMessage(const nlohmann::json& value);

// "a, b, c" (each Escape()d): at most `limit` items, then ", ... (N in all)".
std::string JoinNames(const std::vector<std::string>& names, size_t limit);

}  // namespace embed2onnx
