#include "numerics/decode.h"

#include <cstring>

#include "numerics/half.h"

namespace embed2onnx {

int64_t DecodeToFloat(TableDType type, const void* src, float* dst, size_t n) {
  switch (type) {
    case TableDType::kBF16:
      Bf16sToFloat(static_cast<const uint16_t*>(src), dst, n);
      break;
    case TableDType::kF16:
      HalfsToFloat(static_cast<const uint16_t*>(src), dst, n);
      break;
    case TableDType::kF32:
      std::memcpy(dst, src, n * sizeof(float));
      break;
  }
  // An exponent of all ones marks NaN and inf in float32; widening keeps them so.
  uint32_t any = 0;
  for (size_t i = 0; i < n; ++i) any |= ((FloatBits(dst[i]) & 0x7f800000u) == 0x7f800000u);
  if (!any) return -1;
  for (size_t i = 0; i < n; ++i)
    if ((FloatBits(dst[i]) & 0x7f800000u) == 0x7f800000u) return static_cast<int64_t>(i);
  return -1;
}

}  // namespace embed2onnx
