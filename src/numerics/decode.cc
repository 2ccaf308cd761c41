#include "numerics/decode.h"

#include <cassert>
#include <cstring>

#include "checkpoint/dtype.h"
#include "numerics/half.h"
#include "numerics/simd.h"

namespace embed2onnx {

namespace {
// An exponent of all ones marks NaN and inf in float32; widening keeps them so.
E2O_AVX2_CLONES bool AnyNonFinite(const float* v, size_t n) {
  uint32_t any = 0;
  for (size_t i = 0; i < n; ++i) any |= ((FloatBits(v[i]) & 0x7f800000u) == 0x7f800000u);
  return any != 0;
}
}  // namespace

int64_t DecodeToFloat(TableDType type, const void* src, float* dst, size_t n) {
  switch (DTypeOf(type).widen) {
    case Widening::kBf16:
      Bf16sToFloat(static_cast<const uint16_t*>(src), dst, n);
      break;
    case Widening::kF16:
      HalfsToFloat(static_cast<const uint16_t*>(src), dst, n);
      break;
    case Widening::kF32:
      std::memcpy(dst, src, n * sizeof(float));
      break;
    case Widening::kNone:
      assert(false && "TableReader opens table dtypes only");
      return 0;
  }
  if (!AnyNonFinite(dst, n)) return -1;
  for (size_t i = 0; i < n; ++i)
    if ((FloatBits(dst[i]) & 0x7f800000u) == 0x7f800000u) return static_cast<int64_t>(i);
  return -1;
}

}  // namespace embed2onnx
