// Widening a checkpoint's stored elements (BF16, F16, F32; little-endian) to float32.
#pragma once

#include <cstddef>
#include <cstdint>

#include "embed2onnx/checkpoint.h"

namespace embed2onnx {

// Converts n elements exactly. Returns the index of the first element that is NaN or
// +-inf, or -1 when all are finite (non-finite weights are an input error, SPEC §4).
int64_t DecodeToFloat(TableDType type, const void* src, float* dst, size_t n);

}  // namespace embed2onnx
