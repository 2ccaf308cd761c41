#include "numerics/decode.h"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "checkpoint/dtype.h"
#include "numerics/half.h"
#include "numerics/simd.h"

namespace embed2onnx {

namespace {
// The largest |x| of n float32 values, as bits: an exponent of all ones (NaN or inf, which
// widening keeps so) is at or above 0x7f800000, every finite value below.
E2O_AVX2_CLONES uint32_t MaxAbsBits(const float* v, size_t n) {
  uint32_t m = 0;
  for (size_t i = 0; i < n; ++i) m = std::max(m, FloatBits(v[i]) & 0x7fffffffu);
  return m;
}

// bf16 widening (Bf16sToFloat's shift) and MaxAbsBits in one sweep.
E2O_AVX2_CLONES uint32_t Bf16sToFloatMaxAbs(const uint16_t* src, float* dst, size_t n) {
  uint32_t m = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t bits = static_cast<uint32_t>(src[i]) << 16;
    std::memcpy(dst + i, &bits, sizeof bits);
    m = std::max(m, bits & 0x7fffffffu);
  }
  return m;
}
}  // namespace

int64_t DecodeToFloat(TableDType type, const void* src, float* dst, size_t n, uint32_t* max_abs_bits) {
  uint32_t max_abs = 0;
  switch (DTypeOf(type).widen) {
    case Widening::kBf16:
      max_abs = Bf16sToFloatMaxAbs(static_cast<const uint16_t*>(src), dst, n);
      break;
    case Widening::kF16:
      HalfsToFloat(static_cast<const uint16_t*>(src), dst, n);
      max_abs = MaxAbsBits(dst, n);
      break;
    case Widening::kF32:
      std::memcpy(dst, src, n * sizeof(float));
      max_abs = MaxAbsBits(dst, n);
      break;
    case Widening::kNone:
      assert(false && "TableReader opens table dtypes only");
      return 0;
  }
  if (max_abs_bits) *max_abs_bits = max_abs;
  if (max_abs < 0x7f800000u) return -1;
  for (size_t i = 0; i < n; ++i)
    if ((FloatBits(dst[i]) & 0x7f800000u) == 0x7f800000u) return static_cast<int64_t>(i);
  return -1;
}

}  // namespace embed2onnx
