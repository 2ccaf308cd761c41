// Byte counts for people: "1.34 GiB", "512.0 KiB", "17 B" (binary units).
#pragma once

#include <cstdint>
#include <string>

namespace embed2onnx {

std::string HumanBytes(uint64_t bytes);

}  // namespace embed2onnx
