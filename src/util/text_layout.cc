#include "util/text_layout.h"

#include <cstdint>
#include <vector>

namespace embed2onnx {

namespace {
// Decodes the code point at s[i], advancing i; -1 for a byte that does not start a
// well-formed sequence (i then advances by one).
int32_t NextCodePoint(std::string_view s, size_t* i) {
  const auto b = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t c = b(*i);
  size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (len == 0 || *i + len > s.size()) return ++*i, -1;
  int32_t cp = len == 1 ? c : c & (0x7F >> len);
  for (size_t k = 1; k < len; ++k) {
    if ((b(*i + k) & 0xC0) != 0x80) return ++*i, -1;
    cp = (cp << 6) | (b(*i + k) & 0x3F);
  }
  static constexpr int32_t kMinOfLength[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMinOfLength[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return ++*i, -1;
  *i += len;
  return cp;
}

bool InRanges(int32_t cp, const std::pair<int32_t, int32_t>* ranges, size_t n) {
  for (size_t k = 0; k < n; ++k)
    if (cp >= ranges[k].first && cp <= ranges[k].second) return true;
  return false;
}

// Unicode's East Asian Width W and F blocks, by block rather than code point by code
// point: enough to keep a table's columns straight for the names people use.
constexpr std::pair<int32_t, int32_t> kWide[] = {
    {0x1100, 0x115F},   {0x231A, 0x231B},   {0x2329, 0x232A},   {0x23E9, 0x23EC},   {0x25FD, 0x25FE},
    {0x2614, 0x2615},   {0x2E80, 0x303E},   {0x3041, 0x33FF},   {0x3400, 0x4DBF},   {0x4E00, 0x9FFF},
    {0xA000, 0xA4CF},   {0xA960, 0xA97F},   {0xAC00, 0xD7A3},   {0xF900, 0xFAFF},   {0xFE10, 0xFE19},
    {0xFE30, 0xFE6F},   {0xFF00, 0xFF60},   {0xFFE0, 0xFFE6},   {0x16FE0, 0x18CFF}, {0x1B000, 0x1B2FF},
    {0x1F300, 0x1F64F}, {0x1F680, 0x1F6FF}, {0x1F900, 0x1F9FF}, {0x20000, 0x2FFFD}, {0x30000, 0x3FFFD},
};
constexpr std::pair<int32_t, int32_t> kZero[] = {
    {0x0000, 0x001F}, {0x007F, 0x009F}, {0x0300, 0x036F}, {0x0483, 0x0489},
    {0x0591, 0x05BD}, {0x0610, 0x061A}, {0x064B, 0x065F}, {0x200B, 0x200F},
    {0x20D0, 0x20FF}, {0xFE00, 0xFE0F}, {0xFE20, 0xFE2F},
};

size_t CodePointWidth(int32_t cp) {
  if (cp < 0) return 1;
  if (cp >= 0x20 && cp < 0x7F) return 1;
  if (InRanges(cp, kZero, std::size(kZero))) return 0;
  return InRanges(cp, kWide, std::size(kWide)) ? 2 : 1;
}
}  // namespace

size_t DisplayWidth(std::string_view s) {
  size_t w = 0;
  for (size_t i = 0; i < s.size();) w += CodePointWidth(NextCodePoint(s, &i));
  return w;
}

std::string PadRight(std::string_view s, size_t width) {
  const size_t w = DisplayWidth(s);
  return std::string(s) + std::string(w < width ? width - w : 0, ' ');
}

std::string PadLeft(std::string_view s, size_t width) {
  const size_t w = DisplayWidth(s);
  return std::string(w < width ? width - w : 0, ' ') + std::string(s);
}

std::string TruncateToWidth(std::string_view s, size_t width) {
  size_t w = 0, i = 0;
  while (i < s.size()) {
    size_t next = i;
    const size_t cw = CodePointWidth(NextCodePoint(s, &next));
    if (w + cw > width) break;
    w += cw;
    i = next;
  }
  return std::string(s.substr(0, i));
}

std::string WrapText(std::string_view text, size_t width, size_t hang) {
  std::string out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    const bool last = end == std::string_view::npos;
    if (last) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (DisplayWidth(line) <= width) {
      out += line;
    } else {
      const size_t lead = line.find_first_not_of(' ');
      const std::string indent(lead == std::string_view::npos ? 0 : lead, ' ');
      const std::string cont = indent + std::string(hang, ' ');
      std::string current = indent;
      size_t current_w = indent.size();
      bool empty = true;  // `current` holds no word yet
      size_t k = indent.size();
      while (k < line.size()) {
        const size_t gap_end = line.find_first_not_of(' ', k);
        if (gap_end == std::string_view::npos) break;  // trailing spaces go
        std::string_view gap = line.substr(k, gap_end - k);
        size_t word_end = line.find(' ', gap_end);
        if (word_end == std::string_view::npos) word_end = line.size();
        std::string_view word = line.substr(gap_end, word_end - gap_end);
        const size_t ww = DisplayWidth(word);
        if (!empty && current_w + gap.size() + ww > width) {
          out += current + "\n";
          current = cont;
          current_w = cont.size();
          empty = true;
        }
        if (!empty) current += gap, current_w += gap.size();  // the spacing as written
        current += word;
        current_w += ww;
        empty = false;
        k = word_end;
      }
      out += current;
    }
    if (last) break;
    out += '\n';
    start = end + 1;
  }
  return out;
}

}  // namespace embed2onnx
