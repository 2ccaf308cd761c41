// Text laid out for a terminal: display width (what a column of a table or an 80- or
// 100-column screen counts), padding by it, and wrapping at spaces.
//
// Width is counted per UTF-8 code point: East Asian wide and fullwidth characters
// (CJK, Hangul, fullwidth forms, most emoji) take 2 columns, combining marks and
// control characters 0, everything else 1. A byte that is not part of a well-formed
// sequence counts 1 column (terminals show it as one replacement character).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace embed2onnx {

size_t DisplayWidth(std::string_view s);

// `s` followed by spaces up to `width` columns (nothing added when it is wider).
std::string PadRight(std::string_view s, size_t width);
// Spaces up to `width` columns, then `s`.
std::string PadLeft(std::string_view s, size_t width);

// The longest prefix of `s` (whole code points) that fits in `width` columns.
std::string TruncateToWidth(std::string_view s, size_t width);

// Wraps each line of `text` at spaces so that no line is wider than `width` columns;
// a continuation line starts with the line's own leading spaces plus `hang` more. A
// word wider than the room left stays whole on its own line. Spacing between words is
// kept as written, except where a line breaks. Existing line breaks are kept; the result
// ends with a line break exactly when `text` does.
std::string WrapText(std::string_view text, size_t width, size_t hang = 0);

}  // namespace embed2onnx
