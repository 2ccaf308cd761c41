#include "util/json_text.h"

#include <cstdint>

namespace embed2onnx {

namespace {
constexpr char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD

// Length of the well-formed UTF-8 sequence starting at s[i], or 0 if there is none
// (Unicode 15, table 3-7).
size_t SequenceLength(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t b0 = byte(i);
  if (b0 < 0x80) return 1;
  size_t n;
  uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    if (b0 == 0xE0) lo = 0xA0;  // overlong
    if (b0 == 0xED) hi = 0x9F;  // surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    if (b0 == 0xF0) lo = 0x90;  // overlong
    if (b0 == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (s.size() - i < n) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k)
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  return n;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

template <typename Json>
Result<std::string> ReadTextImpl(const Json& obj, const std::string& key) {
  if (!obj.is_object()) return Status::InvalidArgument(key + ": not inside a JSON object");
  const std::string hex_key = key + kHexKeySuffix;
  auto hex = obj.find(hex_key);
  if (hex != obj.end() && hex->is_string())
    return FromHex(hex->template get_ref<const std::string&>(), hex_key);
  auto plain = obj.find(key);
  if (plain == obj.end()) return Status::NotFound(key + ": missing");
  if (!plain->is_string()) return Status::InvalidArgument(key + ": not a string");
  return plain->template get<std::string>();
}
}  // namespace

bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t n = SequenceLength(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string JsonText(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    size_t n = SequenceLength(s, i);
    if (n == 0) {
      out += kReplacement;
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string ToHex(std::string_view s) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * s.size());
  for (char c : s) {
    const auto b = static_cast<uint8_t>(c);
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

Result<std::string> FromHex(std::string_view hex, const std::string& what) {
  if (hex.size() % 2 != 0)
    return Status::InvalidArgument(what + ": hex of odd length " + std::to_string(hex.size()));
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = HexDigit(hex[i]), lo = HexDigit(hex[i + 1]);
    if (hi < 0 || lo < 0)
      return Status::InvalidArgument(what + ": not a hex digit at position " +
                                     std::to_string(hi < 0 ? i : i + 1));
    out += static_cast<char>(hi * 16 + lo);
  }
  return out;
}

void SetText(nlohmann::ordered_json& obj, const std::string& key, std::string_view s) {
  obj[key] = JsonText(s);
  if (!IsValidUtf8(s)) obj[key + kHexKeySuffix] = ToHex(s);
}

Result<std::string> ReadText(const nlohmann::json& obj, const std::string& key) {
  return ReadTextImpl(obj, key);
}
Result<std::string> ReadText(const nlohmann::ordered_json& obj, const std::string& key) {
  return ReadTextImpl(obj, key);
}

std::string DumpJson(const nlohmann::ordered_json& j, int indent) {
  return j.dump(indent, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}
std::string DumpJson(const nlohmann::json& j, int indent) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace embed2onnx
