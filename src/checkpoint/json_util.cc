#include "checkpoint/json_util.h"

#include <cstdint>
#include <set>

namespace embed2onnx {

namespace {
constexpr size_t kMaxQuotedBytes = 160;
constexpr size_t kMaxDumpBytes = 120;
// nlohmann parses and frees any depth without recursion, but dump() recurses: a
// header of millions of nested brackets, shown in a message, overflowed the stack
// (found while writing fuzz/; the fuzzers' inputs are too short to reach it). Real
// headers and indexes nest 3 levels.
constexpr int kMaxDepth = 64;

// Cuts `s` to at most `max` bytes without splitting a UTF-8 sequence.
std::string_view CutUtf8(std::string_view s, size_t max) {
  if (s.size() <= max) return s;
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return s.substr(0, end);
}
}  // namespace

size_t FindInvalidUtf8(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2, cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3, cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4, cp = c & 0x07;
    } else {
      return i;  // a continuation byte first, C0/C1 (always overlong), or F5..FF
    }
    if (n - i < len) return i;
    for (size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) return i;
    if (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) return i;
    i += len;
  }
  return std::string_view::npos;
}

Status ParseJsonObject(const std::string& path, const char* what, std::string_view text,
                       nlohmann::json* out) {
  const std::string where = path + ": " + what;
  if (size_t bad = FindInvalidUtf8(text); bad != std::string_view::npos) {
    return Status::Corruption(where + " is not valid UTF-8 (bad byte at offset " + std::to_string(bad) + ")");
  }
  // One set of keys per open object; the innermost is at the back.
  std::vector<std::set<std::string>> open_objects;
  std::string duplicate;
  bool has_duplicate = false;
  bool too_deep = false;
  nlohmann::json::parser_callback_t watch = [&](int depth, nlohmann::json::parse_event_t event,
                                                nlohmann::json& parsed) {
    using Event = nlohmann::json::parse_event_t;
    if (depth > kMaxDepth) {
      too_deep = true;
      return false;  // drop the value: the tree we keep stays shallow
    }
    if (event == Event::object_start) {
      open_objects.emplace_back();
    } else if (event == Event::object_end) {
      if (!open_objects.empty()) open_objects.pop_back();
    } else if (event == Event::key && !open_objects.empty() && parsed.is_string()) {
      const auto& key = parsed.get_ref<const std::string&>();
      if (!open_objects.back().insert(key).second && !has_duplicate) {
        has_duplicate = true;
        duplicate = key;
      }
    }
    return true;
  };
  nlohmann::json parsed = nlohmann::json::parse(text.begin(), text.end(), watch, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return Status::Corruption(where + " is not valid JSON");
  if (!parsed.is_object()) return Status::Corruption(where + " is not a JSON object");
  if (too_deep) {
    return Status::Corruption(where + " nests arrays or objects more than " + std::to_string(kMaxDepth) +
                              " levels deep");
  }
  if (has_duplicate) return Status::Corruption(where + " has a duplicate key " + Quote(duplicate));
  *out = std::move(parsed);
  return Status::Ok();
}

std::string Escape(std::string_view name) {
  std::string_view shown = CutUtf8(name, kMaxQuotedBytes);
  std::string out;
  for (char ch : shown) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\'' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20 || c == 0x7F) {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    } else {
      out += ch;
    }
  }
  if (shown.size() < name.size()) out += "...";
  return out;
}

std::string Quote(std::string_view name) {
  std::string out = "'";  // appended, not "'" + ...: GCC 12 -Wrestrict false positive
  out += Escape(name);
  out += '\'';
  return out;
}

std::string DumpForMessage(const nlohmann::json& value) {
  std::string text = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string_view shown = CutUtf8(text, kMaxDumpBytes);
  if (shown.size() < text.size()) return std::string(shown) + "...";
  return text;
}

std::string JoinNames(const std::vector<std::string>& names, size_t limit) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < limit; ++i) {
    if (i > 0) out += ", ";
    out += Escape(names[i]);
  }
  if (names.size() > limit) out += ", ... (" + std::to_string(names.size()) + " in all)";
  return out;
}

}  // namespace embed2onnx
