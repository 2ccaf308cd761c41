// Widening a checkpoint's stored elements (BF16, F16, F32; little-endian) to float32.
// The dtype table (checkpoint/dtype.h) names which Widening each table dtype uses.
#pragma once

#include <cstddef>
#include <cstdint>

#include "embed2onnx/checkpoint.h"

namespace embed2onnx {

// Converts n elements exactly with the dtype table's widening for `type`. Returns the
// index of the first element that is NaN or +-inf, or -1 when all are finite
// (non-finite weights are an input error, SPEC §4). With `max_abs_bits`, also the
// largest |x| among them as float32 bits (NaN and inf above every finite value), found
// in the same sweep as the widening for bf16.
// REQUIRES: `type` is a table dtype (TableReader only opens those).
int64_t DecodeToFloat(TableDType type, const void* src, float* dst, size_t n,
                      uint32_t* max_abs_bits = nullptr);

}  // namespace embed2onnx
