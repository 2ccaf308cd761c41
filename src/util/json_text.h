// Strings from the outside world in JSON: paths, tensor and initializer names, messages.
//
// On Linux a path is bytes, and names inside .onnx files (protobuf proto2 strings) are
// bytes too: either may not be UTF-8, which JSON requires and nlohmann::json enforces by
// throwing type_error 316 from dump(). Whatever we write into JSON goes through here:
//   - JsonText(s): s when it is valid UTF-8, else s with every byte that is not part of a
//     valid sequence replaced by U+FFFD: readable, and never throws when dumped;
//   - SetText(obj, key, s): obj[key] = JsonText(s), and, only when s is not valid UTF-8,
//     obj[key + "_hex"] = the hex of its bytes, so that the exact bytes survive (a path
//     read back from a report names the same file). Keys are added, never renamed;
//   - ReadText(obj, key): the exact bytes back, preferring key + "_hex" when present;
//   - DumpJson(j): j.dump() that replaces invalid UTF-8 instead of throwing, for the
//     strings that did not come through JsonText.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "embed2onnx/status.h"

namespace embed2onnx {

// Whether `s` is well-formed UTF-8 (no overlong forms, surrogates or code points above
// U+10FFFF).
bool IsValidUtf8(std::string_view s);

// `s` with each byte that does not belong to a well-formed sequence replaced by U+FFFD.
std::string JsonText(std::string_view s);

// Lower-case hex of the bytes of `s` ("ff fe" -> "fffe"), and back. FromHex refuses an
// odd length or a character that is not a hex digit (InvalidArgument naming `what`).
std::string ToHex(std::string_view s);
Result<std::string> FromHex(std::string_view hex, const std::string& what);

// The suffix SetText adds for the exact form: "checkpoint" -> "checkpoint_hex".
inline constexpr char kHexKeySuffix[] = "_hex";

// obj[key] = JsonText(s); obj[key + "_hex"] = ToHex(s) when `s` is not valid UTF-8.
void SetText(nlohmann::ordered_json& obj, const std::string& key, std::string_view s);

// The exact string SetText stored under `key` of `obj`: from key + "_hex" when that is a
// string, else obj[key]. NotFound / InvalidArgument (naming the key) when neither is a
// usable string.
Result<std::string> ReadText(const nlohmann::json& obj, const std::string& key);
Result<std::string> ReadText(const nlohmann::ordered_json& obj, const std::string& key);

// j.dump(indent) with invalid UTF-8 replaced by U+FFFD instead of throwing.
std::string DumpJson(const nlohmann::ordered_json& j, int indent = -1);
std::string DumpJson(const nlohmann::json& j, int indent = -1);

}  // namespace embed2onnx
