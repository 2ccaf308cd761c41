#include "numerics/decode.h"

#include <cassert>
#include <cstring>

#include "checkpoint/dtype.h"
#include "numerics/half.h"

namespace embed2onnx {

void WidenBf16(const void* src, float* dst, size_t n) {
  Bf16sToFloat(static_cast<const uint16_t*>(src), dst, n);
}

void WidenF16(const void* src, float* dst, size_t n) {
  HalfsToFloat(static_cast<const uint16_t*>(src), dst, n);
}

void WidenF32(const void* src, float* dst, size_t n) { std::memcpy(dst, src, n * sizeof(float)); }

int64_t DecodeToFloat(TableDType type, const void* src, float* dst, size_t n) {
  WidenFn widen = DTypeOf(type).to_float;
  assert(widen != nullptr);
  widen(src, dst, n);
  // An exponent of all ones marks NaN and inf in float32; widening keeps them so.
  uint32_t any = 0;
  for (size_t i = 0; i < n; ++i) any |= ((FloatBits(dst[i]) & 0x7f800000u) == 0x7f800000u);
  if (!any) return -1;
  for (size_t i = 0; i < n; ++i)
    if ((FloatBits(dst[i]) & 0x7f800000u) == 0x7f800000u) return static_cast<int64_t>(i);
  return -1;
}

}  // namespace embed2onnx
