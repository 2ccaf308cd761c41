// Levenshtein distance, for "did you mean ...?" on tier and command names.
#pragma once

#include <string_view>

namespace embed2onnx {

// Insertions, deletions and substitutions that turn `a` into `b`.
size_t EditDistance(std::string_view a, std::string_view b);

}  // namespace embed2onnx
